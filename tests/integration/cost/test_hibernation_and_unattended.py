"""Issue 20, items 4 and 5, end to end on the simulator: the state machine runs the real handlers,
then the monthly digest function reads the reports on the 1st.
- A month-end reset of a compute type that does not hibernate is held on ALWAYS_ON by default
  (NoHibernationTypes=KeepAlwaysOn) and made, with its reason saying what its users lose, under
  ConvertToAutoStop; the digest says both.
- An AUTO_STOP WorkSpace that never stops (a client AutoStop cannot see) is found with its
  hours with nobody connected, and the digest sums them with what they cost; its billable hours
  and decision are those of the same use on a WorkSpace that stops."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.conftest import ACCOUNT, REGION
from tests.integration.conftest import read_report
from tests.integration.cost.test_daily_optimization import by_name
from tests.integration.digest.test_monthly_digest import SCHEDULED, digest, page
from tests.support import simulator
from tools.local_run import run_daily
from ws_autopilot.cost.hibernation import KEPT_PREFIX

MONTH_END = datetime(2026, 11, 30, 12, 5, tzinfo=UTC)  # the month-end run: window to 12:00
PRICED = {"os": "WINDOWS_SERVER_2022"}  # what DescribeWorkspaces needs to report for a price
LIGHT_USERS = {
    "gpu": {"mode": "ALWAYS_ON", "compute": "GRAPHICS_G4DN", "profile": "part_time", **PRICED},
    "big": {"mode": "ALWAYS_ON", "compute": "GENERALPURPOSE_8XLARGE", "profile": "part_time"},
    "plain": {"mode": "ALWAYS_ON", "compute": "STANDARD", "profile": "part_time", **PRICED},
}
NO_HIBERNATION = ("gpu", "big")


def test_by_default_a_reset_of_a_type_that_does_not_hibernate_is_held_and_the_digest_lists_it(
    aws, make_fleet, deploy
):
    fleet = make_fleet(LIGHT_USERS, MONTH_END)
    stack = deploy(DryRun="false", ExtraThresholds="GENERALPURPOSE_8XLARGE=120")

    output, _ = run_daily(stack.state_machine, MONTH_END)

    report = by_name(fleet, read_report(aws["s3"], output)[0])
    assert {name: row["action"] for name, row in report.items()} == {
        "gpu": "skipped",
        "big": "skipped",
        "plain": "to_auto_stop",
    }
    for name in NO_HIBERNATION:
        assert report[name]["reason"].startswith(KEPT_PREFIX), name
        assert "(NoHibernationTypes=KeepAlwaysOn; ConvertToAutoStop converts it)" in report[name]["reason"]
        assert simulator.modifications(ACCOUNT, REGION, fleet.ids[name]) == []
        assert fleet.mode(name) == report[name]["running_mode_after"] == "ALWAYS_ON"
    # priced from the simulator's Price List: the reason says what the reset would have saved
    assert "AUTO_STOP would save $" in report["gpu"]["reason"]
    assert " in December 2026 at this use" in report["gpu"]["reason"]
    assert "does not hibernate" not in report["plain"]["reason"]

    body = digest(stack, SCHEDULED)
    html, _ = page(aws, stack)
    assert (body["no_hibernation_kept"], body["no_hibernation_resets"]) == (2, 0)
    assert "Kept ALWAYS_ON: they do not hibernate" in html
    assert fleet.ids["gpu"] in html and fleet.ids["big"] in html


def test_under_convert_to_auto_stop_the_reset_is_made_and_says_what_its_users_lose(aws, make_fleet, deploy):
    fleet = make_fleet(LIGHT_USERS, MONTH_END)
    stack = deploy(
        DryRun="false", ExtraThresholds="GENERALPURPOSE_8XLARGE=120", NoHibernationTypes="ConvertToAutoStop"
    )

    output, _ = run_daily(stack.state_machine, MONTH_END)

    report = by_name(fleet, read_report(aws["s3"], output)[0])
    assert {name: row["action"] for name, row in report.items()} == dict.fromkeys(LIGHT_USERS, "to_auto_stop")
    for name, compute in (("gpu", "GRAPHICS_G4DN"), ("big", "GENERALPURPOSE_8XLARGE")):
        assert report[name]["reason"].startswith("month-end reset: billable ")
        assert report[name]["reason"].endswith(
            f"; {compute} does not hibernate: its open applications and unsaved work are lost each"
            " time it stops after the AutoStop timeout (NoHibernationTypes=ConvertToAutoStop)"
        )
        assert [m["RunningMode"] for m in simulator.modifications(ACCOUNT, REGION, fleet.ids[name])] == [
            "AUTO_STOP"
        ]

    body = digest(stack, SCHEDULED)
    html, _ = page(aws, stack)
    assert (body["no_hibernation_resets"], body["no_hibernation_kept"]) == (2, 0)
    assert "Reset to AUTO_STOP although they do not hibernate" in html
    assert "2 of the resets are of a compute type that does not hibernate" in html


@pytest.fixture
def running(aws, make_fleet, deploy):
    fleet = make_fleet(
        {
            "never_stops": {"mode": "AUTO_STOP", "profile": "never_stops", **PRICED},
            "stops": {"mode": "AUTO_STOP", "profile": "office", **PRICED},
            "maintenance": {"mode": "AUTO_STOP", "profile": "office_with_maintenance", **PRICED},
            "always_on": {"mode": "ALWAYS_ON", "profile": "office", **PRICED},
        },
        MONTH_END,
    )
    stack = deploy(DryRun="true")
    output, _ = run_daily(stack.state_machine, MONTH_END)
    return fleet, stack, by_name(fleet, read_report(aws["s3"], output)[0])


def test_an_auto_stop_workspace_that_never_stops_is_found_with_its_hours(running):
    _, _, report = running
    # 708 hours to 12:00 on the 30th; each of the 20 office weekdays explains 08:00-18:59 (the
    # start, 8 connected hours, the AutoStop hour and AWS's stop), Monday the 30th 08:00-11:59
    assert report["never_stops"]["unattended_hours"] == str(708 - 20 * 11 - 4)
    assert report["maintenance"]["unattended_hours"] == "5"  # Monday 16 November, 00:00-05:00
    assert report["stops"]["unattended_hours"] == "0"
    assert report["always_on"]["unattended_hours"] == ""  # billed monthly: not counted
    # report only: billable hours and the decision are those of the same use on one that stops
    for column in ("billable_hours", "action", "reason", "saving_next_month"):
        assert report["never_stops"][column] == report["stops"][column] == report["maintenance"][column]


def test_the_digest_sums_the_hours_with_what_they_cost(aws, running):
    fleet, stack, _ = running
    body = digest(stack, SCHEDULED)
    html, _ = page(aws, stack)
    # Standard, Windows licence included, us-east-1: $0.30 an hour
    assert (body["unattended_workspaces"], body["unattended_hours"]) == (2, 489)
    assert body["unattended_cost_usd"] == "146.70"
    assert "2 WorkSpaces, 489 hours, <strong>$146.70</strong> in November 2026" in html
    # in the section's table, the most hours first (the ids appear in other sections too, in
    # orders of their own)
    section = html[html.index("running with nobody connected</h2>") :]
    assert section.index(fleet.ids["never_stops"]) < section.index(fleet.ids["maintenance"])
    assert ">$145.20</td>" in html
