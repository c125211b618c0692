"""Memory across runs as a pure policy: what a WorkSpace's ledger entry for the month means for
today's decision (billing rules, "Memory across runs")."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from ws_autopilot.core.claims import CLAIM_STALE_AFTER, LedgerStatus, ledger_month
from ws_autopilot.core.models import Workspace
from ws_autopilot.cost.ledger import LedgerEntry, RecallStep, recall
from ws_autopilot.cost.models import Action, Decision
from ws_autopilot.cost.rules import mark_if_late

NOW = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)
LISTED = NOW - timedelta(seconds=30)
TO_ALWAYS_ON = Decision(Action.TO_ALWAYS_ON, "billable 126 h > threshold 85 h", 126, 85)
TO_AUTO_STOP = Decision(Action.TO_AUTO_STOP, "month-end reset: billable 84 h <= threshold 85 h", 84, 85)
NONE = Decision(Action.NONE, "ALWAYS_ON is converted only on the last day of the month", 84, 85)


def ws(mode: str) -> Workspace:
    return Workspace(
        "ws-1", "d-1", "alice", "AVAILABLE", mode, "STANDARD", 120 if mode == "AUTO_STOP" else None
    )


def entry(run_id: str = "scheduled", status: LedgerStatus = LedgerStatus.DONE, **changes) -> LedgerEntry:
    made = LedgerEntry(
        workspace_id="ws-1",
        directory_id="d-1",
        month="2026-11",
        from_mode="AUTO_STOP",
        to_mode="ALWAYS_ON",
        run_id=run_id,
        status=status,
        claimed_at=datetime(2026, 11, 30, 21, 6, tzinfo=UTC),
        reason="billable 126 h > threshold 85 h",
        billable_hours=126,
        threshold=85,
        done_at=datetime(2026, 11, 30, 21, 6, 1, tzinfo=UTC) if status is LedgerStatus.DONE else None,
    )
    return replace(made, **changes)


def test_no_entry_a_conversion_is_claimed_and_anything_else_left_as_decided():
    assert recall(TO_ALWAYS_ON, ws("AUTO_STOP"), None, "run", NOW, LISTED).step is RecallStep.CLAIM
    assert recall(NONE, ws("ALWAYS_ON"), None, "run", NOW, LISTED) == (
        recall(NONE, ws("ALWAYS_ON"), None, "run", NOW, LISTED)
    )
    assert recall(NONE, ws("ALWAYS_ON"), None, "run", NOW, LISTED).step is RecallStep.NOTHING


def test_a_second_run_does_not_reverse_a_conversion_of_this_month():
    # converted to ALWAYS_ON with G = 2; judged as ALWAYS_ON with G = 1 it looks like a reset
    got = recall(TO_AUTO_STOP, ws("ALWAYS_ON"), entry(), "manual", NOW, LISTED)
    assert got.step is RecallStep.NOTHING
    assert got.decision.action is Action.NONE
    assert got.decision.reason == (
        "converted to ALWAYS_ON by run scheduled at 2026-11-30 21:06 UTC; not converted again this month"
    )


def test_a_second_run_leaves_a_non_conversion_as_the_rules_gave_it():
    assert recall(NONE, ws("ALWAYS_ON"), entry(), "manual", NOW, LISTED).decision == NONE


def test_a_retried_batch_reports_the_conversion_it_made_and_changes_nothing():
    got = recall(TO_AUTO_STOP, ws("ALWAYS_ON"), entry(), "scheduled", NOW, LISTED)
    assert got.step is RecallStep.RECORDED
    assert got.mode_after == "ALWAYS_ON"
    assert got.made_at == entry().done_at, "so a retried late reset is still reported late"
    assert got.decision.action is Action.TO_ALWAYS_ON
    assert (got.decision.billable_hours, got.decision.threshold) == (126, 85)
    assert got.decision.reason.endswith(
        "(converted by this run at 2026-11-30 21:06 UTC; batch retried, not changed again)"
    )


def test_this_runs_claim_without_the_change_is_carried_out_on_retry():
    got = recall(TO_ALWAYS_ON, ws("AUTO_STOP"), entry(status=LedgerStatus.CLAIMED), "scheduled", NOW, LISTED)
    assert (got.step, got.decision.action) == (RecallStep.RESUME, Action.TO_ALWAYS_ON)


@pytest.mark.parametrize("status", [LedgerStatus.DONE, LedgerStatus.CLAIMED])
def test_a_retried_conversion_keeps_the_hours_its_use_rate_is_taken_over(status):
    # the row's dollars project at billable hours per measured hour: a retry must not lose them
    judged = replace(TO_ALWAYS_ON, measured_hours=717)
    mode = "ALWAYS_ON" if status is LedgerStatus.DONE else "AUTO_STOP"
    got = recall(judged, ws(mode), entry(status=status), "scheduled", NOW, LISTED)
    assert got.step in (RecallStep.RECORDED, RecallStep.RESUME)
    assert got.decision.measured_hours == 717


def test_another_runs_fresh_claim_is_left_to_it():
    claim = entry(status=LedgerStatus.CLAIMED, claimed_at=NOW - CLAIM_STALE_AFTER + timedelta(seconds=1))
    got = recall(TO_ALWAYS_ON, ws("AUTO_STOP"), claim, "other", NOW, LISTED - timedelta(minutes=20))
    assert (got.step, got.decision.action) == (RecallStep.NOTHING, Action.NONE)
    assert got.decision.reason.startswith("being converted to ALWAYS_ON by run scheduled")


def test_a_stale_claim_of_a_dead_invocation_is_taken_over():
    claim = entry(status=LedgerStatus.CLAIMED, claimed_at=NOW - CLAIM_STALE_AFTER)
    got = recall(TO_ALWAYS_ON, ws("AUTO_STOP"), claim, "other", NOW, LISTED)
    assert (got.step, got.decision) == (RecallStep.TAKE_OVER, TO_ALWAYS_ON)


@pytest.mark.parametrize("decision", [TO_ALWAYS_ON, NONE])
def test_a_mode_changed_by_hand_after_the_conversion_is_left_alone(decision):
    got = recall(decision, ws("AUTO_STOP"), entry(), "day-30", NOW, LISTED)
    assert (got.step, got.decision.action) == (RecallStep.NOTHING, Action.SKIPPED)
    assert got.decision.reason == (
        "running mode changed to AUTO_STOP by someone else after run scheduled converted it to "
        "ALWAYS_ON at 2026-11-30 21:06 UTC; left alone until next month"
    )


def test_a_listing_older_than_the_conversion_is_not_taken_for_a_hand_change():
    listed_before = entry().done_at - timedelta(seconds=1)
    got = recall(TO_ALWAYS_ON, ws("AUTO_STOP"), entry(), "overlapping", NOW, listed_before)
    assert (got.step, got.decision.action) == (RecallStep.NOTHING, Action.NONE)
    assert got.decision.reason.startswith("converted to ALWAYS_ON by run scheduled")


def test_the_ledger_month_is_the_run_days():
    assert ledger_month(date(2026, 11, 30)) == "2026-11"


def test_a_reset_made_after_midnight_is_marked_late_and_names_the_month_it_is_billed_for():
    late = mark_if_late(TO_AUTO_STOP, date(2026, 11, 30), datetime(2026, 12, 1, 0, 0, 5, tzinfo=UTC))
    assert late.late
    assert late.reason == (
        "month-end reset: billable 84 h <= threshold 85 h "
        "(late: made after 00:00 UTC on the 1st, billed monthly for December 2026 all the same)"
    )
    assert mark_if_late(TO_AUTO_STOP, date(2026, 11, 30), datetime(2026, 11, 30, 23, 59, tzinfo=UTC)) == (
        TO_AUTO_STOP
    )
    assert mark_if_late(NONE, date(2026, 11, 30), datetime(2026, 12, 1, 1, tzinfo=UTC)) == NONE


def test_a_switch_to_always_on_made_after_midnight_is_late_and_names_the_fee_it_costs():
    late = mark_if_late(TO_ALWAYS_ON, date(2026, 11, 30), datetime(2026, 12, 1, 0, 1, tzinfo=UTC))
    assert late.late
    assert late.reason == (
        "billable 126 h > threshold 85 h "
        "(late: made after 00:00 UTC on the 1st, December 2026 pays the AUTO_STOP monthly fee as well)"
    )
    on_time = datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC)
    assert mark_if_late(TO_ALWAYS_ON, date(2026, 11, 30), on_time) == TO_ALWAYS_ON


# --- A change whose response was lost (status unknown): the next listing settles it


def test_an_unknown_outcome_the_listing_shows_made_is_settled_done_and_not_converted_again():
    lost = entry("scheduled", LedgerStatus.UNKNOWN)
    # another run, the next day: the WorkSpace shows ALWAYS_ON, so the change was made
    later = recall(NONE, ws("ALWAYS_ON"), lost, "next-day", NOW, LISTED)
    assert (later.step, later.settles, later.settled_made) == (RecallStep.NOTHING, lost, True)
    assert later.decision == NONE
    # the same run's retried batch reports the conversion it made, changing nothing
    retried = recall(TO_ALWAYS_ON, ws("ALWAYS_ON"), lost, "scheduled", NOW, LISTED)
    assert (retried.step, retried.decision.action, retried.settled_made) == (
        RecallStep.RECORDED,
        Action.TO_ALWAYS_ON,
        True,
    )
    assert retried.made_at == lost.claimed_at


def test_an_unknown_outcome_the_listing_shows_not_made_is_released_and_decided_afresh():
    lost = entry("scheduled", LedgerStatus.UNKNOWN)
    again = recall(TO_ALWAYS_ON, ws("AUTO_STOP"), lost, "next-day", NOW, LISTED)
    assert (again.step, again.decision, again.settles, again.settled_made) == (
        RecallStep.CLAIM,
        TO_ALWAYS_ON,
        lost,
        False,
    )
    quiet = recall(NONE, ws("AUTO_STOP"), lost, "next-day", NOW, LISTED)
    assert (quiet.step, quiet.settles, quiet.settled_made) == (RecallStep.NOTHING, lost, False)


def test_entries_of_known_outcome_settle_nothing():
    for status in (LedgerStatus.CLAIMED, LedgerStatus.DONE):
        assert recall(NONE, ws("ALWAYS_ON"), entry("scheduled", status), "next", NOW, LISTED).settles is None
