"""The monthly digest as pure functions (digest.py): the month covered, the reports read back,
what the digest keeps from each run, and the HTML a manager reads."""

import io
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from ws_autopilot.core.models import Target
from ws_autopilot.cost.models import Action, ReportRow
from ws_autopilot.cost.report import to_csv
from ws_autopilot.digest.content import (
    DigestBuilder,
    DigestRequest,
    ReportRun,
    digest_month,
    final_run,
    month_days,
    read_rows,
    render,
    usd,
)

NOW = datetime(2026, 12, 1, 6, 0, 12, tzinfo=UTC)


def row(workspace_id: str, action: Action = Action.NONE, **changes) -> ReportRow:
    made = ReportRow(
        account_id="123456789012",
        region="us-east-1",
        workspace_id=workspace_id,
        directory_id="d-0123456789",
        user_name=f"user-{workspace_id}",
        compute_type="STANDARD",
        state="AVAILABLE",
        running_mode_before="AUTO_STOP",
        running_mode_after="AUTO_STOP",
        billable_hours=10,
        threshold=85,
        action=action,
        reason="billable 10 h <= threshold 85 h",
        dry_run=False,
        error_code="",
        evaluated_at="2026-11-30T12:05:00+00:00",
    )
    return replace(made, **changes)


def csv_lines(*rows: ReportRow) -> io.StringIO:
    return io.StringIO(to_csv(rows), newline="")


def run(day: int, hour: int = 21, name: str = "") -> ReportRun:
    return ReportRun(
        f"reports/2026/11/{day:02d}/{name or f'run-{day}-{hour}'}.csv",
        date(2026, 11, day),
        datetime(2026, 11, day, hour, 40, tzinfo=UTC),
    )


# -- the month ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("scheduled", "month"),
    [
        (datetime(2026, 12, 1, 6, tzinfo=UTC), "2026-11"),
        (datetime(2027, 1, 1, 6, tzinfo=UTC), "2026-12"),
        (datetime(2026, 12, 1, 0, 30), "2026-11"),  # naive: UTC
        (datetime(2026, 12, 1, 1, 0, tzinfo=UTC) - timedelta(hours=2), "2026-10"),  # 23:00 on Nov 30
    ],
)
def test_the_digest_covers_the_month_before_the_scheduled_time(scheduled, month):
    assert digest_month(scheduled) == month


def test_a_request_names_a_month_or_a_scheduled_time():
    assert DigestRequest.model_validate({"scheduled_time": "2026-12-01T06:00:00Z"}).covered_month == "2026-11"
    assert DigestRequest.model_validate({"month": "2026-10"}).covered_month == "2026-10"
    for bad in (
        {},
        {"month": "2026-10", "scheduled_time": "2026-12-01T06:00:00Z"},
        {"month": "2026-13"},
        {"month": "Nov"},
    ):
        with pytest.raises(ValidationError):
            DigestRequest.model_validate(bad)


def test_month_days_know_leap_years_and_refuse_anything_else():
    assert len(month_days("2028-02")) == 29 and month_days("2026-11")[-1] == date(2026, 11, 30)
    with pytest.raises(ValueError):
        month_days("2026-11-01")


# -- reading reports back -------------------------------------------------------------------------
def test_a_report_reads_back_as_written_formula_quotes_undone():
    written = row(
        "ws-1",
        Action.TO_ALWAYS_ON,
        user_name="=HYPERLINK(1)",
        reason='a, b\nand a quote " inside',
        month_cost=Decimal("61.40"),
        month_saving=Decimal("-3.20"),
        unused_action="held: Skip_Terminate tag",
        last_connection="2026-07-14T09:30:00+00:00",
    )
    (read,) = read_rows(csv_lines(written))
    assert (read.user_name, read.reason, read.action) == ("=HYPERLINK(1)", written.reason, "to_always_on")
    assert (read.month_cost, read.month_saving) == (Decimal("61.40"), Decimal("-3.20"))
    assert (read.unused_word, read.last_connection, read.dry_run) == ("held", written.last_connection, False)


def test_an_older_report_without_the_new_columns_reads_with_them_empty():
    old = io.StringIO(
        '"account_id","region","workspace_id","action","dry_run"\n"1","us-east-1","ws-1","none",True\n'
    )
    (read,) = read_rows(old)
    assert (read.month_cost, read.unused_action, read.dry_run) == (None, "", True)


def test_rows_without_a_workspace_are_not_counted():
    failed = ReportRow.error(Target("1", "us-east-1"), "", "d-1", "directory not finished", "X", False, "t")
    assert list(read_rows(csv_lines(failed, row("ws-2")))) == list(read_rows(csv_lines(row("ws-2"))))


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "12 USD", ""])
def test_unreadable_amounts_read_as_unknown(amount):
    text = f'"workspace_id","month_cost","month_saving"\n"ws-1","{amount}","1.5"\n'
    (read,) = read_rows(io.StringIO(text))
    assert (read.month_cost, read.month_saving) == (None, Decimal("1.5"))


# -- building the digest --------------------------------------------------------------------------
def build(runs: dict[ReportRun, list[ReportRow]]) -> DigestBuilder:
    builder = DigestBuilder("2026-11", final=final_run(runs))
    for report, rows in sorted(runs.items(), key=lambda item: (item[0].day, item[0].written_at)):
        builder.add(report, read_rows(csv_lines(*rows)))
    return builder


