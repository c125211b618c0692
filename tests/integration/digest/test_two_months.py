"""Two months end to end on the engine: the month-end run of October 31 resets a light user to
AUTO_STOP, November bills it by the hour, and the digest of December 1 reports what that reset
really saved in November, next to what the October report projected."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from tests.conftest import ACCOUNT, REGION
from tests.integration.conftest import read_report
from tests.integration.digest.test_monthly_digest import digest, digests_sent
from tests.support import fleet as fleets
from tools.local_run import run_daily

OCTOBER_31 = datetime(2026, 10, 31, 12, 5, tzinfo=UTC)  # the month-end run
NOVEMBER_30 = datetime(2026, 11, 30, 12, 5, tzinfo=UTC)
LIGHT = {"mode": "ALWAYS_ON", "profile": "part_time", "os": "WINDOWS_SERVER_2022"}  # STANDARD Windows


def test_an_october_31_reset_is_realized_in_the_november_digest(aws, make_fleet, deploy, alert_inbox):
    fleet = make_fleet({"light": LIGHT}, OCTOBER_31)
    stack = deploy(DryRun="false")
    received = alert_inbox(stack)

    output, _ = run_daily(stack.state_machine, OCTOBER_31, run_id="run-oct-31")

    (reset,) = read_report(aws["s3"], output)[0]
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

    # November, now AUTO_STOP: the same user, by the hour
    fleets.seed_usage(ACCOUNT, REGION, fleet.ids["light"], "part_time", "AUTO_STOP", NOVEMBER_30)
    output, _ = run_daily(stack.state_machine, NOVEMBER_30, run_id="run-nov-30")

    (november,) = read_report(aws["s3"], output)[0]
    # 8 sessions of 5 hours, and the 30th's session open since 09:00 (3 hours by 12:00)
    assert (november["running_mode_before"], november["action"], november["billable_hours"]) == (
        "AUTO_STOP",
        "none",
        "43",
    )
    assert november["month_cost"] == "22.65"  # 9.75 + 0.30 x 43

    body = digest(stack)

    # realized in November: ALWAYS_ON would have cost 35.00; AUTO_STOP cost 22.65
    assert body["month"] == "2026-11"
    assert body["realized_saving_by_direction_usd"] == {"to_always_on": "0.00", "to_auto_stop": "12.35"}
    assert body["realized_saving_usd"] == "12.35"
    (message,) = digests_sent(received)
    assert message["Subject"] == "WorkSpaces Autopilot, November 2026: realized $12.35, 0 unused"
    assert json.loads(message["Message"]) == body
    html = aws["s3"].get_object(Bucket=stack.refs["ReportBucket"], Key="digests/2026-11.html")["Body"].read()
    assert fleet.ids["light"] in html.decode()
    figures = (
        aws["s3"].get_object(Bucket=stack.refs["ReportBucket"], Key="digests/2026-11.json")["Body"].read()
    )
    assert Decimal(json.loads(figures)["realized_saving_usd"]) == Decimal("12.35")
