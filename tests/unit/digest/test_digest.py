"""The monthly digest as pure functions (the digest wing): the month covered, the reports read
back, what the digest keeps from each run, its realized savings and projections, the message's
subject and summary, and the HTML a manager reads."""

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
from ws_autopilot.digest.alerts import digest_alert
from ws_autopilot.digest.chart import MonthFigures
from ws_autopilot.digest.content import (
    DigestBuilder,
    DigestRequest,
    digest_month,
    final_run,
    month_days,
    previous_day,
    render,
    usd,
)
from ws_autopilot.digest.model import Digest
from ws_autopilot.digest.rows import ReportRun, read_rows

NOW = datetime(2026, 12, 1, 6, 0, 12, tzinfo=UTC)
STANDARD = {  # Windows, licence included: M, F, p
    "price_always_on_monthly": Decimal("35.00"),
    "price_auto_stop_monthly": Decimal("9.75"),
    "price_auto_stop_hourly": Decimal("0.30"),
}


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


def run(day: int, hour: int = 21, name: str = "", month: int = 11) -> ReportRun:
    return ReportRun(
        f"reports/2026/{month:02d}/{day:02d}/{name or f'run-{day}-{hour}'}.csv",
        date(2026, month, day),
        datetime(2026, month, day, hour, 40, tzinfo=UTC),
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
        saving_this_month=Decimal("-3.20"),
        saving_next_month=Decimal("12.15"),
        late=True,
        unused_action="held: Skip_Terminate tag",
        last_connection="2026-07-14T09:30:00+00:00",
        **STANDARD,
    )
    (read,) = read_rows(csv_lines(written))
    assert (read.user_name, read.reason, read.action) == ("=HYPERLINK(1)", written.reason, "to_always_on")
    assert (read.month_cost, read.saving_this_month, read.saving_next_month) == (
        Decimal("61.40"),
        Decimal("-3.20"),
        Decimal("12.15"),
    )
    assert read.prices is not None and read.prices.auto_stop_hourly == Decimal("0.30")
    assert (read.billable_hours, read.late, read.evaluated) == (
        10,
        True,
        datetime(2026, 11, 30, 12, 5, tzinfo=UTC),
    )
    assert (read.unused_word, read.last_connection, read.dry_run) == ("held", written.last_connection, False)


def test_an_older_report_without_the_new_columns_reads_with_them_empty():
    old = io.StringIO(
        '"account_id","region","workspace_id","action","dry_run"\n"1","us-east-1","ws-1","none",True\n'
    )
    (read,) = read_rows(old)
    assert (read.month_cost, read.saving_next_month, read.unused_action, read.dry_run) == (
        None,
        None,
        "",
        True,
    )
    assert (read.prices, read.billable_hours, read.late, read.evaluated) == (None, None, False, None)


def test_a_report_written_before_the_right_sizing_column_was_renamed_still_gives_its_dollars():
    old = io.StringIO('"workspace_id","rightsize_to","rightsize_saving_per_month"\n"ws-1","VALUE","18.00"\n')
    (read,) = read_rows(old)
    assert (read.rightsize_to, read.rightsize_saving_next_month) == ("VALUE", Decimal("18.00"))


def test_rows_without_a_workspace_are_not_counted():
    failed = ReportRow.error(Target("1", "us-east-1"), "", "d-1", "directory not finished", "X", False, "t")
    assert list(read_rows(csv_lines(failed, row("ws-2")))) == list(read_rows(csv_lines(row("ws-2"))))


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "12 USD", ""])
def test_unreadable_amounts_read_as_unknown(amount):
    header = '"workspace_id","month_cost","saving_next_month","billable_hours"'
    text = f'{header}\n"ws-1","{amount}","1.5","{amount}"\n'
    (read,) = read_rows(io.StringIO(text))
    assert (read.month_cost, read.saving_next_month, read.billable_hours) == (None, Decimal("1.5"), None)


# -- building the digest --------------------------------------------------------------------------
def build(runs: dict[ReportRun, list[ReportRow]], previous: dict[ReportRun, list[ReportRow]] | None = None):
    builder = DigestBuilder("2026-11", final=final_run(runs))
    for report, rows in (previous or {}).items():
        builder.add_previous(report, read_rows(csv_lines(*rows)))
    for report, rows in sorted(runs.items(), key=lambda item: (item[0].day, item[0].written_at)):
        builder.add(report, read_rows(csv_lines(*rows)))
    return builder


