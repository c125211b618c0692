"""Two months end to end on the engine: the month-end run of October 31 resets a light user to
AUTO_STOP and switches a heavy one to ALWAYS_ON; November bills the first by the hour and the
second by the month; the digest of December 1 reports what both conversions really saved in
November, next to what the October report projected."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from tests.conftest import ACCOUNT, REGION
from tests.integration.conftest import read_report
from tests.integration.cost.test_daily_optimization import by_name
from tests.integration.digest.test_monthly_digest import digest, digests_sent
from tests.support import fleet as fleets
from tools.local_run import run_daily

OCTOBER_31 = datetime(2026, 10, 31, 12, 5, tzinfo=UTC)  # the month-end run
NOVEMBER_30 = datetime(2026, 11, 30, 12, 5, tzinfo=UTC)
LIGHT = {"mode": "ALWAYS_ON", "profile": "part_time", "os": "WINDOWS_SERVER_2022"}  # STANDARD Windows
HEAVY = {"mode": "AUTO_STOP", "profile": "office", "os": "WINDOWS_SERVER_2022"}
NOVEMBER_1 = datetime(2026, 11, 1, 6, 0, 5, tzinfo=UTC)


def test_october_31_conversions_are_realized_in_the_november_digest(aws, make_fleet, deploy, alert_inbox):
    fleet = make_fleet({"light": LIGHT, "heavy": HEAVY}, OCTOBER_31)
    stack = deploy(DryRun="false")
    received = alert_inbox(stack)

    output, _ = run_daily(stack.state_machine, OCTOBER_31, run_id="run-oct-31")

    october = by_name(fleet, read_report(aws["s3"], output)[0])
    reset, switch = october["light"], october["heavy"]
    # Mondays and Wednesdays 09:00-13:00 in October: 8 sessions of 4 + 1 hours in 732 measured
    # hours. October stays $35.00; November projected at that rate: 35.00 - (9.75 + 0.30 x 40 /
    # 732 x 720)
    assert (reset["action"], reset["billable_hours"], reset["late"]) == ("to_auto_stop", "40", "False")
    assert (reset["month_cost"], reset["saving_this_month"], reset["saving_next_month"]) == (
        "35.00",
        "0.00",
        "13.45",
    )
    assert fleet.mode("light") == "AUTO_STOP"
    # 22 working days of 9 hours in October (the 31st is a Saturday): switched on the last day
    assert (switch["action"], switch["billable_hours"]) == ("to_always_on", "198")
    assert fleet.mode("heavy") == "ALWAYS_ON"
    # October's digest: the switch cost October its last 11.92 hours at the monthly price,
    # 35.00 x 11.92 / 744, which its run projected staying hourly would have cost 0.41 more
    assert switch["saving_this_month"] == "0.41"
    october_digest = digest(stack, {"scheduled_time": "2026-11-01T06:00:00Z"}, at=NOVEMBER_1)
    assert october_digest["realized_saving_by_direction_usd"]["to_always_on"] == "-0.56"
    received(NOVEMBER_1)

    # November: the same users, one by the hour, one by the month
    fleets.seed_usage(ACCOUNT, REGION, fleet.ids["light"], "part_time", "AUTO_STOP", NOVEMBER_30)
    fleets.seed_usage(ACCOUNT, REGION, fleet.ids["heavy"], "office", "ALWAYS_ON", NOVEMBER_30)
    output, _ = run_daily(stack.state_machine, NOVEMBER_30, run_id="run-nov-30")

    november_rows = by_name(fleet, read_report(aws["s3"], output)[0])
    november = november_rows["light"]
    # 8 sessions of 5 hours, and the 30th's session open since 09:00 (3 hours by 12:00)
    assert (november["running_mode_before"], november["action"], november["billable_hours"]) == (
        "AUTO_STOP",
        "none",
        "43",
    )
    assert november["month_cost"] == "22.65"  # 9.75 + 0.30 x 43

    assert (november_rows["heavy"]["billable_hours"], november_rows["heavy"]["month_cost"]) == (
        "183",
        "35.00",
    )

    body = digest(stack)

    # realized in November: the reset, ALWAYS_ON's 35.00 against AUTO_STOP's 22.65; the switch,
    # AUTO_STOP's 9.75 + 0.30 x 183 = 64.65 against ALWAYS_ON's 35.00
    assert body["month"] == "2026-11"
    assert body["realized_saving_by_direction_usd"] == {"to_always_on": "29.65", "to_auto_stop": "12.35"}
    assert body["realized_saving_usd"] == "42.00"
    (message,) = digests_sent(received)
    assert message["Subject"] == "WorkSpaces Autopilot, November 2026: realized $42.00, 0 unused"
    assert json.loads(message["Message"]) == body
    html = aws["s3"].get_object(Bucket=stack.refs["ReportBucket"], Key="digests/2026-11.html")["Body"].read()
    assert fleet.ids["light"] in html.decode() and fleet.ids["heavy"] in html.decode()
    assert "switched during October: billed monthly all November 2026" in html.decode()
    figures = (
        aws["s3"].get_object(Bucket=stack.refs["ReportBucket"], Key="digests/2026-11.json")["Body"].read()
    )
    assert Decimal(json.loads(figures)["realized_saving_usd"]) == Decimal("42.00")
