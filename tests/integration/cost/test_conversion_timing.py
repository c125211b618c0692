"""When to switch to ALWAYS_ON (billing rules, "When to switch: the timing rule"), end to end on
the state machine with the simulator's Price List: STANDARD Windows in US East, ALWAYS_ON $35.00 a
month, AUTO_STOP $9.75 + $0.30 an hour, so a threshold of 84 hours and switching pays this month
once p x r x L > M, that is at a use rate r above 35 / (0.30 x 720) = 16.2 % in November."""

from datetime import UTC, datetime

from tests.integration.conftest import read_report
from tools.local_run import run_daily

WINDOWS = "WINDOWS_SERVER_2022"
MID_MONTH = datetime(2026, 11, 18, 21, 5, tzinfo=UTC)  # 429 of November's 720 hours elapsed
FRIDAY_27TH = datetime(2026, 11, 27, 21, 5, tzinfo=UTC)  # 645 hours elapsed
LAST_DAY = datetime(2026, 11, 30, 21, 5, tzinfo=UTC)
# An office worker back from leave on Monday the 16th: weekdays 09:00-17:00, 9 billable hours a
# day; 90 hours by Friday the 27th, over the threshold but at a rate of 90 / 645 = 14 %.
BACK_FROM_LEAVE = {
    "mode": "AUTO_STOP",
    "profile": "office",
    "os": WINDOWS,
    "since": datetime(2026, 11, 16, tzinfo=UTC),
}


def test_savings_holds_a_late_crossing_and_the_month_end_run_converts_it(aws, make_fleet, deploy):
    fleet = make_fleet({"back_from_leave": BACK_FROM_LEAVE}, LAST_DAY)
    stack = deploy(DryRun="false")  # ConversionTiming defaults to Savings

    output, _ = run_daily(stack.state_machine, FRIDAY_27TH)

    (held,) = read_report(aws["s3"], output)[0]
    assert (held["action"], held["billable_hours"], held["threshold"]) == ("none", "90", "84")
    # switching at 21:05 would bill 35 x 74.92 / 720 = 3.64 for the rest of November, where
    # staying hourly at its rate projects 0.30 x 90 / 645 x 74.92 = 3.14
    assert held["reason"] == (
        "billable 90 h > threshold 84 h, but switching today would cost $0.51 more this month than"
        " staying AUTO_STOP at this use; the month-end run converts it"
    )
    assert (held["saving_this_month"], held["saving_next_month"]) == ("0.00", "0.00")
    assert fleet.mode("back_from_leave") == "AUTO_STOP"

    output, _ = run_daily(stack.state_machine, LAST_DAY)

    (converted,) = read_report(aws["s3"], output)[0]
    assert (converted["action"], converted["billable_hours"]) == ("to_always_on", "99")
    assert converted["reason"] == "billable 99 h > threshold 84 h"
    assert fleet.mode("back_from_leave") == "ALWAYS_ON"
    # November: 9.75 + 0.30 x 99, then 35 x 2.92 / 720 for the hours left after 21:05
    assert converted["month_cost"] == "39.59"
    # the 2.92 hours left cost 0.14 monthly against 0.30 x 99 / 717 x 2.92 = 0.12 hourly;
    # December (744 h) at that rate: 9.75 + 0.30 x 99 / 717 x 744 - 35.00
    assert (converted["saving_this_month"], converted["saving_next_month"]) == ("-0.02", "5.57")


def test_savings_converts_a_heavy_user_at_once_with_both_months_savings(aws, make_fleet, deploy):
    fleet = make_fleet({"heavy": {"mode": "AUTO_STOP", "profile": "office", "os": WINDOWS}}, MID_MONTH)
    stack = deploy(DryRun="false")

    output, _ = run_daily(stack.state_machine, MID_MONTH)

    rows, summary = read_report(aws["s3"], output)
    (row,) = rows
    # 13 working days by the 18th: 117 billable hours in 429, a rate of 27 %
    assert (row["action"], row["billable_hours"], row["reason"]) == (
        "to_always_on",
        "117",
        "billable 117 h > threshold 84 h",
    )
    assert fleet.mode("heavy") == "ALWAYS_ON"
    # November: 9.75 + 0.30 x 117 before the switch, 35 x 290.92 / 720 after it; the rest of
    # November hourly would have been 0.30 x 117 / 429 x 290.92; December 9.75 + 0.30 x 117 / 429 x 744
    assert (row["month_cost"], row["saving_this_month"], row["saving_next_month"]) == (
        "58.99",
        "9.66",
        "35.62",
    )
    assert (summary["month"], summary["saving_this_month"]) == ("2026-11", "9.66")
    assert (summary["next_month"], summary["saving_next_month"]) == ("2026-12", "35.62")


def test_threshold_timing_converts_on_the_crossing_day_whatever_it_costs(aws, make_fleet, deploy):
    fleet = make_fleet({"back_from_leave": BACK_FROM_LEAVE}, FRIDAY_27TH)
    stack = deploy(DryRun="false", ConversionTiming="Threshold")

    output, _ = run_daily(stack.state_machine, FRIDAY_27TH)

    (row,) = read_report(aws["s3"], output)[0]
    assert (row["action"], row["reason"]) == ("to_always_on", "billable 90 h > threshold 84 h")
    assert fleet.mode("back_from_leave") == "ALWAYS_ON"
    assert row["saving_this_month"] == "-0.51"  # what Savings would have held it back for
    assert row["month_cost"] == "40.39"  # 9.75 + 0.30 x 90 + 35 x 74.92 / 720


def test_a_later_run_this_month_bills_the_switch_as_the_ledger_remembers_it(aws, make_fleet, deploy):
    fleet = make_fleet({"heavy": {"mode": "AUTO_STOP", "profile": "office", "os": WINDOWS}}, LAST_DAY)
    stack = deploy(DryRun="false")
    run_daily(stack.state_machine, MID_MONTH)

    output, _ = run_daily(stack.state_machine, LAST_DAY)

    (row,) = read_report(aws["s3"], output)[0]
    assert (row["running_mode_before"], row["action"]) == ("ALWAYS_ON", "none")
    assert fleet.mode("heavy") == "ALWAYS_ON"
    # still November's bill as AWS computes it: the hours before the switch on the 18th, then
    # the prorated monthly price, not a plain 35.00
    assert row["month_cost"] == "58.99"
