"""Which threshold a WorkSpace is judged by: its Autopilot_Threshold tag, its prices' break-even or
its compute type's parameter; and what the rules do with it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.cost.test_rules import LAST_DAY, MID_MONTH, THRESHOLDS, usage, ws
from ws_autopilot.core.models import TagsUnavailable
from ws_autopilot.cost.models import Action, ThresholdOrigin
from ws_autopilot.cost.pricing import BundlePrices, NoPrice, Priced
from ws_autopilot.cost.rules import Threshold, choose_threshold, decide, evaluate, threshold_tag

PRICED = Priced(
    BundlePrices(Decimal("35.00"), Decimal("9.75"), Decimal("0.30")),
    "us-east-1 STANDARD Windows (licence included), root 80 GB, user 50 GB",
)
LISTED = (
    "us-east-1 STANDARD Windows (licence included), root 80 GB, user 50 GB: "
    "ALWAYS_ON $35.00/month, AUTO_STOP $9.75/month + $0.30/hour"
)


@pytest.mark.parametrize(
    ("tags", "hours"),
    [
        ({"Autopilot_Threshold": "120"}, 120),
        ({" autopilot_threshold ": " 0 "}, 0),
        ({"AUTOPILOT_THRESHOLD": "744"}, 744),
        ({"Autopilot_Threshold": "007"}, 7),
        ({"Autopilot_Threshold": "90", "autopilot_threshold": "90"}, 90),
        ({"CostCenter": "cc-1"}, None),
        ({}, None),
    ],
)
def test_the_threshold_tag_is_read_like_skip_convert(tags, hours):
    assert threshold_tag(tags) == hours


@pytest.mark.parametrize(
    "value", ["", "abc", "-5", "745", "1000", "85.5", "1e2", "8_5", "\uff18\uff15", "8\u00b2"]
)
def test_an_invalid_threshold_tag_names_the_tag_and_the_value(value):
    found = threshold_tag({"Autopilot_Threshold": value})
    assert found == (
        f"tag Autopilot_Threshold has the invalid value {value!r}: hours must be a whole number from 0 to 744"
    )


def test_a_threshold_tag_given_twice_with_two_values_is_invalid():
    found = threshold_tag({"Autopilot_Threshold": "90", " autopilot_threshold": "100"})
    assert isinstance(found, str) and "given 2 times with different values" in found


def test_the_tag_comes_first_then_the_prices_then_the_parameter():
    tagged = choose_threshold(ws(), THRESHOLDS, {"Autopilot_Threshold": "100"}, PRICED, use_prices=True)
    assert tagged == Threshold(
        100, ThresholdOrigin.TAG, f"price list not used: Autopilot_Threshold tag; list prices {LISTED}"
    )
    priced = choose_threshold(ws(), THRESHOLDS, {}, PRICED, use_prices=True)
    assert priced == Threshold(84, ThresholdOrigin.PRICE_LIST, f"{LISTED} -> floor((35 - 9.75) / 0.3) = 84 h")
    fallback = choose_threshold(
        ws(), THRESHOLDS, {}, NoPrice("the price list has no price for X"), use_prices=True
    )
    assert fallback == Threshold(
        85, ThresholdOrigin.PARAMETER, "price list not used: the price list has no price for X"
    )


def test_with_threshold_source_parameters_prices_only_inform():
    chosen = choose_threshold(ws(), THRESHOLDS, None, PRICED, use_prices=False)
    assert chosen == Threshold(
        85,
        ThresholdOrigin.PARAMETER,
        f"price list not used: ThresholdSource is Parameters; list prices {LISTED}",
    )


def test_no_price_and_no_parameter_is_no_threshold_with_the_reason():
    chosen = choose_threshold(
        ws(compute="GRAPHICS_G6_XLARGE"), THRESHOLDS, {}, NoPrice("why"), use_prices=True
    )
    assert chosen == Threshold(None, None, "price list not used: why")
    decision = evaluate(
        ws(compute="GRAPHICS_G6_XLARGE"), usage(MID_MONTH, 10), THRESHOLDS, MID_MONTH, chosen=chosen
    )
    assert (decision.action, decision.reason) == (Action.SKIPPED, "no threshold for GRAPHICS_G6_XLARGE")


def test_prices_without_a_break_even_fall_back_to_the_parameter():
    odd = Priced(BundlePrices(Decimal(5), Decimal("9.75"), Decimal("0.3")), "somewhere")
    chosen = choose_threshold(ws(), THRESHOLDS, {}, odd, use_prices=True)
    assert (chosen.hours, chosen.source) == (85, ThresholdOrigin.PARAMETER)
    assert chosen.prices == (
        "price list not used: the ALWAYS_ON monthly price is not above the AUTO_STOP monthly fee; "
        "list prices somewhere: ALWAYS_ON $5.00/month, AUTO_STOP $9.75/month + $0.30/hour"
    )


def test_unreadable_tags_know_no_tag():
    chosen = choose_threshold(ws(), THRESHOLDS, TagsUnavailable("Throttling"), PRICED, use_prices=True)
    assert (chosen.hours, chosen.source) == (84, ThresholdOrigin.PRICE_LIST)


def test_an_invalid_tag_makes_an_error_and_no_conversion_on_any_day():
    chosen = choose_threshold(ws(), THRESHOLDS, {"Autopilot_Threshold": "lots"}, PRICED, use_prices=True)
    for now in (MID_MONTH, LAST_DAY):
        decision = decide(ws(), usage(now, 300), THRESHOLDS, {}, now, chosen=chosen)
        assert decision.action is Action.ERROR
        assert decision.error_code == "InvalidThresholdTag"
        assert decision.reason == (
            "tag Autopilot_Threshold has the invalid value 'lots': hours must be a whole number from 0 to 744"
        )


def test_state_and_mode_are_judged_before_the_tag():
    chosen = choose_threshold(ws(), THRESHOLDS, {"Autopilot_Threshold": "lots"}, PRICED, use_prices=True)
    decision = evaluate(ws(state="MAINTENANCE"), usage(MID_MONTH, 10), THRESHOLDS, MID_MONTH, chosen=chosen)
    assert decision.action is Action.SKIPPED


@pytest.mark.parametrize(
    ("tag", "billable", "action"),
    [("100", 90, Action.NONE), ("60", 70, Action.TO_ALWAYS_ON), ("70", 70, Action.NONE)],
)
def test_the_tag_moves_the_line_both_ways(tag, billable, action):
    chosen = choose_threshold(ws(), THRESHOLDS, {"Autopilot_Threshold": tag}, PRICED, use_prices=True)
    decision = decide(ws(), usage(MID_MONTH, billable), THRESHOLDS, {}, MID_MONTH, chosen=chosen)
    assert (decision.action, decision.threshold) == (action, int(tag))


def test_skip_convert_still_holds_back_a_conversion_the_tag_asks_for():
    tags = {"Autopilot_Threshold": "10", "Skip_Convert": ""}
    chosen = choose_threshold(ws(), THRESHOLDS, tags, PRICED, use_prices=True)
    decision = decide(ws(), usage(MID_MONTH, 50), THRESHOLDS, tags, MID_MONTH, chosen=chosen)
    assert (decision.action, decision.reason, decision.threshold) == (Action.SKIPPED, "Skip_Convert tag", 10)


def test_the_month_end_reset_uses_the_price_break_even():
    chosen = choose_threshold(ws("ALWAYS_ON"), THRESHOLDS, {}, PRICED, use_prices=True)
    at_84 = decide(ws("ALWAYS_ON"), usage(LAST_DAY, 84, "ALWAYS_ON"), THRESHOLDS, {}, LAST_DAY, chosen=chosen)
    at_85 = decide(ws("ALWAYS_ON"), usage(LAST_DAY, 85, "ALWAYS_ON"), THRESHOLDS, {}, LAST_DAY, chosen=chosen)
    assert (at_84.action, at_85.action) == (Action.TO_AUTO_STOP, Action.NONE)


@given(hours=st.integers(min_value=0, max_value=744), spaces=st.sampled_from(["", " ", "  ", "\t"]))
def test_every_whole_number_of_hours_up_to_744_is_a_valid_tag(hours, spaces):
    assert threshold_tag({"Autopilot_Threshold": f"{spaces}{hours}{spaces}"}) == hours


def test_a_month_without_a_chosen_threshold_keeps_the_parameters():
    now = datetime(2026, 11, 18, 21, tzinfo=UTC)
    assert evaluate(ws(), usage(now, 90), THRESHOLDS, now).threshold == 85
