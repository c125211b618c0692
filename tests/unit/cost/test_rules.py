from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ws_autopilot.core.models import HourlyUsage, MetricsUnavailable, TagsUnavailable, Workspace
from ws_autopilot.cost.models import Action, ConversionTiming
from ws_autopilot.cost.pricing import BundlePrices
from ws_autopilot.cost.rules import (
    AGENTIC_REASON,
    STANDBY_REASON,
    apply_opt_out,
    decide,
    evaluate,
    is_evaluated,
)

THRESHOLDS = {"STANDARD": 85, "VALUE": 81}
NOT_MODIFIABLE = [
    "PENDING",
    "IMPAIRED",
    "UNHEALTHY",
    "REBOOTING",
    "STARTING",
    "REBUILDING",
    "RESTORING",
    "MAINTENANCE",
    "ADMIN_MAINTENANCE",
    "TERMINATING",
    "TERMINATED",
    "SUSPENDED",
    "UPDATING",
    "STOPPING",
    "ERROR",
]


def ws(mode="AUTO_STOP", state="AVAILABLE", compute="STANDARD", timeout=None) -> Workspace:
    if mode == "AUTO_STOP" and timeout is None:
        timeout = 60
    return Workspace("ws-0123456789", "d-0123456789", "alice", state, mode, compute, timeout)


def usage(now: datetime, billable: int, mode: str = "AUTO_STOP") -> HourlyUsage:
    """A series whose billable hours are exactly `billable` with G=1: one connected block of
    `billable - 1` hours ending at least two hours before `now`, plus zeros as AWS reports them."""
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = now.replace(minute=0, second=0, microsecond=0)
    points = {}
    hour, connected = start, billable - 1 if billable else 0
    while hour < end:
        index = int((hour - start) / timedelta(hours=1))
        if index < connected:
            points[hour] = 1.0
        elif mode == "ALWAYS_ON" or index == connected:
            points[hour] = 0.0
        hour += timedelta(hours=1)
    assert connected + 2 <= int((end - start) / timedelta(hours=1)), "month too young for this usage"
    return HourlyUsage(points)


MID_MONTH = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)
LAST_DAY = datetime(2026, 11, 30, 21, 0, tzinfo=UTC)


@pytest.mark.parametrize("state", NOT_MODIFIABLE)
def test_every_non_modifiable_state_is_skipped_and_named(state):
    decision = decide(
        ws(state=state), usage(MID_MONTH, 200), THRESHOLDS, TagsUnavailable("unused"), MID_MONTH
    )
    assert decision.action is Action.SKIPPED
    assert state in decision.reason


@pytest.mark.parametrize("state", ["AVAILABLE", "STOPPED"])
def test_available_and_stopped_workspaces_are_evaluated(state):
    assert (
        evaluate(ws(state=state), usage(MID_MONTH, 200), THRESHOLDS, MID_MONTH).action is Action.TO_ALWAYS_ON
    )


def test_manual_running_mode_is_skipped():
    decision = evaluate(ws(mode="MANUAL"), usage(MID_MONTH, 200), THRESHOLDS, MID_MONTH)
    assert (decision.action, decision.reason) == (Action.SKIPPED, "running mode MANUAL is not managed")


def test_compute_type_without_threshold_is_skipped_with_its_own_reason():
    decision = evaluate(ws(compute="GRAPHICS_G6_XLARGE"), usage(MID_MONTH, 200), THRESHOLDS, MID_MONTH)
    assert (decision.action, decision.reason) == (Action.SKIPPED, "no threshold for GRAPHICS_G6_XLARGE")


def test_unreadable_metrics_are_an_error_not_zero_usage():
    decision = evaluate(
        ws(mode="ALWAYS_ON"), MetricsUnavailable("GetMetricData failed: Throttling"), THRESHOLDS, LAST_DAY
    )
    assert decision.action is Action.ERROR
    assert "Throttling" in decision.reason