def test_the_final_view_is_the_last_report_of_the_latest_day():
    runs = [run(29), run(30, 12), run(30, 21), run(3)]
    assert final_run(runs) == run(30, 21)
    assert final_run([]) is None


def test_the_resets_in_effect_are_read_from_the_previous_months_last_day():
    assert previous_day("2026-11") == date(2026, 10, 31)
    assert previous_day("2027-01") == date(2026, 12, 31) and previous_day("2028-03") == date(2028, 2, 29)


def test_conversions_come_from_every_run_once_per_workspace_with_their_projections():
    runs = {
        run(10): [
            row(
                "ws-1",
                Action.TO_ALWAYS_ON,
                saving_this_month=Decimal("-1.50"),
                saving_next_month=Decimal("12.00"),
            ),
            row("ws-2"),
        ],
        run(11): [row("ws-1", reason="converted to ALWAYS_ON by run run-10-21 ..."), row("ws-2")],
        run(30, 12): [
            row("ws-2", Action.TO_AUTO_STOP, saving_this_month=Decimal(0), saving_next_month=Decimal("7.25")),
            row("ws-3", Action.TO_AUTO_STOP),
        ],
        run(30, 21): [row("ws-1"), row("ws-2"), row("ws-3")],
    }
    digest = build(runs).digest(NOW)
    by_direction = {c.direction: c for c in digest.conversions}
    assert [r.workspace_id for r in by_direction["to_always_on"].rows] == ["ws-1"]
    assert sorted(r.workspace_id for r in by_direction["to_auto_stop"].rows) == ["ws-2", "ws-3"]
    assert (
        by_direction["to_always_on"].saving_next_month,
        by_direction["to_auto_stop"].saving_next_month,
    ) == (
        Decimal(12),
        Decimal("7.25"),
    )
    assert (digest.projected_this_month, digest.projected_next_month) == (Decimal("-1.50"), Decimal("19.25"))
    assert (digest.next_month, digest.next_title) == ("2026-12", "December 2026")
    assert digest.summary()["conversions"] == {"to_always_on": 1, "to_auto_stop": 2}


def test_a_dry_run_decision_repeated_daily_counts_once_and_realizes_nothing():
    runs = {
        run(d): [row("ws-1", Action.TO_ALWAYS_ON, dry_run=True, saving_next_month=Decimal("4.10"))]
        for d in range(1, 31)
    }
    digest = build(runs).digest(NOW)
    assert [len(c.rows) for c in digest.conversions] == [1, 0]
    assert digest.projected_next_month == Decimal("4.10")
    assert digest.dry_run and digest.missing_days == []
    assert digest.realized.savings == [] and digest.realized.total == Decimal(0)


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


def test_the_costliest_keep_the_reports_order_among_equal_costs():
    final = [row(f"ws-{n:02d}", month_cost=Decimal(35)) for n in range(12)]
    digest = build({run(30): final}).digest(NOW)
    assert [r.workspace_id for r in digest.costliest] == [f"ws-{n:02d}" for n in range(10)]


def test_opted_out_workspaces_are_gathered_from_the_whole_month():
    runs = {
        run(5): [row("ws-1", Action.SKIPPED, reason="Skip_Convert tag")],
        run(30): [row("ws-1"), row("ws-2", Action.SKIPPED, reason="no threshold for GRAPHICS_G6_XLARGE")],
    }
    assert [r.workspace_id for r in build(runs).digest(NOW).opted_out] == ["ws-1"]


# -- realized savings -------------------------------------------------------------------------------
OCTOBER_31 = "2026-10-31T12:05:00+00:00"


def reset(workspace_id: str, **changes) -> ReportRow:
    """A month-end reset made by the October 31 run."""
    made = row(
        workspace_id,
        Action.TO_AUTO_STOP,
        running_mode_before="ALWAYS_ON",
        evaluated_at=OCTOBER_31,
        billable_hours=20,
        **STANDARD,
    )
    return replace(made, **changes)


