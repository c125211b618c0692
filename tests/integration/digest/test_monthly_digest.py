"""The monthly digest end to end: daily runs of the state machine leave their reports in the
simulator's S3, then the digest function (the real handler, Powertools idempotency in the
ledger table) reads them on the 1st, with the report of the previous month's last day and the
figures earlier digests stored, writes one HTML page and its figures, and sends one message."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

import pytest
from freezegun import freeze_time

from tests.conftest import ACCOUNT, REGION
from tests.support import simulator
from tests.support.lambda_runtime import FakeContext, load_event
from tools.local_run import FREEZE_IGNORE, run_daily
from ws_autopilot.core.models import Target
from ws_autopilot.cost.models import Action, ReportRow
from ws_autopilot.cost.report import to_csv

FIRST = datetime(2026, 12, 1, 6, 0, 5, tzinfo=UTC)
SCHEDULED = load_event("monthly_digest")  # {"scheduled_time": "2026-12-01T06:00:00Z"}
DAYS = [datetime(2026, 11, d, 21, 5, tzinfo=UTC) for d in (18, 19)] + [
    datetime(2026, 11, 30, 12, 5, tzinfo=UTC)
]
END = datetime(2026, 12, 1, tzinfo=UTC)
CENT = Decimal("0.01")
M, F, P = Decimal("35.00"), Decimal("9.75"), Decimal("0.30")  # Standard Windows in the simulator


@pytest.fixture
def month(aws, make_fleet, deploy, alert_inbox):
    """Three runs in November (18th, 19th, 30th): a switch to ALWAYS_ON (busy, priced), an
    opt-out, an error, an unused WorkSpace stopped at month end; and an inbox on the alert topic."""
    fleet = make_fleet(
        {
            "busy": {"mode": "AUTO_STOP", "profile": "office", "os": "WINDOWS_SERVER_2022"},
            "opted_out": {"mode": "AUTO_STOP", "profile": "office", "tags": {"Skip_Convert": ""}},
            "no_metrics": {"mode": "ALWAYS_ON"},
            "idle": {"mode": "AUTO_STOP", "profile": "idle"},
        },
        DAYS[-1],
    )
    simulator.set_connection(
        ACCOUNT, REGION, fleet.ids["idle"], "DISCONNECTED", datetime(2026, 7, 1, tzinfo=UTC)
    )
    stack = deploy(DryRun="false", UnusedAction="stop")
    received = alert_inbox(stack)
    for day in DAYS:
        run_daily(stack.state_machine, day, run_id=f"run-{day:%d}")
    received(FIRST)  # the month's own alerts (the stop) are not the digest's
    return fleet, stack, received


def digest(stack, event=SCHEDULED, at=FIRST):
    with freeze_time(at, ignore=FREEZE_IGNORE):
        return stack.handlers["MonthlyDigestFunction"](event, FakeContext())


def digests_sent(received, at=FIRST):
    return [
        m
        for m in received(at + timedelta(minutes=5))
        if m["MessageAttributes"]["alert_type"]["Value"] == "monthly_digest"
    ]


def page(aws, stack, month="2026-11") -> tuple[str, str]:
    obj = aws["s3"].get_object(Bucket=stack.refs["ReportBucket"], Key=f"digests/{month}.html")
    return obj["Body"].read().decode(), obj["ContentType"]


def stored(aws, stack) -> dict[str, datetime]:
    """The digests in the bucket and when each was written."""
    listed = aws["s3"].list_objects_v2(Bucket=stack.refs["ReportBucket"], Prefix="digests/")
    return {o["Key"]: o["LastModified"] for o in listed.get("Contents", [])}


def report(aws, stack, key) -> dict[str, dict[str, str]]:
    """A report's rows by WorkSpace id."""
    body = aws["s3"].get_object(Bucket=stack.refs["ReportBucket"], Key=key)["Body"].read().decode()
    return {r["workspace_id"]: r for r in csv.DictReader(io.StringIO(body))}


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def october_31(aws, stack, fleet) -> None:
    """The report of the October 31 month-end run, as the product writes one: `idle` reset to
    AUTO_STOP before midnight (in effect in November), `opted_out` reset late, after midnight (in
    effect in December), and a dry run's reset of `no_metrics` (never carried out)."""
    reset = ReportRow(
        account_id=ACCOUNT,
        region=REGION,
        workspace_id=fleet.ids["idle"],
        directory_id=fleet.directory_id,
        user_name="user-idle",
        compute_type="STANDARD",
        state="AVAILABLE",
        running_mode_before="ALWAYS_ON",
        running_mode_after="AUTO_STOP",
        billable_hours=3,
        threshold=84,
        action=Action.TO_AUTO_STOP,
        reason="billable 3 h <= threshold 84 h on the month's last day",
        dry_run=False,
        error_code="",
        evaluated_at="2026-10-31T12:07:00+00:00",
        month_cost=M,
        price_always_on_monthly=M,
        price_auto_stop_monthly=F,
        price_auto_stop_hourly=P,
    )
    rows = [
        reset,
        replace(
            reset, workspace_id=fleet.ids["opted_out"], late=True, evaluated_at="2026-11-01T00:12:00+00:00"
        ),
        replace(reset, workspace_id=fleet.ids["no_metrics"], dry_run=True),
        ReportRow.error(Target(ACCOUNT, REGION), "", "d-gone", "directory not finished", "X", False, "t"),
    ]
    aws["s3"].put_object(
        Bucket=stack.refs["ReportBucket"], Key="reports/2026/10/31/run-oct-31.csv", Body=to_csv(rows).encode()
    )