def test_auto_stop_above_threshold_converts_to_always_on_on_any_day():
    for now in (datetime(2026, 11, 5, 21, tzinfo=UTC), MID_MONTH, LAST_DAY):
        decision = evaluate(ws(), usage(now, 86), THRESHOLDS, now)
        assert (decision.action, decision.billable_hours, decision.threshold) == (Action.TO_ALWAYS_ON, 86, 85)


def test_auto_stop_at_exactly_the_threshold_stays():
    decision = evaluate(ws(), usage(MID_MONTH, 85), THRESHOLDS, MID_MONTH)
    assert (decision.action, decision.billable_hours) == (Action.NONE, 85)


def test_auto_stop_without_datapoints_has_zero_billable_hours():
    decision = evaluate(ws(state="STOPPED"), HourlyUsage({}), THRESHOLDS, MID_MONTH)
    assert (decision.action, decision.billable_hours) == (Action.NONE, 0)


@pytest.mark.parametrize(
    "last_day",
    [
        datetime(2026, 11, 30, 21, tzinfo=UTC),
        datetime(2026, 12, 31, 21, tzinfo=UTC),
        datetime(2028, 2, 29, 21, tzinfo=UTC),
        datetime(2027, 2, 28, 21, tzinfo=UTC),
    ],
    ids=["30-day", "31-day", "leap-february", "february"],
)
def test_always_on_at_or_below_threshold_resets_to_auto_stop_on_the_last_day(last_day):
    for billable in (40, 85):
        decision = evaluate(
            ws(mode="ALWAYS_ON"), usage(last_day, billable, "ALWAYS_ON"), THRESHOLDS, last_day
        )
        assert (decision.action, decision.billable_hours) == (Action.TO_AUTO_STOP, billable)


def test_always_on_is_not_converted_on_the_day_before_the_last():
    now = LAST_DAY - timedelta(days=1)
    assert evaluate(ws(mode="ALWAYS_ON"), usage(now, 40, "ALWAYS_ON"), THRESHOLDS, now).action is Action.NONE


def test_always_on_above_threshold_stays_on_the_last_day():
    decision = evaluate(ws(mode="ALWAYS_ON"), usage(LAST_DAY, 86, "ALWAYS_ON"), THRESHOLDS, LAST_DAY)
    assert decision.action is Action.NONE


def test_last_minute_of_the_month_resets_but_midnight_on_the_first_does_not():
    last_minute = datetime(2026, 11, 30, 23, 59, tzinfo=UTC)
    assert (
        evaluate(ws(mode="ALWAYS_ON"), usage(last_minute, 40, "ALWAYS_ON"), THRESHOLDS, last_minute).action
        is Action.TO_AUTO_STOP
    )
    first = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    decision = evaluate(ws(mode="ALWAYS_ON"), HourlyUsage({}), THRESHOLDS, first)
    assert (decision.action, decision.billable_hours) == (Action.NONE, 0)


def test_a_month_end_run_still_resets_after_midnight_on_the_months_own_hours():
    series = usage(datetime(2026, 11, 30, 23, 59, tzinfo=UTC), 40, "ALWAYS_ON")
    after_midnight = datetime(2026, 12, 1, 2, 30, tzinfo=UTC)
    decision = evaluate(ws(mode="ALWAYS_ON"), series, THRESHOLDS, after_midnight, run_day=LAST_DAY.date())
    assert (decision.action, decision.billable_hours) == (Action.TO_AUTO_STOP, 40)


def test_a_run_started_the_day_before_the_last_does_not_reset_when_it_reaches_the_last_day():
    series = usage(datetime(2026, 11, 30, 1, 0, tzinfo=UTC), 40, "ALWAYS_ON")
    decision = evaluate(
        ws(mode="ALWAYS_ON"),
        series,
        THRESHOLDS,
        datetime(2026, 11, 30, 1, 0, tzinfo=UTC),
        run_day=LAST_DAY.date() - timedelta(days=1),
    )
    assert decision.action is Action.NONE


