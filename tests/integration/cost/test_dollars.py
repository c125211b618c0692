"""Thresholds from each WorkSpace's prices, per-WorkSpace threshold tags, and dollars in the report:
the state machine definition drives the real handlers against the simulator's Price List."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from tests.conftest import ACCOUNT, REGION
from tests.integration.conftest import read_report
from tests.integration.cost.test_daily_optimization import by_name
from tests.support import price_list, simulator
from tests.support.lambda_runtime import FakeContext
from tools.local_run import run_daily

MID_MONTH = datetime(2026, 11, 18, 21, 5, tzinfo=UTC)  # 429 of November's 720 hours elapsed
LAST_DAY = datetime(2026, 11, 30, 21, 5, tzinfo=UTC)
WINDOWS = "WINDOWS_SERVER_2022"
# part_time: Mondays and Wednesdays 09:00-13:00, 6 sessions of 4 + 1 hours by the 18th: 30 hours;
# office: weekdays 09:00-17:00, 13 days of 8 + 1 hours: 117 hours.
FLEET = {
    "priced": {"mode": "AUTO_STOP", "profile": "part_time", "os": WINDOWS},
    "byol": {"mode": "AUTO_STOP", "profile": "part_time", "os": "WINDOWS_10"},
    "linux_busy": {"mode": "AUTO_STOP", "profile": "office", "os": "AMAZON_LINUX_2"},
    "no_os": {"mode": "AUTO_STOP", "profile": "part_time"},
    "unpriced": {
        "mode": "AUTO_STOP",
        "profile": "office",
        "os": WINDOWS,
        "compute": "GENERALPURPOSE_4XLARGE",
        "root_gib": 175,
        "user_gib": 150,  # a user volume grown by hand: no listed pair
    },
    "unpriced_no_parameter": {
        "mode": "AUTO_STOP",
        "profile": "office",
        "os": WINDOWS,
        "compute": "GRAPHICS_G6_XLARGE",
        "root_gib": 100,
        "user_gib": 150,
    },
    "monthly": {"mode": "ALWAYS_ON", "profile": "office", "os": WINDOWS},
}


def dear_standard_hours() -> None:
    """Standard Windows (licence included) at $1.00 an hour in US East: break-even 25 hours."""
    changed = price_list.set_price(
        ACCOUNT,
        {
            "regionCode": REGION,
            "bundle": "Standard",
            "operatingSystem": "Windows",
            "license": "Included",
            "softwareIncluded": "None",  # not the Office variant
        },
        "Hrs",
        "1.00",
    )
    assert changed == 3  # one hourly product per volume pair


def test_each_workspace_is_judged_by_the_break_even_of_its_own_prices(aws, make_fleet, deploy):
    fleet = make_fleet(FLEET, MID_MONTH)
    dear_standard_hours()
    stack = deploy(DryRun="false", ExtraThresholds="GENERALPURPOSE_4XLARGE=100")

    output, _ = run_daily(stack.state_machine, MID_MONTH)

    rows, summary = read_report(aws["s3"], output)
    report = by_name(fleet, rows)
    seen = {n: (r["action"], r["threshold"], r["threshold_source"]) for n, r in report.items()}
    assert seen == {
        "priced": ("to_always_on", "25", "price_list"),  # 30 h > floor((35 - 9.75) / 1.00)
        "byol": ("none", "81", "price_list"),  # floor((31 - 9.75) / 0.26)
        "linux_busy": ("to_always_on", "82", "price_list"),  # floor((27 - 9.75) / 0.21), 117 h
        "no_os": ("none", "85", "parameter"),
        "unpriced": ("to_always_on", "100", "parameter"),
        "unpriced_no_parameter": ("skipped", "", ""),
        "monthly": ("none", "25", "price_list"),  # ALWAYS_ON: judged only on the last day
    }
    assert fleet.mode("priced") == "ALWAYS_ON"
    assert report["priced"]["prices"] == (
        "us-east-1 STANDARD Windows (licence included), root 80 GB, user 50 GB: ALWAYS_ON $35.00/month, "
        "AUTO_STOP $9.75/month + $1.00/hour -> floor((35 - 9.75) / 1) = 25 h"
    )
    assert (
        report["no_os"]["prices"]
        == "price list not used: DescribeWorkspaces gives no operating system (none)"
    )
    assert report["unpriced"]["prices"] == (
        "price list not used: the price list has no price for us-east-1 GENERALPURPOSE_4XLARGE Windows "
        "(licence included), root 175 GB, user 150 GB; it lists GeneralPurpose.4xlarge Windows with "
        "root/user GB 175/100"
    )
    assert report["unpriced_no_parameter"]["reason"] == "no threshold for GRAPHICS_G6_XLARGE"
    assert report["unpriced_no_parameter"]["prices"].startswith(
        "price list not used: the price list has no price"
    )
    # switched at 21:05 on the 18th, 290.92 h before December: November bills 9.75 + 30 x 1.00 for
    # the hours before and 35.00 x 290.92 / 720 after; at its rate so far (30 of 429 h) staying
    # hourly would have billed 30 / 429 x 290.92 x 1.00, and December 9.75 + 30 / 429 x 744 x 1.00
    priced_row = report["priced"]
    assert (priced_row["month_cost"], priced_row["saving_this_month"], priced_row["saving_next_month"]) == (
        "53.89",
        "6.20",
        "26.78",
    )
    assert (priced_row["price_always_on_monthly"], priced_row["price_auto_stop_hourly"]) == ("35.00", "1.00")
    monthly = report["monthly"]
    assert (monthly["month_cost"], monthly["saving_this_month"], monthly["saving_next_month"]) == (
        "35.00",
        "0.00",
        "0.00",
    )
    assert report["no_os"]["month_cost"] == report["unpriced"]["saving_next_month"] == ""
    priced = [r for r in rows if r["month_cost"]]
    assert summary["priced_workspaces"] == len(priced) == 4
    assert (summary["month"], summary["next_month"]) == ("2026-11", "2026-12")
    for column in ("month_cost", "saving_this_month", "saving_next_month"):
        total = summary["month_to_date_cost" if column == "month_cost" else column]
        assert Decimal(total) == sum(Decimal(r[column]) for r in priced), column
    assert simulator.CALLS[("pricing", "GetProducts")] == 3  # US East's 299 products, 100 a page


def test_with_threshold_source_parameters_prices_only_count_the_dollars(aws, make_fleet, deploy):
    fleet = make_fleet({k: FLEET[k] for k in ("priced", "monthly")}, MID_MONTH)
    dear_standard_hours()
    stack = deploy(DryRun="false", ThresholdSource="Parameters")

    output, _ = run_daily(stack.state_machine, MID_MONTH)

    report = by_name(fleet, read_report(aws["s3"], output)[0])
    assert (report["priced"]["action"], report["priced"]["threshold"]) == ("none", "85")
    assert report["priced"]["threshold_source"] == "parameter"
    assert report["priced"]["prices"].startswith(
        "price list not used: ThresholdSource is Parameters; list prices us-east-1 STANDARD Windows"
    )
    assert report["priced"]["month_cost"] == "39.75"


def test_a_light_user_reset_on_the_last_day_reports_next_months_saving(aws, make_fleet, deploy):
    fleet = make_fleet(
        {"light_monthly": {"mode": "ALWAYS_ON", "profile": "part_time", "os": WINDOWS}}, LAST_DAY
    )
    stack = deploy(DryRun="true")

    output, _ = run_daily(stack.state_machine, LAST_DAY)

    rows, summary = read_report(aws["s3"], output)
    (row,) = rows
    # Mondays and Wednesdays of November: 9 sessions of 4 + 1 hours; next month at that use
    assert (row["action"], row["billable_hours"], row["threshold"]) == ("to_auto_stop", "45", "84")
    # November is billed monthly whatever happens now; December (744 h) at November's rate:
    # 35.00 - (9.75 + 0.30 x 45 / 717 x 744)
    assert (row["month_cost"], row["saving_this_month"], row["saving_next_month"]) == (
        "35.00",
        "0.00",
        "11.24",
    )
    assert (summary["saving_this_month"], summary["saving_next_month"]) == ("0.00", "11.24")
    assert (summary["month"], summary["next_month"]) == ("2026-11", "2026-12")
    assert fleet.mode("light_monthly") == "ALWAYS_ON"  # dry run


def test_a_threshold_tag_overrides_one_workspace_and_an_invalid_one_converts_nothing(aws, make_fleet, deploy):
    fleet = make_fleet(
        {
            "tagged_low": {
                "mode": "AUTO_STOP",
                "profile": "part_time",
                "os": WINDOWS,
                "tags": {"Autopilot_Threshold": "20"},
            },
            "tagged_high": {
                "mode": "AUTO_STOP",
                "profile": "office",
                "tags": {" autopilot_threshold": "200"},
            },
            "tagged_bad": {"mode": "AUTO_STOP", "profile": "office", "tags": {"Autopilot_Threshold": "lots"}},
            "opted_out": {
                "mode": "AUTO_STOP",
                "profile": "part_time",
                "tags": {"Autopilot_Threshold": "20", "Skip_Convert": ""},
            },
            "untagged": {"mode": "AUTO_STOP", "profile": "office"},
        },
        MID_MONTH,
    )
    stack = deploy(DryRun="false", ConversionTiming="Threshold")  # converted on the crossing day

    output, _ = run_daily(stack.state_machine, MID_MONTH)

    report = by_name(fleet, read_report(aws["s3"], output)[0])
    seen = {n: (r["action"], r["threshold"], r["threshold_source"]) for n, r in report.items()}
    assert seen == {
        "tagged_low": ("to_always_on", "20", "tag"),
        "tagged_high": ("none", "200", "tag"),
        "tagged_bad": ("error", "", ""),
        "opted_out": ("skipped", "20", "tag"),
        "untagged": ("to_always_on", "85", "parameter"),
    }
    assert report["tagged_bad"]["reason"] == (
        "tag Autopilot_Threshold has the invalid value 'lots': hours must be a whole number from 0 to 744"
    )
    assert report["tagged_bad"]["error_code"] == "InvalidThresholdTag"
    assert simulator.modifications(ACCOUNT, REGION, fleet.ids["tagged_bad"]) == []
    assert report["tagged_low"]["prices"].startswith(
        "price list not used: Autopilot_Threshold tag; list prices"
    )
    assert simulator.CALLS[("resourcegroupstaggingapi", "GetResources")] == 1  # the batch's tags at once


def test_a_denied_price_list_falls_back_to_the_hour_parameters_with_the_reason(aws, make_fleet, deploy):
    fleet = make_fleet({k: FLEET[k] for k in ("priced", "linux_busy")}, MID_MONTH)
    stack = deploy(DryRun="false")

    with simulator.inject(simulator.Fault("pricing", "GetProducts", "AccessDeniedException")):
        output, _ = run_daily(stack.state_machine, MID_MONTH)

    rows, summary = read_report(aws["s3"], output)
    report = by_name(fleet, rows)
    assert {n: (r["action"], r["threshold_source"]) for n, r in report.items()} == {
        "priced": ("none", "parameter"),
        "linux_busy": ("to_always_on", "parameter"),
    }
    assert report["priced"]["prices"] == (
        "price list not used: price list unavailable: GetProducts failed: AccessDeniedException"
    )
    assert report["priced"]["month_cost"] == ""
    assert (summary["month_to_date_cost"], summary["priced_workspaces"]) == ("0.00", 0)


def test_prices_are_looked_up_a_handful_of_times_per_run_not_per_workspace(aws, make_fleet, deploy):
    make_fleet(
        {f"a{i}": {"mode": "AUTO_STOP", "profile": "office", "os": WINDOWS} for i in range(60)}, MID_MONTH
    )
    make_fleet(
        {f"b{i}": {"mode": "ALWAYS_ON", "profile": "office", "os": WINDOWS} for i in range(30)}, MID_MONTH
    )
    stack = deploy(DryRun="false")

    _, execution = run_daily(stack.state_machine, MID_MONTH, context_factory=lambda _f: FakeContext([60_000]))
    first_run = simulator.CALLS[("pricing", "GetProducts")]
    run_daily(stack.state_machine, MID_MONTH.replace(hour=22))

    assert execution.invocations["OptimizeDirectoryFunctionArn"] == 2  # one per directory
    assert first_run == 3, "once for the region (3 pages), then from the day's cache"
    assert simulator.CALLS[("pricing", "GetProducts")] == 3, "a second run that day asks nothing"


def test_with_the_tagging_api_denied_a_threshold_tag_can_only_hold_a_conversion_back(aws, make_fleet, deploy):
    fleet = make_fleet(
        {
            "held_back": {"mode": "AUTO_STOP", "profile": "office", "tags": {"Autopilot_Threshold": "200"}},
            "not_seen": {"mode": "AUTO_STOP", "profile": "part_time", "tags": {"Autopilot_Threshold": "20"}},
        },
        MID_MONTH,
    )
    stack = deploy(DryRun="false")

    with simulator.inject(
        simulator.Fault("resourcegroupstaggingapi", "GetResources", "AccessDeniedException")
    ):
        output, _ = run_daily(stack.state_machine, MID_MONTH)

    rows, summary = read_report(aws["s3"], output)
    report = by_name(fleet, rows)
    assert {n: (r["action"], r["threshold"]) for n, r in report.items()} == {
        "held_back": ("none", "200"),
        "not_seen": ("none", "85"),
    }
    assert simulator.CALLS[("workspaces", "DescribeTags")] == 1
    assert "Autopilot_Threshold" in summary["notes"][0]