def november() -> DigestBuilder:
    """Resets at the end of October (one late), a switch to ALWAYS_ON on November 13, and the
    final view of November 30 (12:05 UTC)."""
    previous = {
        run(31, 12, month=10): [
            reset("ws-light"),
            reset("ws-came-back"),
            reset("ws-late", late=True, evaluated_at="2026-11-01T00:10:00+00:00"),
            reset("ws-unpriced", price_auto_stop_hourly=None),
            row("ws-heavy"),
        ],
    }
    switched = row(
        "ws-heavy",
        Action.TO_ALWAYS_ON,
        evaluated_at="2026-11-13T21:05:00+00:00",
        billable_hours=64,
        **STANDARD,
    )
    runs = {
        run(13): [switched],
        run(30, 12): [
            row("ws-light", billable_hours=45, **STANDARD),
            row("ws-came-back", billable_hours=120, **STANDARD),
            row("ws-late", billable_hours=30, running_mode_before="AUTO_STOP", **STANDARD),
            row("ws-unpriced", billable_hours=10),
            row("ws-heavy", running_mode_before="ALWAYS_ON", billable_hours=150, **STANDARD),
        ],
    }
    return build(runs, previous)


def test_realized_savings_per_direction_with_the_bill_models_numbers():
    realized = november().digest(NOW).realized
    saved = {s.conversion.workspace_id: s.saving for s in realized.savings}
    # reset, 45 h in November: 35.00 - (9.75 + 0.30 x 45) = 11.75; 120 h: 35.00 - 45.75
    # switch on Nov 13 (64 h before, 150 h in all): (9.75 + 45.00) - (9.75 + 19.20 + 35 x 410.92 / 720)
    assert saved == {
        "ws-light": Decimal("11.75"),
        "ws-came-back": Decimal("-10.75"),
        "ws-unpriced": None,
        "ws-heavy": Decimal("5.82"),
    }, "the late reset takes effect in December"
    assert (realized.late_resets, realized.previous_reports) == (1, 1)
    assert realized.total_of(realized.of("to_auto_stop")) == Decimal("1.00")
    assert realized.total_of(realized.of("to_always_on")) == Decimal("5.82")
    assert realized.total == Decimal("6.82")
    assert [s.conversion.workspace_id for s in realized.largest] == ["ws-light", "ws-heavy"]
    assert [s.conversion.workspace_id for s in realized.cost_more] == ["ws-came-back"]
    assert [s.problem for s in realized.not_computed] == ["not priced"]


def test_the_summary_names_realized_savings_and_the_month_of_the_projection():
    summary = november().digest(NOW).summary()
    assert summary["realized_saving_usd"] == "6.82"
    assert summary["realized_saving_by_direction_usd"] == {"to_always_on": "5.82", "to_auto_stop": "1.00"}
    assert summary["realized_workspaces"] == {"to_always_on": 1, "to_auto_stop": 3}
    assert summary["realized_not_computed"] == 1
    assert (summary["projected_next_month"], summary["projected_next_month_usd"]) == ("2026-12", None)
    assert not any("conversions_saving" in key for key in summary)


# -- the message --------------------------------------------------------------------------------------
def test_the_subject_names_realized_savings_only():
    message = digest_alert(november().digest(NOW), "s3://bucket/digests/2026-11.html")
    assert message.subject == "WorkSpaces Autopilot, November 2026: realized $6.82 (1 not computed), 0 unused"
    assert message.body["alert_type"] == "monthly_digest"
    assert message.body["digest"] == "s3://bucket/digests/2026-11.html"


def test_a_dry_run_month_says_no_savings_were_realized():
    runs = {run(30): [row("ws-1", Action.TO_ALWAYS_ON, dry_run=True, saving_next_month=Decimal("40.00"))]}
    message = digest_alert(build(runs).digest(NOW), "s3://b/k")
    assert message.subject == "WorkSpaces Autopilot, November 2026: no savings realized (dry run), 0 unused"
    assert "40.00" not in message.subject and "saved" not in message.subject


def test_a_month_without_conversions_in_effect_realized_nothing():
    digest = build({run(30): [row("ws-1", unused_action="reported")]}).digest(NOW)
    assert (
        digest_alert(digest, "s3://b/k").subject
        == "WorkSpaces Autopilot, November 2026: realized $0.00, 1 unused"
    )