@pytest.mark.parametrize(("conversion_timeout", "expected"), [(60, Action.TO_AUTO_STOP), (180, Action.NONE)])
def test_always_on_is_judged_with_the_timeout_a_conversion_would_set(conversion_timeout, expected):
    # 30 one-hour sessions: 30 x (1 + G) hours; 60 against 85 with G = 1, 120 with G = 3
    start = LAST_DAY.replace(day=1, hour=0)
    points = {start + timedelta(hours=h): float(h % 20 == 0) for h in range(600)}
    decision = evaluate(
        ws(mode="ALWAYS_ON"),
        HourlyUsage(points),
        THRESHOLDS,
        LAST_DAY,
        conversion_timeout_minutes=conversion_timeout,
    )
    assert decision.action is expected


def test_always_on_with_no_datapoints_this_month_is_an_error_not_a_conversion():
    decision = evaluate(ws(mode="ALWAYS_ON"), HourlyUsage({}), THRESHOLDS, LAST_DAY)
    assert decision.action is Action.ERROR
    assert "no UserConnected datapoints" in decision.reason


@pytest.mark.parametrize(
    "key", ["Skip_Convert", "skip_convert", "SKIP_CONVERT", "  Skip_Convert ", "sKiP_cOnVeRt"]
)
@pytest.mark.parametrize("value", ["", "true", "yes", "false", "no"])
def test_skip_convert_tag_in_any_case_and_value_opts_out(key, value):
    decision = decide(ws(), usage(MID_MONTH, 200), THRESHOLDS, {key: value, "Team": "x"}, MID_MONTH)
    assert (decision.action, decision.reason) == (Action.SKIPPED, "Skip_Convert tag")
    assert decision.billable_hours == 200


def test_similar_tag_keys_do_not_opt_out():
    for key in ("Skip_Converts", "Skip Convert", "SkipConvert"):
        assert (
            decide(ws(), usage(MID_MONTH, 200), THRESHOLDS, {key: ""}, MID_MONTH).action
            is Action.TO_ALWAYS_ON
        )


def test_unreadable_tags_block_a_conversion():
    decision = decide(
        ws(), usage(MID_MONTH, 200), THRESHOLDS, TagsUnavailable("AccessDeniedException"), MID_MONTH
    )
    assert decision.action is Action.SKIPPED
    assert "tags unreadable (AccessDeniedException)" in decision.reason


def test_tags_do_not_change_a_decision_that_is_not_a_conversion():
    decision = evaluate(ws(), usage(MID_MONTH, 10), THRESHOLDS, MID_MONTH)
    assert apply_opt_out(decision, TagsUnavailable("AccessDeniedException")) == decision
    assert apply_opt_out(decision, {"Skip_Convert": ""}) == decision


# --- Set aside before rule 1: standby WorkSpaces and WorkSpaces not for a person (agentic)


STANDBY = {"role": "STANDBY"}
AGENTIC = {"category": "AGENTIC", "compute": "POWER"}


def kind(changes: dict[str, str], mode: str = "AUTO_STOP", state: str = "AVAILABLE") -> Workspace:
    """ws() with a role or a category (and, for an agentic one, the compute type its bundle needs)."""
    fields = {k: v for k, v in changes.items() if k != "compute"}
    return replace(ws(mode=mode, state=state, compute=changes.get("compute", "STANDARD")), **fields)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [(STANDBY, STANDBY_REASON), (AGENTIC, AGENTIC_REASON)],
    ids=["standby", "agentic"],
)
@pytest.mark.parametrize(
    ("mode", "billable", "now"),
    [("AUTO_STOP", 200, MID_MONTH), ("AUTO_STOP", 200, LAST_DAY), ("ALWAYS_ON", 0, LAST_DAY)],
    ids=["heavy-mid-month", "heavy-last-day", "idle-monthly-last-day"],
)
def test_standby_and_agentic_workspaces_are_never_converted_in_either_direction(
    changes, reason, mode, billable, now
):
    workspace = kind(changes, mode)
    personal = replace(workspace, role="", category="PERSONAL")
    assert decide(personal, usage(now, billable, mode), {**THRESHOLDS, "POWER": 92}, {}, now).action in (
        Action.TO_ALWAYS_ON,
        Action.TO_AUTO_STOP,
    )  # the same WorkSpace for a person would be converted

    decision = decide(workspace, usage(now, billable, mode), {**THRESHOLDS, "POWER": 92}, {}, now)

    assert (decision.action, decision.reason) == (Action.SKIPPED, reason)
    assert (decision.billable_hours, decision.threshold) == (None, None)