def test_the_final_view_is_the_last_report_of_the_latest_day():
    runs = [run(29), run(30, 12), run(30, 21), run(3)]
    assert final_run(runs) == run(30, 21)
    assert final_run([]) is None


def test_conversions_come_from_every_run_once_per_workspace_with_their_savings():
    runs = {
        run(10): [row("ws-1", Action.TO_ALWAYS_ON, month_saving=Decimal("12.00")), row("ws-2")],
        run(11): [row("ws-1", reason="converted to ALWAYS_ON by run run-10-21 ..."), row("ws-2")],
        run(30, 12): [
            row("ws-2", Action.TO_AUTO_STOP, month_saving=Decimal("0")),
            row("ws-3", Action.TO_AUTO_STOP),
        ],
        run(30, 21): [row("ws-1"), row("ws-2"), row("ws-3")],
    }
    digest = build(runs).digest(NOW)
    by_direction = {c.direction: c for c in digest.conversions}
    assert [r.workspace_id for r in by_direction["to_always_on"].rows] == ["ws-1"]
    assert sorted(r.workspace_id for r in by_direction["to_auto_stop"].rows) == ["ws-2", "ws-3"]
    assert (by_direction["to_always_on"].saving, by_direction["to_auto_stop"].saving) == (
        Decimal(12),
        Decimal(0),
    )
    assert digest.saving == Decimal(12)
    assert digest.summary()["conversions"] == {"to_always_on": 1, "to_auto_stop": 2}


def test_a_dry_run_decision_repeated_daily_counts_once_and_the_digest_says_dry_run():
    runs = {run(d): [row("ws-1", Action.TO_ALWAYS_ON, dry_run=True)] for d in range(1, 31)}
    digest = build(runs).digest(NOW)
    assert [len(c.rows) for c in digest.conversions] == [1, 0]
    assert digest.dry_run and digest.missing_days == []


def test_errors_costliest_and_unused_come_from_the_final_view_stops_from_the_run_that_made_them():
    final = [row(f"ws-{n:02d}", month_cost=Decimal(n)) for n in range(12)]
    final[0] = replace(final[0], action=Action.ERROR, reason="metrics unavailable", error_code="Throttling")
    final[1] = replace(final[1], unused_action="reported", last_connection="2026-07-01T00:00:00+00:00")
    final[2] = replace(final[2], unused_action="unknown: connection status unreadable (AccessDenied)")
    runs = {
        run(29): [row("ws-gone", unused_action="terminated", month_cost=Decimal("30.00")), *final[3:]],
        run(30, 21): final,
    }
    digest = build(runs).digest(NOW)
    assert [r.workspace_id for r in digest.errors] == ["ws-00"]
    assert [r.workspace_id for r in digest.costliest] == [f"ws-{n:02d}" for n in range(11, 1, -1)]
    assert [r.workspace_id for r in digest.unused] == ["ws-gone", "ws-01"]  # by cost
    assert (digest.unused_cost, digest.not_judged) == (Decimal(31), 1)
    assert digest.fleet_cost == Decimal(sum(range(12)))
    assert digest.missing_days == [date(2026, 11, d) for d in range(1, 29)]
    assert (digest.workspaces, digest.runs) == (12, 2)


def test_opted_out_workspaces_are_gathered_from_the_whole_month():
    runs = {
        run(5): [row("ws-1", Action.SKIPPED, reason="Skip_Convert tag")],
        run(30): [row("ws-1"), row("ws-2", Action.SKIPPED, reason="no threshold for GRAPHICS_G6_XLARGE")],
    }
    assert [r.workspace_id for r in build(runs).digest(NOW).opted_out] == ["ws-1"]


# -- the page ---------------------------------------------------------------------------------------
def rendered(**runs_rows) -> str:
    runs = {
        run(30): [row("ws-1", Action.TO_ALWAYS_ON, month_cost=Decimal("61.40"), month_saving=Decimal("8.5"))]
    }
    runs.update(runs_rows)
    return render(build(runs).digest(NOW))


def test_the_page_is_self_contained_html_with_no_script_and_every_value_escaped():
    hostile = row(
        "ws-9",
        Action.ERROR,
        user_name="<script>alert(1)</script>",
        reason="<b>x</b> & y",
        month_cost=Decimal(1),
    )
    page = render(build({run(30): [hostile]}).digest(NOW))
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;x&lt;/b&gt; &amp; y" in page
    assert not re.search(r"(src|href)=", page), "no remote content, no links a mail client would block"
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<style" not in page, "inline styles only: mail clients drop style blocks"


def test_the_page_names_the_month_its_figures_and_the_days_without_a_report():
    page = rendered()
    assert "WorkSpaces Autopilot: November 2026" in page
    assert "$61.40" in page and "$8.50" in page
    assert "No report for 29 days" in page


def test_a_month_without_any_report_says_so():
    page = render(DigestBuilder("2026-11").digest(NOW))
    assert "No report was found for November 2026" in page


def test_amounts_read_as_dollars_or_a_dash():
    assert (usd(Decimal("1234.5")), usd(Decimal("-3.2")), usd(None)) == ("$1,234.50", "-$3.20", "–")
