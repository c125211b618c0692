"""Unused WorkSpaces as pure policy (unused.py): the window, who is looked at, the verdict from the
three sources, what may be done on a month's last day, the tags, and the ledger's memory."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ws_autopilot.core.claims import CLAIM_STALE_AFTER, LedgerStatus
from ws_autopilot.core.errors import ConfigurationError
from ws_autopilot.core.models import DailyUsage, HourlyUsage, MetricsUnavailable, TagsUnavailable, Workspace
from ws_autopilot.unused.policy import (
    TERMINATE_CONFIRMATION,
    ActionEntry,
    Evidence,
    Judgement,
    Memory,
    Sighting,
    UnusedPlan,
    UnusedPolicy,
    UnusedStep,
    Verdict,
    check_tags,
    dry_run_text,
    history_sighting,
    is_candidate,
    judge,
    login_sighting,
    plan,
    recall_action,
    report_text,
    window_start,
)
from ws_autopilot.unused.settings import UnusedSettings

LAST_DAY = date(2026, 11, 30)
MID_MONTH = date(2026, 11, 18)
START = datetime(2026, 9, 30, tzinfo=UTC)  # 2 months before the last day
NOW = datetime(2026, 11, 30, 12, 30, tzinfo=UTC)


def ws(state: str = "AVAILABLE", mode: str = "AUTO_STOP", **changes) -> Workspace:
    return replace(Workspace("ws-1", "d-1", "alice", state, mode, "STANDARD", 60), **changes)


UNUSED_AND_OLD = Judgement(Verdict.UNUSED, datetime(2026, 8, 1, tzinfo=UTC), existed_before_window=True)


# -- the window -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("run_day", "months", "start"),
    [
        (date(2026, 11, 30), 2, date(2026, 9, 30)),
        (date(2026, 4, 30), 2, date(2026, 2, 28)),  # no 30 February: the month's last day
        (date(2026, 3, 31), 1, date(2026, 2, 28)),
        (date(2028, 3, 31), 1, date(2028, 2, 29)),  # leap year
        (date(2026, 1, 15), 2, date(2025, 11, 15)),  # across a year
        (date(2026, 12, 31), 12, date(2025, 12, 31)),
    ],
)
def test_the_window_starts_on_the_runs_day_n_months_back(run_day, months, start):
    assert window_start(run_day, months) == datetime(start.year, start.month, start.day, tzinfo=UTC)


def test_a_window_of_no_months_is_refused():
    with pytest.raises(ValueError, match="at least 1 month"):
        window_start(LAST_DAY, 0)


@given(st.dates(date(2020, 1, 1), date(2040, 12, 31)), st.integers(1, 12))
def test_the_window_always_holds_the_whole_current_month_and_at_most_n_months(run_day, months):
    start = window_start(run_day, months)
    assert start.date() < run_day.replace(day=1)
    assert (run_day - start.date()) <= timedelta(days=31 * months)
    assert (run_day - start.date()) >= timedelta(days=28 * months - 3)


# -- candidates -------------------------------------------------------------------------------
HOUR = datetime(2026, 11, 2, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("workspace", "usage", "looked_at"),
    [
        (ws(), HourlyUsage({HOUR: 0.0}), True),
        (ws(), HourlyUsage({}), True),  # stopped all month: no datapoints
        (ws(mode="ALWAYS_ON"), HourlyUsage({HOUR: 0.0}), True),
        (ws(), HourlyUsage({HOUR: 1.0}), False),  # connected this month
        (ws(), MetricsUnavailable("Throttling"), False),  # never on missing data
        (ws(state="PENDING"), HourlyUsage({}), False),  # being created
        (ws(state="TERMINATING"), HourlyUsage({}), False),
        (ws(mode="MANUAL"), HourlyUsage({}), False),  # WorkSpaces Core: out of scope
        (ws(role="STANDBY"), HourlyUsage({}), False),  # idle by design
        (ws(role="PRIMARY", category="PERSONAL"), HourlyUsage({}), True),
        (ws(category="AGENTIC"), HourlyUsage({}), False),  # its agents never connect as users
        (ws(category="ROBOTIC"), HourlyUsage({}), False),  # a category without a rule
        (ws(state="ERROR"), HourlyUsage({}), True),  # still costs money
    ],
)
def test_only_workspaces_with_no_connected_hour_this_month_are_looked_at(workspace, usage, looked_at):
    assert is_candidate(workspace, usage) is looked_at


# -- the sources ------------------------------------------------------------------------------
def test_the_daily_history_gives_the_last_connected_day_and_the_first_day_seen():
    series = DailyUsage(
        {
            datetime(2026, 9, 29, tzinfo=UTC): 0.0,
            datetime(2026, 10, 3, tzinfo=UTC): 1.0,
            datetime(2026, 10, 9, tzinfo=UTC): 1.0,
            datetime(2026, 10, 20, tzinfo=UTC): 0.0,
        }
    )
    assert history_sighting(series) == Sighting(
        "UserConnected", datetime(2026, 10, 9, tzinfo=UTC), datetime(2026, 9, 29, tzinfo=UTC)
    )
    assert history_sighting(DailyUsage({})) == Sighting("UserConnected")


def test_a_login_record_is_a_connection_at_its_time():
    seen = login_sighting("2026-10-02T08:15:00.123000+00:00")
    assert seen.last_connection == seen.first_seen == datetime(2026, 10, 2, 8, 15, 0, 123000, tzinfo=UTC)
    with pytest.raises(ValueError):
        login_sighting("yesterday")


# -- the verdict ------------------------------------------------------------------------------
def evidence(*sightings: Sighting, unreadable: tuple[str, ...] = (), connected_now: bool = False) -> Evidence:
    return Evidence(list(sightings), list(unreadable), connected_now)


def test_any_source_showing_a_connection_in_the_window_makes_it_used():
    inside = Sighting("login records", START, START)  # the window's first moment counts
    assert judge(evidence(Sighting("UserConnected"), inside), START).verdict is Verdict.USED
    assert judge(
        evidence(inside, unreadable=("connection status unreadable (Throttling)",)), START
    ).verdict is (Verdict.USED)


def test_a_user_connected_now_makes_it_used_whatever_the_timestamps():
    assert judge(evidence(connected_now=True), START).verdict is Verdict.USED


def test_an_unreadable_source_makes_it_unknown_never_unused():
    got = judge(evidence(unreadable=("login records unreadable (AccessDeniedException)",)), START)
    assert got.verdict is Verdict.UNKNOWN
    assert got.reason == "login records unreadable (AccessDeniedException)"
    assert report_text(got) == "unknown: login records unreadable (AccessDeniedException)"


def test_unused_with_a_connection_before_the_window_existed_before_it():
    before = datetime(2026, 7, 14, 10, tzinfo=UTC)
    got = judge(evidence(Sighting("connection status", before, before), Sighting("UserConnected")), START)
    assert got == Judgement(Verdict.UNUSED, before, existed_before_window=True)


def test_a_datapoint_the_day_before_the_window_proves_it_existed():
    day_before = START - timedelta(days=1)
    got = judge(evidence(Sighting("UserConnected", None, day_before)), START)
    assert (got.verdict, got.last_connection, got.existed_before_window) == (Verdict.UNUSED, None, True)


def test_never_connected_and_no_datapoint_before_the_window_may_be_new():
    got = judge(evidence(Sighting("UserConnected", None, START + timedelta(days=3))), START)
    assert (got.verdict, got.existed_before_window) == (Verdict.UNUSED, False)
    assert not judge(evidence(), START).existed_before_window


# -- the plan ---------------------------------------------------------------------------------
def planned(
    workspace=None,
    judgement=UNUSED_AND_OLD,
    policy=UnusedPolicy.STOP,
    confirmed=True,
    day=LAST_DAY,
    mode_after=None,
):
    workspace = workspace or ws()
    return plan(workspace, judgement, policy, confirmed, day, START, mode_after or workspace.running_mode)


def test_report_policy_and_days_before_the_last_only_report():
    assert planned(policy=UnusedPolicy.REPORT).step is UnusedStep.REPORT
    assert planned(day=MID_MONTH).step is UnusedStep.REPORT
    assert planned(policy=UnusedPolicy.TERMINATE, day=date(2026, 11, 29)).step is UnusedStep.REPORT


def test_an_available_auto_stop_workspace_is_stopped_on_the_last_day():
    assert planned() == UnusedPlan(UnusedStep.ACT, UnusedPolicy.STOP)


def test_terminating_needs_the_confirmation_too():
    assert planned(policy=UnusedPolicy.TERMINATE, confirmed=False) == UnusedPlan(
        UnusedStep.HOLD,
        UnusedPolicy.TERMINATE,
        f"terminating needs ConfirmTerminateUnused={TERMINATE_CONFIRMATION}",
    )
    assert planned(policy=UnusedPolicy.TERMINATE, confirmed=True).step is UnusedStep.ACT


def test_a_workspace_that_may_have_been_created_inside_the_window_is_held():
    maybe_new = Judgement(Verdict.UNUSED, None, existed_before_window=False)
    got = planned(judgement=maybe_new, policy=UnusedPolicy.TERMINATE)
    assert got.step is UnusedStep.HOLD
    assert got.reason == (
        "creation time unknown: no connection or UserConnected datapoint before 2026-09-30, "
        "so it may have been created since"
    )


@pytest.mark.parametrize(
    ("workspace", "mode_after", "reason"),
    [
        (ws(state="STOPPED"), None, "already STOPPED"),
        (ws(state="UNHEALTHY"), None, "state UNHEALTHY"),  # remediation's
        (ws(mode="ALWAYS_ON"), None, "running mode ALWAYS_ON cannot be stopped"),
        (ws(modification_states=("PROPERTIES",)), None, "a modification is in progress"),
    ],
)
def test_stop_holds_what_cannot_or_should_not_be_stopped(workspace, mode_after, reason):
    assert planned(workspace, mode_after=mode_after) == UnusedPlan(UnusedStep.HOLD, UnusedPolicy.STOP, reason)


def test_an_always_on_workspace_reset_by_this_run_can_be_stopped():
    assert planned(ws(mode="ALWAYS_ON"), mode_after="AUTO_STOP").step is UnusedStep.ACT


@pytest.mark.parametrize(
    ("state", "step"),
    [
        ("AVAILABLE", UnusedStep.ACT),
        ("STOPPED", UnusedStep.ACT),
        ("SUSPENDED", UnusedStep.HOLD),
        ("ERROR", UnusedStep.HOLD),
    ],
)
def test_terminate_acts_only_on_available_or_stopped_workspaces(state, step):
    assert planned(ws(state=state, mode="ALWAYS_ON"), policy=UnusedPolicy.TERMINATE).step is step


def test_only_unused_workspaces_are_planned_for():
    with pytest.raises(ValueError, match="only unused"):
        planned(judgement=Judgement(Verdict.USED))


# -- tags -------------------------------------------------------------------------------------
ACT = UnusedPlan(UnusedStep.ACT, UnusedPolicy.TERMINATE)


@pytest.mark.parametrize(
    ("tags", "reason"),
    [
        ({"Skip_Terminate": ""}, "Skip_Terminate tag"),
        ({" skip_terminate ": "no"}, "skip_terminate tag"),  # any case, any value
        ({"SKIP_CONVERT": "true"}, "SKIP_CONVERT tag"),
        (TagsUnavailable("Throttling"), "tags unreadable (Throttling)"),
    ],
)
def test_opt_out_tags_and_unreadable_tags_hold_the_action(tags, reason):
    assert check_tags(ACT, tags) == UnusedPlan(UnusedStep.HOLD, UnusedPolicy.TERMINATE, reason)
    assert report_text(UNUSED_AND_OLD, check_tags(ACT, tags)) == f"held: {reason}"


def test_other_tags_let_it_act():
    assert check_tags(ACT, {"CostCenter": "cc-1", "Skip_Remediation": ""}) == ACT


# -- the ledger's memory ----------------------------------------------------------------------
def entry(run_id: str = "month-end", status: LedgerStatus = LedgerStatus.DONE, **changes) -> ActionEntry:
    claimed = datetime(2026, 11, 30, 12, 3, tzinfo=UTC)
    made = ActionEntry(
        "ws-1",
        "d-1",
        "2026-11",
        UnusedPolicy.STOP,
        run_id,
        status,
        claimed,
        done_at=claimed + timedelta(seconds=2) if status is LedgerStatus.DONE else None,
    )
    return replace(made, **changes)


def test_no_entry_is_claimed():
    assert recall_action(None, ws(), "run", NOW).memory is Memory.CLAIM


def test_an_action_done_this_month_is_reported_by_any_run_and_never_repeated():
    for run in ("month-end", "daily"):
        got = recall_action(entry(), ws(state="STOPPED"), run, NOW)
        assert (got.memory, got.text) == (Memory.RECORDED, "stopped by run month-end at 2026-11-30 12:03 UTC")


def test_this_runs_own_claim_is_resumed_or_completed_when_the_state_shows_it_was_made():
    mine = entry(status=LedgerStatus.CLAIMED)
    assert recall_action(mine, ws(), "month-end", NOW).memory is Memory.RESUME
    assert recall_action(mine, ws(state="STOPPING"), "month-end", NOW).memory is Memory.COMPLETE
    terminating = entry(status=LedgerStatus.CLAIMED, policy=UnusedPolicy.TERMINATE)
    assert recall_action(terminating, ws(state="TERMINATING"), "month-end", NOW).memory is Memory.COMPLETE


def test_a_claim_whose_action_the_state_shows_is_completed_whoever_claimed_it():
    theirs = entry(status=LedgerStatus.CLAIMED)
    assert recall_action(theirs, ws(state="STOPPED"), "daily", NOW).memory is Memory.COMPLETE


def test_another_runs_fresh_claim_is_left_to_it_and_a_stale_one_taken_over():
    theirs = entry(status=LedgerStatus.CLAIMED)
    soon = theirs.claimed_at + CLAIM_STALE_AFTER - timedelta(seconds=1)
    got = recall_action(theirs, ws(), "daily", soon)
    assert (got.memory, got.text) == (Memory.BUSY, "held: being stopped by run month-end")
    assert (
        recall_action(theirs, ws(), "daily", theirs.claimed_at + CLAIM_STALE_AFTER).memory is Memory.TAKE_OVER
    )


def test_texts_of_a_report_a_hold_and_a_dry_run():
    assert report_text(UNUSED_AND_OLD) == "reported"
    assert report_text(Judgement(Verdict.USED)) == ""
    assert dry_run_text(UnusedPolicy.TERMINATE) == "would terminate (dry run)"
    with pytest.raises(ValueError):
        report_text(UNUSED_AND_OLD, UnusedPlan(UnusedStep.ACT, UnusedPolicy.STOP))


# -- settings ---------------------------------------------------------------------------------
ENV = {
    "UNUSED_CHECK": "true",
    "UNUSED_MONTHS": "2",
    "UNUSED_ACTION": "report",
    "CONFIRM_TERMINATE_UNUSED": "",
    "MAX_UNUSED_ACTIONS_PER_RUN": "25",
    "DRY_RUN": "false",
    "LOGIN_TABLE": "autopilot-logins",
    "ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:autopilot-alerts",
    "LEDGER_TABLE": "autopilot-ledger",
}


def test_settings_read_the_unused_parameters():
    settings = UnusedSettings.from_env(ENV)
    assert (settings.months, settings.policy, settings.terminate_confirmed, settings.max_actions_per_run) == (
        2,
        UnusedPolicy.REPORT,
        False,
        25,
    )


def test_terminate_is_confirmed_only_by_the_exact_phrase_with_both_parameters():
    both = UnusedSettings.from_env(
        {**ENV, "UNUSED_ACTION": "terminate", "CONFIRM_TERMINATE_UNUSED": TERMINATE_CONFIRMATION}
    )
    assert (both.policy, both.terminate_confirmed) == (UnusedPolicy.TERMINATE, True)
    alone = UnusedSettings.from_env({**ENV, "UNUSED_ACTION": "terminate"})
    assert (alone.policy, alone.terminate_confirmed) == (UnusedPolicy.TERMINATE, False)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"UNUSED_ACTION": "delete"},
            "(template parameter UnusedAction): must be report, stop or terminate, got 'delete'",
        ),
        (
            {"CONFIRM_TERMINATE_UNUSED": "yes"},
            "ConfirmTerminateUnused): must be empty or yes-terminate-unused-workspaces, got 'yes'",
        ),
        ({"UNUSED_MONTHS": "0"}, "UnusedMonths): must be a whole number from 1 to 12, got '0'"),
        (
            {"MAX_UNUSED_ACTIONS_PER_RUN": "501"},
            "MaxUnusedActionsPerRun): must be a whole number from 1 to 500",
        ),
    ],
)
def test_invalid_unused_settings_name_the_parameter_and_value(changes, message):
    with pytest.raises(ConfigurationError) as raised:
        UnusedSettings.from_env({**ENV, **changes})
    assert message in str(raised.value)