def test_the_reason_names_the_standby_or_agentic_workspace_before_its_state_or_its_threshold():
    assert evaluate(kind(STANDBY, state="PENDING"), HourlyUsage({}), THRESHOLDS, MID_MONTH).reason == (
        STANDBY_REASON
    )
    unpriced_agent = replace(kind(AGENTIC), compute_type="GRAPHICS_G6_XLARGE")  # no threshold
    assert evaluate(unpriced_agent, usage(MID_MONTH, 200), THRESHOLDS, MID_MONTH).reason == AGENTIC_REASON
    assert (
        evaluate(kind(AGENTIC), MetricsUnavailable("Throttling"), THRESHOLDS, MID_MONTH).action
        is Action.SKIPPED
    )  # its metrics are not needed, so not an error


def test_unreadable_tags_do_not_change_the_reason_a_standby_workspace_is_skipped():
    decision = decide(
        kind(STANDBY), usage(MID_MONTH, 200), THRESHOLDS, TagsUnavailable("AccessDeniedException"), MID_MONTH
    )
    assert (decision.action, decision.reason) == (Action.SKIPPED, STANDBY_REASON)


def test_a_category_the_product_has_no_rule_for_is_skipped_and_named():
    decision = evaluate(kind({"category": "ROBOTIC"}), usage(MID_MONTH, 200), THRESHOLDS, MID_MONTH)
    assert (decision.action, decision.reason) == (
        Action.SKIPPED,
        "WorkSpace category ROBOTIC: no billing rule for it; not converted",
    )


@pytest.mark.parametrize("changes", [{"role": "PRIMARY"}, {"category": "PERSONAL"}, {"category": ""}])
def test_a_primary_and_a_personal_or_uncategorized_workspace_are_judged_as_any_other(changes):
    decision = evaluate(kind(changes), usage(MID_MONTH, 200), THRESHOLDS, MID_MONTH)
    assert (decision.action, decision.billable_hours) == (Action.TO_ALWAYS_ON, 200)
    assert is_evaluated(kind(changes))


@pytest.mark.parametrize("changes", [STANDBY, AGENTIC, {"category": "ROBOTIC"}])
def test_set_aside_workspaces_are_not_evaluated_so_their_tags_and_prices_are_not_read(changes):
    assert not is_evaluated(kind(changes))


# --- Partial months (billing rules, "Partial months"): hours without a datapoint are unmeasured


def office_hours(first: datetime, now: datetime, gap: tuple[datetime, datetime] | None = None) -> HourlyUsage:
    """An ALWAYS_ON series from `first` (its first datapoint) to `now`: connected 09:00-15:00 on
    weekdays, 0 in every other hour it reports, nothing in the `gap`."""
    points, hour = {}, first
    while hour < now.replace(minute=0):
        if gap is None or not gap[0] <= hour < gap[1]:
            points[hour] = 1.0 if hour.weekday() < 5 and 9 <= hour.hour < 15 else 0.0
        hour += timedelta(hours=1)
    return HourlyUsage(points)


def test_an_always_on_workspace_created_mid_month_is_judged_at_its_rate_not_as_idle_before_it_existed():
    # Created on November 20: 7 working days x 7 billable hours = 49 h in 261 measured hours. Judged
    # as if idle since the 1st it would be reset (49 <= 85); at its rate over the month's 717 hours
    # it would have billed 135 h, and stays ALWAYS_ON.
    series = office_hours(datetime(2026, 11, 20, tzinfo=UTC), LAST_DAY)
    decision = evaluate(ws("ALWAYS_ON"), series, THRESHOLDS, LAST_DAY)
    assert (decision.action, decision.billable_hours) == (Action.NONE, 49)
    assert "135 h over the whole month" in decision.reason
    assert "measured since 2026-11-20 00:00 UTC only (261 of 717 h)" in decision.reason