# -- the page ---------------------------------------------------------------------------------------
def rendered(**runs_rows) -> str:
    runs = {
        run(30): [
            row(
                "ws-1",
                Action.TO_ALWAYS_ON,
                month_cost=Decimal("61.40"),
                saving_this_month=Decimal("-2.75"),
                saving_next_month=Decimal("8.5"),
            )
        ]
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
    assert page.count("<svg ") == 1, "one chart, inline"


def test_the_page_names_the_month_its_figures_and_the_days_without_a_report():
    page = rendered()
    assert "WorkSpaces Autopilot: November 2026" in page
    assert "$61.40" in page and "$8.50" in page and "-$2.75" in page
    assert "Projected for December 2026 (not yet saved" in page
    assert "No report for 29 days" in page


def test_the_page_calls_only_realized_figures_saved():
    page = render(november().digest(NOW))
    assert "Saved by conversions" not in page and "Saved this month" not in page
    assert "Realized savings in November 2026" in page
    assert "$11.75" in page and "$5.82" in page and "$6.82" in page
    assert "cost $10.75 more than without the change" in page
    assert "not priced" in page
    assert "1 reset made after midnight by the run of Oct 31 takes effect a month later" in page
    assert "No report of October 31" not in page


def test_a_month_whose_previous_last_day_has_no_report_says_its_resets_are_unknown():
    page = rendered()
    assert "No report of October 31: the resets made at the end of October are not known" in page


def test_the_chart_shows_this_month_beside_the_stored_ones_and_the_gaps():
    history = [(f"2026-{m:02d}", None) for m in range(1, 11)]
    history[8] = ("2026-09", MonthFigures("2026-09", Decimal("1043.15"), Decimal("66.10"), False))
    digest = november().digest(NOW, [("2025-12", None), *history])
    assert digest.chart[0] == ("2025-12", None) and digest.chart[-1] == ("2026-11", digest.figures)
    assert digest.figures == MonthFigures("2026-11", None, Decimal("6.82"), False)
    page = render(digest)
    assert ">$66.10</text>" in page and ">no digest</text>" in page
    assert "September 2026" in page and "$1,043.15" in page, "the chart's figures as a table too"


def test_a_month_without_any_report_says_so():
    page = render(DigestBuilder("2026-11").digest(NOW))
    assert "No report was found for November 2026" in page


def test_amounts_read_as_dollars_or_a_dash():
    assert (usd(Decimal("1234.5")), usd(Decimal("-3.2")), usd(None)) == ("$1,234.50", "-$3.20", "–")


# -- right-sizing -----------------------------------------------------------------------------------
def rightsized_month(final_day: int) -> Digest:
    rows = [
        row(
            "ws-big",
            compute_type="POWER",
            rightsize_to="PERFORMANCE",
            rightsize_saving_next_month=Decimal("24.00"),
        ),
        row(
            "ws-small",
            compute_type="STANDARD",
            rightsize_to="PERFORMANCE",
            rightsize_saving_next_month=Decimal("-21.00"),
        ),
        row(
            "ws-nodollars",
            compute_type="VALUE",
            rightsize_to="STANDARD",
            rightsize_note="median CPU 90%",
        ),
        row("ws-fine", cpu_p95=45, memory_p95=60),
        # one size down that next month's mode makes cost more: still a recommendation down
        row(
            "ws-down-dearer",
            compute_type="POWERPRO",
            rightsize_to="POWER",
            rightsize_saving_next_month=Decimal("-0.40"),
        ),
    ]
    final = run(final_day)
    builder = DigestBuilder("2026-11", final=final)
    builder.add(final, read_rows(csv_lines(*rows)))
    return builder.digest(datetime(2026, 12, 1, 6, tzinfo=UTC))


def test_the_digest_lists_the_month_end_right_sizing_with_its_dollars_each_way():
    digest = rightsized_month(30)
    assert digest.rightsizing_judged
    assert [r.workspace_id for r in digest.rightsizing_down] == ["ws-big", "ws-down-dearer"]
    assert [r.workspace_id for r in digest.rightsizing_up] == ["ws-small", "ws-nodollars"]
    assert (digest.rightsizing_saving, digest.rightsizing_cost) == (Decimal("23.60"), Decimal("21.00"))
    assert digest.summary()["rightsizing"] == {"down": 2, "up": 2}
    page = render(digest)
    section = page[page.index(">Right-sizing</h2>") : page.index(">In error</h2>")]
    assert "POWER → PERFORMANCE" in section and "would save $24.00" in section
    assert "STANDARD → PERFORMANCE" in section and "would cost $21.00 more" in section
    assert "VALUE → STANDARD" in section and "ws-fine" not in section
    assert "POWERPRO → POWER" in section and "would cost $0.40 more" in section
    assert "Dollars are projected, not saved: December 2026's bill" in section


def test_a_final_view_not_of_the_months_last_day_says_right_sizing_was_not_judged():
    digest = rightsized_month(29)
    page = render(digest)
    section = page[page.index(">Right-sizing</h2>") : page.index(">In error</h2>")]
    assert not digest.rightsizing_judged
    assert "Not judged" in section and "Nov 29" in section and "→" not in section