def test_on_the_first_the_previous_month_is_digested_into_one_page_and_one_message(aws, month):
    fleet, stack, received = month
    october_31(aws, stack, fleet)

    result = digest(stack)

    (message,) = digests_sent(received)
    body = json.loads(message["Message"])
    assert body == result
    assert (
        body["month"] == "2026-11"
        and body["digest"] == f"s3://{stack.refs['ReportBucket']}/digests/2026-11.html"
    )
    assert (body["runs"], body["workspaces"], body["dry_run"]) == (3, 4, False)
    assert body["conversions"] == {"to_always_on": 1, "to_auto_stop": 0}
    assert (body["errors"], body["opted_out"], body["unused"]) == (1, 1, 2)  # idle stopped, no_metrics held
    assert body["final_report"] == "reports/2026/11/30/run-30.csv"
    assert len(body["days_without_report"]) == 27 and "2026-11-18" not in body["days_without_report"]

    # Realized, from the reports: idle's reset of October 31 (November billed by the hour) and
    # busy's switch to ALWAYS_ON on the 18th (the rest of November billed monthly).
    final = report(aws, stack, body["final_report"])
    switch = report(aws, stack, "reports/2026/11/18/run-18.csv")[fleet.ids["busy"]]
    assert switch["action"] == "to_always_on"
    idle = M - cents(F + P * int(final[fleet.ids["idle"]]["billable_hours"]))
    at, before = datetime.fromisoformat(switch["evaluated_at"]), int(switch["billable_hours"])
    overlap = M * Decimal((END - at).total_seconds()) / Decimal(3600 * 720)
    busy = cents(F + P * int(final[fleet.ids["busy"]]["billable_hours"])) - cents(F + P * before + overlap)
    assert body["realized_saving_by_direction_usd"] == {
        "to_always_on": f"{busy:.2f}",
        "to_auto_stop": f"{idle:.2f}",
    }
    assert body["realized_saving_usd"] == f"{idle + busy:.2f}"
    assert (body["realized_workspaces"], body["realized_not_computed"]) == (
        {"to_always_on": 1, "to_auto_stop": 1},
        0,
    )
    assert body["projected_next_month"] == "2026-12"
    assert body["projected_next_month_usd"] == switch["saving_next_month"]
    assert message["Subject"] == f"WorkSpaces Autopilot, November 2026: realized ${idle + busy:.2f}, 2 unused"

    html, content_type = page(aws, stack)
    assert content_type == "text/html; charset=utf-8"
    for name in ("opted_out", "no_metrics", "idle", "busy"):  # opted out, in error, unused; realized
        assert fleet.ids[name] in html
    assert "stopped" in html and "<script" not in html
    assert "1 reset made after midnight by the run of Oct 31 takes effect a month later" in html
    assert "Projected for December 2026 (not yet saved" in html


def test_the_months_figures_are_stored_beside_its_page_for_the_charts_after_it(aws, month):
    fleet, stack, _ = month
    october_31(aws, stack, fleet)
    body = digest(stack)

    stored = aws["s3"].get_object(Bucket=stack.refs["ReportBucket"], Key="digests/2026-11.json")
    assert stored["ContentType"] == "application/json"
    assert json.loads(stored["Body"].read()) == {
        "month": "2026-11",
        "fleet_cost_usd": body["fleet_cost_usd"],
        "realized_saving_usd": body["realized_saving_usd"],
        "dry_run": False,
    }