def test_a_metric_gap_of_days_is_not_idle_time():
    # 21 working days x 7 billable hours = 147 h: over 100, kept ALWAYS_ON. With November 9-22
    # missing from the series only 77 h are billable, which alone would reset it; at their rate
    # over the 381 measured hours, the whole month shows 145 h.
    start, gap = (
        datetime(2026, 11, 1, tzinfo=UTC),
        (datetime(2026, 11, 9, tzinfo=UTC), datetime(2026, 11, 23, tzinfo=UTC)),
    )
    assert (
        evaluate(ws("ALWAYS_ON"), office_hours(start, LAST_DAY), {"STANDARD": 100}, LAST_DAY).action
        is Action.NONE
    )
    decision = evaluate(ws("ALWAYS_ON"), office_hours(start, LAST_DAY, gap), {"STANDARD": 100}, LAST_DAY)
    assert (decision.action, decision.billable_hours) == (Action.NONE, 77)
    assert decision.reason == (
        "billable 77 h, 145 h over the whole month at that rate > threshold 100 h"
        " (measured since 2026-11-01 00:00 UTC only (381 of 717 h))"
    )


def test_a_light_user_measured_part_of_the_month_is_reset_on_the_hours_a_whole_month_would_show():
    # Created on November 10: 15 working days x 7 h = 105 billable hours would be over 85, but a
    # user of 2 hours on Mondays only is reset: 3 Mondays x 3 h = 9 h, 13 h at that rate.
    first = datetime(2026, 11, 10, tzinfo=UTC)
    points, hour = {}, first
    while hour < LAST_DAY:
        points[hour] = 1.0 if hour.weekday() == 0 and 9 <= hour.hour < 11 else 0.0
        hour += timedelta(hours=1)
    decision = evaluate(ws("ALWAYS_ON"), HourlyUsage(points), THRESHOLDS, LAST_DAY)
    assert (decision.action, decision.billable_hours) == (Action.TO_AUTO_STOP, 9)
    assert decision.reason.startswith("month-end reset: billable 9 h, 13 h over the whole month at that rate")


def test_under_a_week_measured_is_never_reset_and_judged_again_next_month():
    first = datetime(2026, 11, 24, 22, tzinfo=UTC)  # 143 measured hours by 21:00 on the 30th
    decision = evaluate(ws("ALWAYS_ON"), office_hours(first, LAST_DAY), THRESHOLDS, LAST_DAY)
    assert decision.action is Action.NONE
    assert decision.reason == (
        "measured since 2026-11-24 22:00 UTC only (143 of 717 h): under 168 h, not reset;"
        " judged again next month"
    )


def test_a_week_measured_exactly_is_enough_to_judge():
    first = datetime(2026, 11, 23, 21, tzinfo=UTC)  # 168 measured hours, no connection at all
    points = {first + timedelta(hours=h): 0.0 for h in range(168)}
    assert evaluate(ws("ALWAYS_ON"), HourlyUsage(points), THRESHOLDS, LAST_DAY).action is Action.TO_AUTO_STOP


def test_hours_before_the_products_switch_to_always_on_were_auto_stop_and_are_measured():
    # AUTO_STOP until the product switched it at 21:00 on the 30th: the series holds its running
    # hours only (a light user's, 45 billable), which are not a partial month
    switched = datetime(2026, 11, 30, 21, tzinfo=UTC)
    points = {}
    hour = datetime(2026, 11, 1, tzinfo=UTC)
    while hour < switched:
        if hour.weekday() in (0, 2) and 9 <= hour.hour < 13:
            points[hour] = 1.0
            points[hour + timedelta(hours=4)] = 0.0
        hour += timedelta(hours=1)
    later = LAST_DAY + timedelta(hours=1)
    sparse = evaluate(ws("ALWAYS_ON"), HourlyUsage(points), THRESHOLDS, later)
    assert sparse.action is Action.NONE and "measured since" in sparse.reason
    known = evaluate(ws("ALWAYS_ON"), HourlyUsage(points), THRESHOLDS, later, always_on_since=switched)
    assert known.action is Action.TO_AUTO_STOP
    assert known.reason.startswith("month-end reset: billable 45 h, 45 h over the whole month at that rate")


