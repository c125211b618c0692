"""Right-sizing's policy (cost/rightsizing.py) and its read's request (aws/usage.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ws_autopilot.aws.usage import MAX_DATAPOINTS_PER_CALL, MAX_QUERIES_PER_CALL, load_per_call, load_queries
from ws_autopilot.core.models import RunningMode
from ws_autopilot.cost.pricing import BundlePrices
from ws_autopilot.cost.rightsizing import (
    DOWN_AT_MOST,
    MIN_HOURS,
    Direction,
    Load,
    load_of,
    monthly_saving,
    neighbours,
    percentile,
    recommend,
)

NOV = datetime(2026, 11, 30, 12, tzinfo=UTC)


def load(cpu95=20.0, mem95=20.0, cpu50=10.0, mem50=10.0, hours=100):
    return Load(hours, cpu50, cpu95, mem50, mem95)


def test_one_type_down_and_up_stay_within_the_family():
    assert neighbours("STANDARD").down == "VALUE" and neighbours("STANDARD").up == "PERFORMANCE"
    assert neighbours("GRAPHICS_G4DN").up == "GRAPHICSPRO_G4DN"
    assert neighbours("GRAPHICS_G6_16XLARGE").up is None
    assert neighbours("GRAPHICS_G7_2XLARGE").down is None
    assert neighbours("GRAPHICS_GR6F_4XLARGE").down is neighbours("GRAPHICS_GR6F_4XLARGE").up is None
    assert neighbours("NOT_A_TYPE") is None


def test_a_workspace_far_below_its_capacity_goes_one_type_down():
    advice = recommend("POWER", load(cpu95=DOWN_AT_MOST, mem95=12.0, hours=160))
    assert (advice.to, advice.direction) == ("PERFORMANCE", Direction.DOWN)
    assert advice.note == "p95 CPU 30%, memory 12% in 160 in-use hours"


@pytest.mark.parametrize("cpu95, mem95", [(31.0, 10.0), (10.0, 31.0), (55.0, 60.0)])
def test_either_resource_busy_in_its_busy_hours_keeps_the_type(cpu95, mem95):
    assert recommend("POWER", load(cpu95=cpu95, mem95=mem95)).to == ""


@pytest.mark.parametrize("cpu50, mem50", [(80.0, 10.0), (10.0, 85.0), (95.0, 95.0)])
def test_a_workspace_constantly_near_a_limit_goes_one_type_up(cpu50, mem50):
    advice = recommend("POWER", load(cpu95=100.0, mem95=100.0, cpu50=cpu50, mem50=mem50))
    assert (advice.to, advice.direction) == ("POWERPRO", Direction.UP)
    assert advice.note.startswith(f"median CPU {cpu50:.0f}%, memory {mem50:.0f}%")


def test_a_well_sized_workspace_gets_no_recommendation_and_no_note():
    advice = recommend("STANDARD", load(cpu95=60.0, mem95=70.0, cpu50=40.0, mem50=55.0))
    assert (advice.to, advice.note, advice.direction) == ("", "", None)


def test_a_type_with_no_neighbour_gets_no_recommendation_and_says_why():
    smallest = recommend("VALUE", load())
    assert smallest.to == "" and smallest.note.endswith(
        "no smaller type: VALUE is the smallest general purpose type"
    )
    largest = recommend("GRAPHICSPRO_G4DN", load(cpu50=90.0, cpu95=99.0))
    assert largest.to == "" and largest.note.endswith(
        "no larger type: GRAPHICSPRO_G4DN is the largest Graphics.g4dn type"
    )
    retired = recommend("GRAPHICS", load())
    assert retired.to == "" and "GRAPHICS is a retired type" in retired.note


def test_too_few_hours_judged_give_no_recommendation():
    assert recommend("POWER", load(hours=MIN_HOURS - 1)).note == "39 in-use hours (40 needed)"
    assert recommend("POWER", None, "running").note == "0 running hours (40 needed)"
    assert recommend("POWER", load(hours=MIN_HOURS)).to == "PERFORMANCE"


def test_percentiles_are_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 95)) == (50.0, 95.0)
    assert percentile([7.0], 95) == 7.0
    assert percentile([1.0, 100.0], 50) == 1.0


def test_only_the_hours_given_and_with_both_metrics_are_judged():
    start = datetime(2026, 11, 2, tzinfo=UTC)
    hours = [start + timedelta(hours=h) for h in range(10)]
    cpu = {t: (90.0 if i < 5 else 1.0) for i, t in enumerate(hours)}
    memory = {t: 50.0 for t in hours[1:]}  # the first hour has no memory datapoint
    judged = load_of(cpu, memory, frozenset(hours[:5]))
    assert judged == Load(4, 90.0, 90.0, 50.0, 50.0)
    every = load_of(cpu, memory, None)
    assert every is not None and every.hours == 9 and every.cpu_p50 == 1.0
    assert load_of(cpu, {}, None) is None


def test_the_monthly_saving_is_next_months_bill_with_each_type_at_its_mode_and_use():
    standard = BundlePrices(Decimal("35"), Decimal("9.75"), Decimal("0.30"))
    value = BundlePrices(Decimal("25"), Decimal("7.25"), Decimal("0.22"))
    assert monthly_saving(standard, value, RunningMode.ALWAYS_ON, Decimal("0.1"), NOV) == Decimal("10.00")
    # AUTO_STOP at a quarter of December's 744 hours: 186 hours at each hourly price
    expected = (Decimal("9.75") + 186 * Decimal("0.30")) - (Decimal("7.25") + 186 * Decimal("0.22"))
    assert monthly_saving(standard, value, RunningMode.AUTO_STOP, Decimal("0.25"), NOV) == expected
    assert monthly_saving(value, standard, RunningMode.ALWAYS_ON, Decimal(0), NOV) == Decimal("-10.00")


def test_the_load_read_asks_hourly_averages_of_both_metrics_within_the_call_limits():
    queries = load_queries(["ws-a", "ws-b"])
    assert [(q["Id"], q["MetricStat"]["Metric"]["MetricName"]) for q in queries] == [
        ("c0", "CPUUsage"),
        ("r0", "MemoryUsage"),
        ("c1", "CPUUsage"),
        ("r1", "MemoryUsage"),
    ]
    assert {(q["MetricStat"]["Period"], q["MetricStat"]["Stat"]) for q in queries} == {(3600, "Average")}
    assert queries[2]["MetricStat"]["Metric"]["Dimensions"] == [{"Name": "WorkspaceId", "Value": "ws-b"}]
    for hours in (1, 24, 717, 744):
        per_call = load_per_call(hours)
        assert 2 * per_call <= MAX_QUERIES_PER_CALL
        assert 2 * per_call * hours <= MAX_DATAPOINTS_PER_CALL
    assert load_per_call(744) == 67
