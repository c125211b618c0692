"""The bill model (billing rules, "What AWS charges: the bill model"), rule by rule, with worked
examples at US East list prices of a STANDARD Windows WorkSpace (ALWAYS_ON $35.00 a month;
AUTO_STOP $9.75 a month + $0.30 an hour), in months of each of the four lengths."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ws_autopilot.core.models import RunningMode
from ws_autopilot.cost.bill import (
    Dollars,
    SwitchToAlwaysOn,
    WorkspaceMonth,
    cents,
    month_bill,
    month_hours,
    row_dollars,
    switch_extra_cost,
    switching_pays,
    use_rate,
)
from ws_autopilot.cost.models import Action
from ws_autopilot.cost.pricing import BundlePrices

STANDARD = BundlePrices(Decimal("35.00"), Decimal("9.75"), Decimal("0.30"))
ON, AUTO = RunningMode.ALWAYS_ON, RunningMode.AUTO_STOP
NOV = datetime(2026, 11, 1, tzinfo=UTC)  # 720 hours


@pytest.mark.parametrize(
    ("month", "hours"),
    [
        (datetime(2027, 2, 10, tzinfo=UTC), 672),
        (datetime(2028, 2, 29, 23, tzinfo=UTC), 696),
        (datetime(2026, 11, 30, 23, 59, tzinfo=UTC), 720),
        (datetime(2026, 12, 1, tzinfo=UTC), 744),
    ],
)
def test_a_month_has_its_own_length_in_hours(month, hours):
    assert month_hours(month) == hours


def test_rule_1_an_always_on_month_costs_the_monthly_price_whatever_the_use():
    assert month_bill(STANDARD, WorkspaceMonth(NOV, ON, billable_hours=0)) == Decimal("35.00")
    assert month_bill(STANDARD, WorkspaceMonth(NOV, ON, billable_hours=400)) == Decimal("35.00")


def test_rules_1_and_2_an_auto_stop_month_costs_the_fee_and_each_billable_hour():
    # 80 billable hours: 9.75 + 0.30 x 80 = 33.75
    assert month_bill(STANDARD, WorkspaceMonth(NOV, AUTO, billable_hours=80)) == Decimal("33.75")
    assert month_bill(STANDARD, WorkspaceMonth(NOV, AUTO, billable_hours=0)) == Decimal("9.75")


@pytest.mark.parametrize(
    ("switched_at", "expected"),
    [
        # November (720 h): switched at 00:00 on the 21st, 240 h left: 9.75 + 0.30 x 90 + 35 x 240/720
        (datetime(2026, 11, 21, tzinfo=UTC), Decimal("9.75") + Decimal("27.00") + Decimal(35) * 240 / 720),
        # December (744 h): switched at 00:00 on the 31st, 24 h left
        (datetime(2026, 12, 31, tzinfo=UTC), Decimal("9.75") + Decimal("27.00") + Decimal(35) * 24 / 744),
        # February 2027 (672 h): switched at 12:00 on the 15th, 13.5 days left
        (datetime(2027, 2, 15, 12, tzinfo=UTC), Decimal("9.75") + Decimal("27.00") + Decimal(35) * 324 / 672),
        # February 2028 (696 h): switched at 00:00 on the 1st, the whole month monthly on top of F
        (datetime(2028, 2, 1, tzinfo=UTC), Decimal("9.75") + Decimal("27.00") + Decimal("35.00")),
    ],
)
def test_rule_3_a_switch_to_always_on_pays_the_fee_the_hours_before_and_the_prorated_rest(
    switched_at, expected
):
    facts = WorkspaceMonth(
        switched_at, AUTO, billable_hours=90, switched_on=SwitchToAlwaysOn(switched_at, 90)
    )
    assert month_bill(STANDARD, facts) == expected


def test_rule_3_the_overlap_makes_a_switch_on_the_first_day_cost_more_than_either_mode():
    facts = WorkspaceMonth(NOV, AUTO, billable_hours=0, switched_on=SwitchToAlwaysOn(NOV, 0))
    assert month_bill(STANDARD, facts) == Decimal("44.75")  # F + M: the overlap AWS warns about


def test_rule_3_only_the_hours_before_the_switch_are_billed_by_the_hour():
    at = datetime(2026, 11, 27, tzinfo=UTC)  # 96 h left of 720
    facts = WorkspaceMonth(NOV, AUTO, billable_hours=150, switched_on=SwitchToAlwaysOn(at, 100))
    assert month_bill(STANDARD, facts) == Decimal("9.75") + Decimal("30.00") + Decimal(35) * 96 / 720


def test_rule_4_a_reset_to_auto_stop_leaves_the_month_monthly():
    # an ALWAYS_ON WorkSpace reset on the last day is billed M this month, however little it ran
    assert month_bill(STANDARD, WorkspaceMonth(datetime(2026, 11, 30, 21, tzinfo=UTC), ON, 12)) == Decimal(
        "35.00"
    )


@pytest.mark.parametrize(
    ("created", "expected"),
    [
        # created at 00:00 on November 20: 264 of 720 hours
        (datetime(2026, 11, 20, tzinfo=UTC), Decimal(35) * 264 / 720),
        # created at 18:00 on December 31: 6 of 744 hours
        (datetime(2026, 12, 31, 18, tzinfo=UTC), Decimal(35) * 6 / 744),
        # created at 00:00 on February 1, 2027: the whole 672-hour month
        (datetime(2027, 2, 1, tzinfo=UTC), Decimal("35.00")),
    ],
)
def test_rule_5_an_always_on_workspace_created_during_the_month_pays_from_its_creation(created, expected):
    assert month_bill(STANDARD, WorkspaceMonth(created, ON, billable_hours=0, created_at=created)) == expected


def test_a_month_without_a_fixed_charge_is_refused():
    with pytest.raises(ValueError, match="MANUAL"):
        WorkspaceMonth(NOV, RunningMode.MANUAL, 0)


def test_a_switch_of_an_always_on_workspace_or_outside_the_month_is_refused():
    with pytest.raises(ValueError, match="only an AUTO_STOP"):
        WorkspaceMonth(NOV, ON, 0, switched_on=SwitchToAlwaysOn(NOV, 0))
    with pytest.raises(ValueError, match="not in the month"):
        WorkspaceMonth(NOV, AUTO, 0, switched_on=SwitchToAlwaysOn(datetime(2026, 12, 1, tzinfo=UTC), 0))


@given(
    hours=st.integers(min_value=0, max_value=744),
    left=st.integers(min_value=0, max_value=720),
)
def test_a_switch_costs_between_the_hours_before_it_and_the_fee_plus_a_whole_month(hours, left):
    at = datetime(2026, 12, 1, tzinfo=UTC) - timedelta(hours=left)
    bill = month_bill(STANDARD, WorkspaceMonth(at, AUTO, hours, switched_on=SwitchToAlwaysOn(at, hours)))
    hourly_part = STANDARD.auto_stop_monthly + STANDARD.auto_stop_hourly * hours
    assert hourly_part <= bill <= hourly_part + STANDARD.always_on_monthly


# --- Dollars in reports: a decision's month_cost and its two savings ----------------------------
def test_a_heavy_user_switched_mid_month_pays_the_overlap_and_saves_both_months():
    # November 16 at 00:00: 360 of 720 h elapsed, 120 billable (r = 1/3), switched now
    at = datetime(2026, 11, 16, tzinfo=UTC)
    facts = WorkspaceMonth(at, AUTO, 120, switched_on=SwitchToAlwaysOn(at, 120))
    dollars = row_dollars(STANDARD, facts, Action.TO_ALWAYS_ON, use_rate(120, 360), at)
    assert dollars == Dollars(
        month_cost=Decimal("63.25"),  # 9.75 + 0.30 x 120 + 35 x 360/720
        saving_this_month=Decimal("18.50"),  # 0.30 x 1/3 x 360 - 35 x 360/720
        saving_next_month=Decimal("49.15"),  # December's 744 h: 9.75 + 0.30 x 1/3 x 744 - 35
    )


def test_a_switch_that_costs_more_this_month_shows_a_negative_saving_this_month():
    # the row: November 30 at 21:00, 717 h elapsed, 85 billable
    at = datetime(2026, 11, 30, 21, tzinfo=UTC)
    facts = WorkspaceMonth(at, AUTO, 85, switched_on=SwitchToAlwaysOn(at, 85))
    dollars = row_dollars(STANDARD, facts, Action.TO_ALWAYS_ON, use_rate(85, 717), at)
    assert dollars.saving_this_month == Decimal("-0.04")  # 0.30 x 85/717 x 3 - 35 x 3/720
    assert dollars.saving_next_month == Decimal("1.21")  # 9.75 + 0.30 x 85/717 x 744 - 35
    assert dollars.month_cost == Decimal("35.40")  # 9.75 + 25.50 + 0.15


def test_a_month_end_reset_saves_nothing_this_month_and_next_month_at_this_use():
    # November 30 at 21:00: 717 h measured, 40 billable, reset: December (744 h) projected
    at = datetime(2026, 11, 30, 21, tzinfo=UTC)
    dollars = row_dollars(STANDARD, WorkspaceMonth(at, ON, 40), Action.TO_AUTO_STOP, use_rate(40, 717), at)
    assert dollars == Dollars(Decimal("35.00"), Decimal("0.00"), Decimal("12.80"))  # 35 - 9.75 - 12.45


def test_next_months_projection_takes_that_months_own_length():
    # a reset on January 31, 2027 at 21:00 (741 h, 100 billable), projected over February's 672 h
    at = datetime(2027, 1, 31, 21, tzinfo=UTC)
    dollars = row_dollars(STANDARD, WorkspaceMonth(at, ON, 100), Action.TO_AUTO_STOP, use_rate(100, 741), at)
    assert dollars.saving_next_month == Decimal("-1.96")  # 35 - 9.75 - 0.30 x 100/741 x 672 = -1.9565...


def test_a_late_switch_to_always_on_changes_nothing_in_the_runs_month():
    # decided for November 30, made at 00:30 on December 1: November stays hourly; December pays
    # its AUTO_STOP fee either way, so it saves its hours minus the prorated monthly price
    month = datetime(2026, 11, 30, 21, tzinfo=UTC)
    at = datetime(2026, 12, 1, 0, 30, tzinfo=UTC)
    dollars = row_dollars(STANDARD, WorkspaceMonth(month, AUTO, 360), Action.TO_ALWAYS_ON, Decimal("0.5"), at)
    assert dollars.month_cost == Decimal("117.75")  # 9.75 + 0.30 x 360
    assert dollars.saving_this_month == Decimal("0.00")
    assert dollars.saving_next_month == Decimal("76.62")  # 0.30 x 0.5 x 744 - 35 x 743.5/744


def test_a_late_reset_saves_nothing_next_month():
    month = datetime(2026, 11, 30, 21, tzinfo=UTC)
    at = datetime(2026, 12, 1, 0, 30, tzinfo=UTC)
    dollars = row_dollars(STANDARD, WorkspaceMonth(month, ON, 40), Action.TO_AUTO_STOP, Decimal("0.05"), at)
    assert (dollars.saving_this_month, dollars.saving_next_month) == (Decimal("0.00"), Decimal("0.00"))


def test_nothing_decided_saves_nothing():
    at = datetime(2026, 11, 15, tzinfo=UTC)
    dollars = row_dollars(STANDARD, WorkspaceMonth(at, AUTO, 100), Action.NONE, use_rate(100, 336), at)
    assert dollars == Dollars(Decimal("39.75"), Decimal("0.00"), Decimal("0.00"))


def test_the_use_rate_is_over_the_measured_hours_and_never_above_one():
    assert use_rate(40, 400) == Decimal("0.1")
    assert use_rate(10, 0) == 0
    assert use_rate(500, 400) == 1


@given(
    elapsed=st.integers(min_value=1, max_value=719),
    billable=st.integers(min_value=0, max_value=719),
)
def test_switching_pays_exactly_when_this_months_saving_is_positive(elapsed, billable):
    billable = min(billable, elapsed)
    at = NOV + timedelta(hours=elapsed)
    rate = use_rate(billable, elapsed)
    facts = WorkspaceMonth(at, AUTO, billable, switched_on=SwitchToAlwaysOn(at, billable))
    exact = (
        STANDARD.auto_stop_hourly * rate * (720 - elapsed)
        - STANDARD.always_on_monthly * (720 - elapsed) / 720
    )
    assert switching_pays(STANDARD, rate, at) == (exact > 0)
    assert row_dollars(STANDARD, facts, Action.TO_ALWAYS_ON, rate, at).saving_this_month == cents(exact)
    assert cents(switch_extra_cost(STANDARD, rate, at)) == cents(-exact)
