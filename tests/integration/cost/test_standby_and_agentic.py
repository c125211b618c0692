"""Standby WorkSpaces (multi-region resilience) and agentic WorkSpaces end to end: the state
machine definition drives the real handlers against the simulator, where the standby was made
with CreateStandbyWorkspaces from a primary in another region and the agentic WorkSpace with a
persona configuration. Neither is ever modified; the report says why and what each one is."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.conftest import ACCOUNT, REGION
from tests.integration.conftest import read_report
from tests.integration.cost.test_daily_optimization import by_name
from tests.support import simulator
from tools.local_run import run_daily
from ws_autopilot.cost.rules import AGENTIC_REASON, STANDBY_REASON

LAST_DAY = datetime(2026, 11, 30, 21, 5, tzinfo=UTC)
MID_MONTH = datetime(2026, 11, 18, 21, 5, tzinfo=UTC)
AGENT = {"agentic": True, "compute": "POWER", "os": "WINDOWS_SERVER_2025"}  # a bundle agents may use
FLEET = {
    # each would be converted were it a person's WorkSpace with no related WorkSpace
    "standby_busy": {"mode": "AUTO_STOP", "profile": "office", "standby": True},
    "standby_idle": {"mode": "ALWAYS_ON", "profile": "idle", "standby": True, "state": "STOPPED"},
    "agent_busy": {"mode": "AUTO_STOP", "profile": "office", **AGENT},
    "agent_idle": {"mode": "ALWAYS_ON", "profile": "idle", **AGENT},
    # a primary with its standby elsewhere, and a plain WorkSpace: judged as ever
    "primary_busy": {"mode": "AUTO_STOP", "profile": "office", "has_standby": True},
    "personal_idle": {"mode": "ALWAYS_ON", "profile": "idle"},
}
SET_ASIDE = ("standby_busy", "standby_idle", "agent_busy", "agent_idle")


def test_standby_and_agentic_workspaces_are_never_converted_and_the_report_says_what_they_are(
    aws, make_fleet, deploy
):
    fleet = make_fleet(FLEET, LAST_DAY)
    stack = deploy(DryRun="false")

    output, _ = run_daily(stack.state_machine, LAST_DAY)

    rows, summary = read_report(aws["s3"], output)
    report = by_name(fleet, rows)
    assert len(rows) == len(FLEET)  # every WorkSpace exactly once
    assert {
        name: (row["action"], row["workspace_role"], row["workspace_category"])
        for name, row in report.items()
    } == {
        "standby_busy": ("skipped", "STANDBY", "PERSONAL"),
        "standby_idle": ("skipped", "STANDBY", "PERSONAL"),
        "agent_busy": ("skipped", "", "AGENTIC"),
        "agent_idle": ("skipped", "", "AGENTIC"),
        "primary_busy": ("to_always_on", "PRIMARY", "PERSONAL"),
        "personal_idle": ("to_auto_stop", "", "PERSONAL"),
    }
    for name in SET_ASIDE:
        assert simulator.modifications(ACCOUNT, REGION, fleet.ids[name]) == [], name
        assert report[name]["reason"] == (STANDBY_REASON if name.startswith("standby") else AGENTIC_REASON)
        assert report[name]["running_mode_after"] == report[name]["running_mode_before"]
        unjudged = ("billable_hours", "threshold", "threshold_source", "prices", "month_cost")
        assert {column: report[name][column] for column in unjudged} == dict.fromkeys(unjudged, ""), name
    assert fleet.mode("standby_busy") == fleet.mode("agent_busy") == "AUTO_STOP"
    assert fleet.mode("standby_idle") == fleet.mode("agent_idle") == "ALWAYS_ON"
    assert fleet.mode("primary_busy") == "ALWAYS_ON"
    assert [
        m["RunningMode"] for m in simulator.modifications(ACCOUNT, REGION, fleet.ids["personal_idle"])
    ] == ["AUTO_STOP"]
    assert summary["actions"] == {"to_always_on": 1, "to_auto_stop": 1, "none": 0, "skipped": 4, "error": 0}


def test_mid_month_a_busy_agentic_workspace_is_not_switched_to_always_on_either(aws, make_fleet, deploy):
    fleet = make_fleet({"agent": {"mode": "AUTO_STOP", "profile": "around_the_clock", **AGENT}}, MID_MONTH)
    stack = deploy(DryRun="false", ConversionTiming="Threshold")

    output, _ = run_daily(stack.state_machine, MID_MONTH)

    (row,) = read_report(aws["s3"], output)[0]
    assert (row["action"], row["reason"], row["workspace_category"]) == ("skipped", AGENTIC_REASON, "AGENTIC")
    assert simulator.modifications(ACCOUNT, REGION, fleet.ids["agent"]) == []