# --- When to switch: the timing rule (STANDARD Windows list prices, threshold 84 h) -------------
STANDARD_PRICES = BundlePrices(Decimal("35.00"), Decimal("9.75"), Decimal("0.30"))
PRICED = {"STANDARD": 84}


def test_savings_converts_a_heavy_user_the_day_switching_pays_this_month():
    # the 10th at 21:00: 237 h elapsed, 90 billable: r x L = 90/237 x 720 = 273 h > M/p = 116.7 h
    now = datetime(2026, 11, 10, 21, tzinfo=UTC)
    decision = evaluate(ws(), usage(now, 90), PRICED, now, prices=STANDARD_PRICES)
    assert (decision.action, decision.reason) == (Action.TO_ALWAYS_ON, "billable 90 h > threshold 84 h")


def test_savings_holds_a_late_crossing_for_the_month_end_run_saying_what_switching_today_costs():
    # the 27th at 00:00: 624 h elapsed, 85 billable: r x L = 98 h < 116.7 h. Switching now would bill
    # 35 x 96/720 = 4.67 for the 96 hours left, where AUTO_STOP projects 0.30 x 85/624 x 96 = 3.92
    now = datetime(2026, 11, 27, tzinfo=UTC)
    decision = evaluate(ws(), usage(now, 85), PRICED, now, prices=STANDARD_PRICES)
    assert decision.action is Action.NONE
    assert decision.reason == (
        "billable 85 h > threshold 84 h, but switching today would cost $0.74 more this month than"
        " staying AUTO_STOP at this use; the month-end run converts it"
    )


def test_savings_converts_on_the_months_last_day_whatever_it_costs_this_month():
    decision = evaluate(ws(), usage(LAST_DAY, 85), PRICED, LAST_DAY, prices=STANDARD_PRICES)
    assert decision.action is Action.TO_ALWAYS_ON


def test_threshold_timing_converts_on_the_crossing_day():
    now = datetime(2026, 11, 27, tzinfo=UTC)
    decision = evaluate(
        ws(), usage(now, 85), PRICED, now, prices=STANDARD_PRICES, timing=ConversionTiming.THRESHOLD
    )
    assert (decision.action, decision.reason) == (Action.TO_ALWAYS_ON, "billable 85 h > threshold 84 h")


def test_savings_without_prices_converts_on_the_threshold_and_says_so():
    now = datetime(2026, 11, 27, tzinfo=UTC)
    decision = evaluate(ws(), usage(now, 85), PRICED, now)
    assert decision.action is Action.TO_ALWAYS_ON
    assert decision.reason == "billable 85 h > threshold 84 h (no prices, so converted on the threshold)"


@given(
    elapsed=st.integers(min_value=24, max_value=695),
    billable=st.integers(min_value=0, max_value=695),
)
def test_savings_converts_before_the_last_day_exactly_when_the_switch_costs_less_this_month(
    elapsed, billable
):
    billable = min(billable, elapsed - 2)
    now = datetime(2026, 11, 1, tzinfo=UTC) + timedelta(hours=elapsed)
    decision = evaluate(ws(), usage(now, billable), {"STANDARD": 0}, now, prices=STANDARD_PRICES)
    if billable == 0:
        assert decision.action is Action.NONE  # 0 h is not over any threshold
        return
    left = Decimal(720 - elapsed)
    staying = Decimal("0.30") * Decimal(billable) / Decimal(elapsed) * left
    switching = Decimal("35.00") * left / 720
    assert (decision.action is Action.TO_ALWAYS_ON) == (switching < staying)
