"""The monthly digest end to end: daily runs of the state machine leave their reports in the
simulator's S3, then the digest function (the real handler, Powertools idempotency in the
ledger table) reads them on the 1st, writes one HTML page and sends one message."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from tests.conftest import ACCOUNT, REGION
from tests.support import simulator
from tests.support.lambda_runtime import FakeContext, load_event
from tools.local_run import FREEZE_IGNORE, run_daily

FIRST = datetime(2026, 12, 1, 6, 0, 5, tzinfo=UTC)
SCHEDULED = load_event("monthly_digest")  # {"scheduled_time": "2026-12-01T06:00:00Z"}
DAYS = [datetime(2026, 11, d, 21, 5, tzinfo=UTC) for d in (18, 19)] + [
    datetime(2026, 11, 30, 12, 5, tzinfo=UTC)
]


@pytest.fixture
def month(aws, make_fleet, deploy, alert_inbox):
    """Three runs in November (18th, 19th, 30th): a conversion, an opt-out, an error, an unused
    WorkSpace stopped at month end; and an inbox on the alert topic."""
    fleet = make_fleet(
        {
            "busy": {"mode": "AUTO_STOP", "profile": "office"},
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


def test_on_the_first_the_previous_month_is_digested_into_one_page_and_one_message(aws, month):
    fleet, stack, received = month

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
    assert message["Subject"].startswith("WorkSpaces Autopilot, November 2026:")
    html, content_type = page(aws, stack)
    assert content_type == "text/html; charset=utf-8"
    for name in ("opted_out", "no_metrics", "idle"):  # opted out, in error, unused
        assert fleet.ids[name] in html
    assert fleet.ids["busy"] not in html, "a conversion is counted, not listed"
    assert "stopped" in html and "<script" not in html


def test_a_schedule_that_fires_twice_sends_one_digest(aws, month):
    _, stack, received = month
    first = digest(stack)
    puts = simulator.CALLS[("s3", "PutObject")]

    second = digest(stack, at=FIRST + timedelta(minutes=3))

    assert second == first
    assert len(digests_sent(received, FIRST + timedelta(minutes=3))) == 1
    assert simulator.CALLS[("s3", "PutObject")] == puts, "the page is not written again"


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
    assert [json.loads(m["Message"])["month"] for m in digests_sent(received)] == ["2026-11", "2026-10"]


def test_a_bad_request_is_refused_before_any_call(aws, deploy):
    stack = deploy()
    with pytest.raises(Exception, match="month"):
        digest(stack, {"month": "November"})
    assert simulator.CALLS[("s3", "ListObjectsV2")] == 0
