"""The digest's sections on how AUTO_STOP WorkSpaces run (issue 20, items 4 and 5): the hours
they ran with nobody connected, summed with their cost from the final view, and the month-end
resets of compute types that do not hibernate, made (noted) or held on ALWAYS_ON."""

from dataclasses import replace
from decimal import Decimal

from tests.unit.digest.test_digest import NOW, STANDARD, build, csv_lines, row, run
from ws_autopilot.cost.hibernation import KEPT_PREFIX
from ws_autopilot.cost.models import Action
from ws_autopilot.digest.content import render
from ws_autopilot.digest.rows import read_rows


def test_hours_with_nobody_connected_are_summed_from_the_final_view_with_their_cost():
    final = [
        row("ws-never-stops", unattended_hours=470, **STANDARD),  # p = 0.30
        row("ws-maintenance", unattended_hours=5, **STANDARD),
        row("ws-unpriced", unattended_hours=12),
        row("ws-fine", unattended_hours=0, **STANDARD),
        row("ws-always-on", running_mode_before="ALWAYS_ON"),
    ]
    runs = {run(29): [row("ws-gone", unattended_hours=300, **STANDARD)], run(30, 21): final}
    digest = build(runs).digest(NOW)
    found = digest.unattended
    assert (found.workspaces, found.hours, found.unpriced_hours) == (3, 487, 12)
    assert found.cost == Decimal("142.50")  # (470 + 5) x 0.30; ws-gone is not in the final view
    assert [r.workspace_id for r in found.listed()] == ["ws-never-stops", "ws-unpriced", "ws-maintenance"]
    summary = digest.summary()
    assert (summary["unattended_workspaces"], summary["unattended_hours"]) == (3, 487)
    assert summary["unattended_cost_usd"] == "142.50"
    page = render(digest)
    assert "AUTO_STOP WorkSpaces running with nobody connected" in page
    assert "3 WorkSpaces, 487 hours, <strong>$142.50</strong> in November 2026" in page
    assert "(12 hours without prices not included)" in page
    assert ">470</td>" in page and ">$141.00</td>" in page


def test_the_ten_with_most_hours_are_listed_and_the_rest_counted():
    final = [row(f"ws-{n:02d}", unattended_hours=n + 1, **STANDARD) for n in range(12)]
    digest = build({run(30): final}).digest(NOW)
    assert [r.workspace_id for r in digest.unattended.listed()] == [f"ws-{n:02d}" for n in range(11, 1, -1)]
    assert "and 2 more in the report (column unattended_hours)." in render(digest)


def test_a_month_without_such_hours_says_none():
    digest = build({run(30): [row("ws-1", unattended_hours=0)]}).digest(NOW)
    assert digest.unattended.workspaces == 0 and digest.unattended.cost is None
    assert digest.summary()["unattended_cost_usd"] is None
    assert "None in the final report." in render(digest)


def test_reports_written_before_the_column_read_it_as_none():
    lines = csv_lines(row("ws-1")).getvalue().splitlines()
    header = lines[0].removesuffix(',"unattended_hours"')
    body = lines[1].removesuffix(",")
    (read,) = read_rows([header, body])
    assert read.unattended_hours is None


def test_resets_of_types_that_do_not_hibernate_are_named_and_held_ones_listed_with_their_reason():
    noted = row(
        "ws-gpu",
        Action.TO_AUTO_STOP,
        compute_type="GRAPHICS_G4DN",
        running_mode_before="ALWAYS_ON",
        reason="month-end reset: ...; GRAPHICS_G4DN does not hibernate: ...",
        saving_next_month=Decimal("897.03"),
    )
    plain = replace(noted, workspace_id="ws-std", compute_type="STANDARD", reason="month-end reset")
    kept = row(
        "ws-big",
        Action.SKIPPED,
        compute_type="GENERALPURPOSE_8XLARGE",
        running_mode_before="ALWAYS_ON",
        reason=f"{KEPT_PREFIX}GENERALPURPOSE_8XLARGE does not hibernate, so ... would save $310.00 ...",
    )
    other_skip = row("ws-tag", Action.SKIPPED, compute_type="GRAPHICS_G4DN", reason="Skip_Convert tag")
    digest = build({run(30, 12): [noted, plain, kept, other_skip]}).digest(NOW)
    assert [r.workspace_id for r in digest.no_hibernation_resets] == ["ws-gpu"]
    assert [r.workspace_id for r in digest.kept_always_on] == ["ws-big"]
    assert (digest.summary()["no_hibernation_resets"], digest.summary()["no_hibernation_kept"]) == (1, 1)
    page = render(digest)
    assert "Reset to AUTO_STOP although they do not hibernate" in page
    assert "1 of the resets is of a compute type that does not hibernate" in page
    assert ">$897.03</td>" in page
    assert "Kept ALWAYS_ON: they do not hibernate" in page
    assert "would save $310.00" in page


def test_without_such_resets_the_page_has_no_hibernation_section():
    page = render(
        build({run(30): [row("ws-1", Action.TO_AUTO_STOP, running_mode_before="ALWAYS_ON")]}).digest(NOW)
    )
    assert "do not hibernate" not in page
