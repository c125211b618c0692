"""Compute types that do not hibernate: which they are, and what the month-end reset of one of
them says (NoHibernationTypes=ConvertToAutoStop) or does (KeepAlwaysOn, the default)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.unit.cost.test_rules import LAST_DAY, MID_MONTH, usage, ws
from ws_autopilot.cost.hibernation import (
    KEPT_PREFIX,
    NoHibernationTypes,
    hibernates,
    reset_saving,
)
from ws_autopilot.cost.models import Action
from ws_autopilot.cost.pricing import BundlePrices
from ws_autopilot.cost.rules import decide, evaluate

THRESHOLDS = {"STANDARD": 85, "GRAPHICS_G4DN": 334, "GENERALPURPOSE_8XLARGE": 120, "GRAPHICS_G7_2XLARGE": 200}
G4DN = BundlePrices(Decimal("1100.00"), Decimal("66.00"), Decimal("3.30"))
KEEP, CONVERT = NoHibernationTypes.KEEP_ALWAYS_ON, NoHibernationTypes.CONVERT


@pytest.mark.parametrize(
    ("compute", "hibernating"),
    [
        ("STANDARD", True),
        ("POWERPRO", True),
        ("GRAPHICS", False),
        ("GRAPHICSPRO_G4DN", False),
        ("GRAPHICS_G6F_LARGE", False),
        ("GRAPHICS_G7_12XLARGE", False),
        ("GENERALPURPOSE_4XLARGE", False),
        ("GENERALPURPOSE_8XLARGE", False),
        ("GENERALPURPOSE_16XLARGE", False),  # unknown: not known to hibernate
    ],
)
def test_only_the_documented_types_hibernate(compute, hibernating):
    assert hibernates(compute) is hibernating


@pytest.mark.parametrize("compute", ["GRAPHICS_G4DN", "GENERALPURPOSE_8XLARGE", "GRAPHICS_G7_2XLARGE"])
def test_a_reset_of_a_type_that_does_not_hibernate_says_what_its_users_lose(compute):
    decision = evaluate(
        ws(mode="ALWAYS_ON", compute=compute),
        usage(LAST_DAY, 40, "ALWAYS_ON"),
        THRESHOLDS,
        LAST_DAY,
        no_hibernation=CONVERT,
    )
    assert decision.action is Action.TO_AUTO_STOP
    assert decision.reason == (
        f"month-end reset: billable 40 h <= threshold {THRESHOLDS[compute]} h; {compute} does not"
        " hibernate: its open applications and unsaved work are lost each time it stops after the"
        " AutoStop timeout (NoHibernationTypes=ConvertToAutoStop)"
    )


def test_by_default_such_a_reset_is_held_on_always_on_with_what_it_would_save():
    decision = decide(
        ws(mode="ALWAYS_ON", compute="GRAPHICS_G4DN"),
        usage(LAST_DAY, 40, "ALWAYS_ON"),
        THRESHOLDS,
        {},
        LAST_DAY,
        prices=G4DN,
    )
    # M - (F + p x 40/717 x 744): 1100 - (66 + 3.30 x 41.506...) = 897.03
    assert (decision.action, decision.billable_hours, decision.threshold) == (Action.SKIPPED, 40, 334)
    assert decision.reason == (
        f"{KEPT_PREFIX}GRAPHICS_G4DN does not hibernate, so as AUTO_STOP its open applications and"
        " unsaved work would be lost each time it stopped after the AutoStop timeout; month-end reset:"
        " billable 40 h <= threshold 334 h: not made; AUTO_STOP would save $897.03 in December 2026"
        " at this use (NoHibernationTypes=KeepAlwaysOn; ConvertToAutoStop converts it)"
    )


def test_a_held_reset_without_prices_gives_no_dollars_and_an_unknown_type_is_named_as_such():
    decision = evaluate(
        ws(mode="ALWAYS_ON", compute="GRAPHICS_G9_XLARGE"),
        usage(LAST_DAY, 40, "ALWAYS_ON"),
        {"GRAPHICS_G9_XLARGE": 100},
        LAST_DAY,
        no_hibernation=KEEP,
    )
    assert decision.action is Action.SKIPPED
    assert decision.reason.startswith(f"{KEPT_PREFIX}GRAPHICS_G9_XLARGE is not known to hibernate, so")
    assert "would save" not in decision.reason


@pytest.mark.parametrize("policy", [KEEP, CONVERT])
def test_hibernating_types_and_other_decisions_are_untouched(policy):
    reset = evaluate(
        ws(mode="ALWAYS_ON"), usage(LAST_DAY, 40, "ALWAYS_ON"), THRESHOLDS, LAST_DAY, no_hibernation=policy
    )
    assert (reset.action, reset.reason) == (
        Action.TO_AUTO_STOP,
        "month-end reset: billable 40 h <= threshold 85 h",
    )
    heavy = evaluate(
        ws(compute="GRAPHICS_G4DN"), usage(MID_MONTH, 340), THRESHOLDS, MID_MONTH, no_hibernation=policy
    )
    assert (heavy.action, heavy.reason) == (
        Action.TO_ALWAYS_ON,
        "billable 340 h > threshold 334 h (no prices, so converted on the threshold)",
    )
    kept_on = evaluate(
        ws(mode="ALWAYS_ON", compute="GRAPHICS_G4DN"),
        usage(LAST_DAY, 340, "ALWAYS_ON"),
        THRESHOLDS,
        LAST_DAY,
        no_hibernation=policy,
    )
    assert (kept_on.action, kept_on.reason) == (Action.NONE, "billable 340 h > threshold 334 h")


def test_a_reset_that_would_cost_more_says_so():
    cheap_monthly = BundlePrices(Decimal("100.00"), Decimal("66.00"), Decimal("3.30"))
    at = datetime(2026, 11, 30, 21, tzinfo=UTC)
    assert reset_saving(cheap_monthly, 40, 717, at) == Decimal("-102.97")
    decision = evaluate(
        ws(mode="ALWAYS_ON", compute="GRAPHICS_G4DN"),
        usage(at, 40, "ALWAYS_ON"),
        THRESHOLDS,
        at,
        prices=cheap_monthly,
    )
    assert "AUTO_STOP would cost $102.97 more in December 2026 at this use" in decision.reason