def test_the_chart_reads_the_earlier_months_and_shows_a_missing_one_as_a_gap(aws, month):
    _, stack, _ = month
    september = {
        "month": "2026-09",
        "fleet_cost_usd": "1043.15",
        "realized_saving_usd": "66.10",
        "dry_run": False,
    }
    bucket = stack.refs["ReportBucket"]
    aws["s3"].put_object(Bucket=bucket, Key="digests/2026-09.json", Body=json.dumps(september).encode())
    aws["s3"].put_object(Bucket=bucket, Key="digests/2026-08.json", Body=b"not the figures")  # a gap

    digest(stack)

    html, _ = page(aws, stack)
    chart = html[html.index("<svg ") : html.index("</svg>")]
    assert ">$66.10</text>" in chart and ">$1,043</text>" in chart
    assert chart.count(">no digest</text>") == 2 * 10, "October and the nine months before September"
    assert "September 2026" in html and "$1,043.15" in html


def test_figures_that_cannot_be_read_fail_the_digest_before_anything_is_sent(aws, month):
    """A missing month is a gap (NoSuchKey); any other failure to read one, here an object
    archived to Glacier (InvalidObjectState), fails the digest: the retry sends it once readable."""
    _, stack, received = month
    bucket = stack.refs["ReportBucket"]
    figures = {"month": "2026-10", "fleet_cost_usd": "955.70", "realized_saving_usd": "97.15"}
    body = json.dumps({**figures, "dry_run": False}).encode()
    aws["s3"].put_object(Bucket=bucket, Key="digests/2026-10.json", Body=body, StorageClass="GLACIER")

    with pytest.raises(Exception, match="GetObject failed: InvalidObjectState"):
        digest(stack)
    assert digests_sent(received) == []
    assert list(stored(aws, stack)) == ["digests/2026-10.json"], "nothing written"

    aws["s3"].put_object(Bucket=bucket, Key="digests/2026-10.json", Body=body)
    digest(stack, at=FIRST + timedelta(minutes=10))
    assert len(digests_sent(received, FIRST + timedelta(minutes=10))) == 1
    assert ">$97.15</text>" in page(aws, stack)[0]


def test_a_schedule_that_fires_twice_sends_one_digest(aws, month):
    _, stack, received = month
    first = digest(stack)
    written = stored(aws, stack)

    second = digest(stack, at=FIRST + timedelta(minutes=3))

    assert second == first
    assert len(digests_sent(received, FIRST + timedelta(minutes=3))) == 1
    assert stored(aws, stack) == written, "the page and its figures are not written again"


def test_a_digest_whose_message_failed_is_sent_by_the_retry(aws, month):
    _, stack, received = month
    outage = simulator.Fault("sns", "Publish", "AuthorizationError", status=403)

    with simulator.inject(outage), pytest.raises(Exception, match="Publish failed: AuthorizationError"):
        digest(stack)
    assert digests_sent(received) == []

    digest(stack, at=FIRST + timedelta(minutes=10))
    assert len(digests_sent(received, FIRST + timedelta(minutes=10))) == 1


def test_a_month_given_by_hand_is_its_own_digest_and_a_month_without_reports_says_so(aws, month):
    _, stack, received = month
    digest(stack)

    october = digest(stack, {"month": "2026-10"})

    assert (october["runs"], october["final_report"], len(october["days_without_report"])) == (0, None, 31)
    assert "No report was found for October 2026" in page(aws, stack, "2026-10")[0]
    stored = aws["s3"].list_objects_v2(Bucket=stack.refs["ReportBucket"], Prefix="digests/")["Contents"]
    assert sorted(o["Key"] for o in stored) == [
        "digests/2026-10.html",
        "digests/2026-11.html",
        "digests/2026-11.json",
        "digests/2026-11.switches.csv",  # busy's switch, which December's digest realizes again
    ], "a month without reports keeps the figures its first digest stored"
    assert [json.loads(m["Message"])["month"] for m in digests_sent(received)] == ["2026-11", "2026-10"]


def test_a_bad_request_is_refused_before_any_call(aws, deploy):
    stack = deploy()
    with pytest.raises(Exception, match="month"):
        digest(stack, {"month": "November"})
    assert stored(aws, stack) == {}
