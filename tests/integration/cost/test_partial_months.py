"""Partial months end to end (billing rules, "Partial months"): on the month's last day, an
ALWAYS_ON WorkSpace whose series starts late (created mid-month) or has a gap of days is judged at
its measured rate, not as if it had been idle when nothing was measured; one measured under a week
is not reset at all."""

from datetime import UTC, datetime

from tests.integration.conftest import read_report
from tests.integration.cost.test_daily_optimization import by_name
from tools.local_run import run_daily

LAST_DAY = datetime(2026, 11, 30, 21, 5, tzinfo=UTC)

FLEET = {
    # an office worker's new WorkSpace: 7 working days x 9 h = 63 billable hours since the 20th,
    # which alone would be under 85; 173 h at that rate over the month
    "created_mid_month": {
        "mode": "ALWAYS_ON",
        "profile": "office",
        "since": datetime(2026, 11, 20, tzinfo=UTC),
    },
    # the same worker all month, with no datapoint from the 5th to the 24th
    "metric_gap": {
        "mode": "ALWAYS_ON",
        "profile": "office",
        "gap": (datetime(2026, 11, 5, tzinfo=UTC), datetime(2026, 11, 25, tzinfo=UTC)),
    },
    "under_a_week": {
        "mode": "ALWAYS_ON",
        "profile": "part_time",
        "since": datetime(2026, 11, 26, tzinfo=UTC),
    },
    # a light user created on the 9th: reset on what a whole month at its rate would show
    "light_since_the_9th": {
        "mode": "ALWAYS_ON",
        "profile": "part_time",
        "since": datetime(2026, 11, 9, tzinfo=UTC),
    },
    "light_all_month": {"mode": "ALWAYS_ON", "profile": "part_time"},
}


def test_partial_months_are_judged_at_their_measured_rate(aws, make_fleet, deploy):
    fleet = make_fleet(FLEET, LAST_DAY)
    stack = deploy(DryRun="false", ThresholdSource="Parameters")

    output, _ = run_daily(stack.state_machine, LAST_DAY)

    report = by_name(fleet, read_report(aws["s3"], output)[0])
    assert {name: (row["action"], fleet.mode(name)) for name, row in report.items()} == {
        "created_mid_month": ("none", "ALWAYS_ON"),
        "metric_gap": ("none", "ALWAYS_ON"),
        "under_a_week": ("none", "ALWAYS_ON"),
        "light_since_the_9th": ("to_auto_stop", "AUTO_STOP"),
        "light_all_month": ("to_auto_stop", "AUTO_STOP"),
    }
    assert report["created_mid_month"]["billable_hours"] == "63"
    assert report["created_mid_month"]["reason"] == (
        "billable 63 h, 173 h over the whole month at that rate > threshold 85 h"
        " (measured since 2026-11-20 00:00 UTC only (261 of 717 h))"
    )
    assert "measured since 2026-11-01 00:00 UTC only (237 of 717 h)" in report["metric_gap"]["reason"]
    assert report["under_a_week"]["reason"] == (
        "measured since 2026-11-26 00:00 UTC only (117 of 717 h): under 168 h, not reset;"
        " judged again next month"
    )
    assert "over the whole month at that rate <= threshold 85 h" in report["light_since_the_9th"]["reason"]
    assert report["light_all_month"]["reason"].startswith("month-end reset: billable ")
