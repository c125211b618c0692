import csv
import dataclasses
import io
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ws_autopilot.core.models import Target
from ws_autopilot.cost.models import Action, ReportRow
from ws_autopilot.cost.report import (
    FORMULA_LEADS,
    CsvLine,
    Failure,
    csv_text,
    failure_rows,
    summarize,
    to_csv,
    unique_lines,
)

HOME = Target("123456789012", "us-east-1")


def row(workspace_id: str, action: Action = Action.NONE, user: str = "alice", reason: str = "r") -> ReportRow:
    return ReportRow(
        "123456789012",
        "us-east-1",
        workspace_id,
        "d-0123456789",
        user,
        "VALUE",
        "AVAILABLE",
        "AUTO_STOP",
        "AUTO_STOP",
        10,
        81,
        action,
        reason,
        True,
        "",
        "2026-11-30T21:00:00+00:00",
    )


def test_a_workspace_seen_twice_is_reported_once_with_its_latest_row():
    rows = unique_lines([row("ws-1", Action.NONE), row("ws-2"), row("ws-1", Action.TO_ALWAYS_ON)])
    assert [(r.workspace_id, r.action) for r in rows] == [
        ("ws-2", Action.NONE),
        ("ws-1", Action.TO_ALWAYS_ON),
    ]


def test_rows_without_an_id_are_all_kept():
    assert len(unique_lines([row(""), row(""), row("ws-1")])) == 3


def test_the_lines_a_run_end_keeps_make_the_same_csv_and_summary_as_the_rows():
    rows = [
        row("ws-1", Action.TO_ALWAYS_ON, reason='a "quoted", reason'),
        row("ws-2", user="=cmd"),
        priced("ws-3", Action.TO_AUTO_STOP, "45.75", "-1.50", "36.85"),
    ]
    lines = unique_lines(rows)
    assert "".join(csv_text(lines)) == to_csv(rows)
    day = date(2026, 11, 30)
    summary = summarize(lines, [], False, [HOME], day)
    assert summary == summarize(rows, [], False, [HOME], day)
    assert (summary["month_to_date_cost"], summary["priced_workspaces"]) == ("45.75", 1)
    assert CsvLine.of(rows[0]).text == to_csv(rows[:1]).split("\n", 1)[1]


def test_csv_survives_commas_quotes_and_newlines_in_values():
    tricky = row("ws-1", user='Doe, "Jane"\nJr', reason="billable 90 h > threshold 81 h, really")
    parsed = list(csv.DictReader(io.StringIO(to_csv([tricky]))))
    assert parsed[0]["user_name"] == 'Doe, "Jane"\nJr'
    assert parsed[0]["reason"] == "billable 90 h > threshold 81 h, really"
    assert list(parsed[0]) == ReportRow.columns()
    assert ReportRow.columns()[:3] == ["account_id", "region", "workspace_id"]


def test_summary_counts_every_action_and_names_what_was_not_finished():
    other = Target("210987654321", "eu-west-1")
    summary = summarize(
        [row("a", Action.TO_ALWAYS_ON), row("b", Action.ERROR), row("c", Action.ERROR)],
        [Failure(HOME, "d-1", "TransientAwsError"), Failure(other, "", "AssumeRole failed: AccessDenied")],
        dry_run=True,
        targets=[HOME, other],
        run_day=date(2026, 12, 31),
    )
    assert summary == {
        "workspaces": 3,
        "actions": {"to_always_on": 1, "to_auto_stop": 0, "none": 0, "skipped": 0, "error": 2},
        "dry_run": True,
        "targets": ["123456789012/us-east-1", "210987654321/eu-west-1"],
        "failed": ["123456789012/us-east-1/d-1", "210987654321/eu-west-1"],
        "month": "2026-12",
        "next_month": "2027-01",
        "month_to_date_cost": "0.00",
        "saving_this_month": "0.00",
        "saving_next_month": "0.00",
        "priced_workspaces": 0,
    }


def test_unfinished_directories_and_accounts_get_error_rows_naming_the_error():
    directory, account = failure_rows(
        [
            Failure(HOME, "d-0123456789", "TransientAwsError"),
            Failure(HOME, "", "AssumeRole failed: AccessDenied"),
        ],
        False,
        "2026-11-30",
    )
    assert (directory.directory_id, directory.action, directory.reason) == (
        "d-0123456789",
        Action.ERROR,
        "directory not finished: TransientAwsError",
    )
    assert (account.account_id, account.region, account.reason) == (
        "123456789012",
        "us-east-1",
        "account/region not finished: AssumeRole failed: AccessDenied",
    )


def records(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_line_breaks_quotes_and_commas_in_user_names_stay_in_one_row_each():
    names = [
        "bare\rcarriage return",
        "line\nfeed",
        "windows\r\nline end",
        "trailing cr\r",
        'a "quoted" name',
        "Doe, Jane",
        "\n\r\nline breaks first",
        'all of it: \r, "\n"\r\n',
    ]
    names += [f"plain{i}" for i in range(12 - len(names))]
    report = to_csv([row(f"ws-{i}", user=name) for i, name in enumerate(names)])
    parsed = records(report)
    assert len(parsed) == 1 + 12
    user_name = ReportRow.columns().index("user_name")
    assert [record[user_name] for record in parsed[1:]] == names


@pytest.mark.parametrize("lead", FORMULA_LEADS)
@pytest.mark.parametrize("column", ["workspace_id", "user_name", "reason", "error_code", "compute_type"])
def test_a_text_cell_that_starts_like_a_formula_is_read_as_text(lead, column):
    value = f'{lead}HYPERLINK("http://x","y")'
    tricky = dataclasses.replace(row("ws-1"), **{column: value})
    (parsed,) = csv.DictReader(io.StringIO(to_csv([tricky])))
    assert parsed[column] == f"'{value}"


def test_formula_characters_inside_a_cell_are_left_alone():
    (parsed,) = csv.DictReader(io.StringIO(to_csv([row("ws-1", user="Jean-Luc", reason="a=b+c @x")])))
    assert (parsed["user_name"], parsed["reason"]) == ("Jean-Luc", "a=b+c @x")


def test_numbers_the_product_writes_stay_bare_numbers_negative_ones_included():
    negative = dataclasses.replace(row("ws-1"), billable_hours=-3, threshold=81)
    body = to_csv([negative, ReportRow.error(HOME, "ws-2", "d-1", "r", "Boom", False, "2026-11-30")])
    first, second = body.splitlines()[1:]
    assert ',-3,81,"none",' in first
    assert ',False,"","",' in first  # late, then no threshold source and no prices
    assert ',"","",' in second  # no hours, no threshold: empty cells
    parsed = list(csv.DictReader(io.StringIO(body)))
    assert (parsed[0]["billable_hours"], parsed[0]["threshold"], parsed[0]["dry_run"]) == ("-3", "81", "True")


@given(
    users=st.lists(st.text(), min_size=1, max_size=6),
    reasons=st.lists(st.text(), min_size=1, max_size=6),
    hours=st.none() | st.integers(min_value=-1000, max_value=1000),
)
def test_any_text_reads_back_as_one_record_per_row_and_never_starts_like_a_formula(users, reasons, hours):
    rows = [
        dataclasses.replace(row(f"ws-{i}", user=user, reason=reason), billable_hours=hours)
        for i, (user, reason) in enumerate(zip(users, reasons, strict=False))
    ]
    parsed = records(to_csv(rows))
    assert len(parsed) == len(rows) + 1
    columns = ReportRow.columns()
    for source, record in zip(rows, parsed[1:], strict=True):
        assert len(record) == len(columns)
        for name, cell in zip(columns, record, strict=True):
            value = getattr(source, name)
            if cell.startswith(FORMULA_LEADS):
                assert isinstance(value, int), (name, cell)
                assert cell == str(value)
            elif isinstance(value, str) and not value.startswith(FORMULA_LEADS):
                assert cell == value


def priced(workspace_id: str, action: Action, cost: str, this_month: str, next_month: str) -> ReportRow:
    return dataclasses.replace(
        row(workspace_id, action),
        threshold_source="price_list",
        prices="us-east-1 VALUE ...",
        month_cost=Decimal(cost),
        saving_this_month=Decimal(this_month),
        saving_next_month=Decimal(next_month),
        price_always_on_monthly=Decimal("35.00"),
        price_auto_stop_monthly=Decimal("9.75"),
        price_auto_stop_hourly=Decimal("0.30"),
    )


def test_the_summary_totals_each_dollar_column_apart_naming_its_month():
    rows = [
        priced("ws-1", Action.TO_ALWAYS_ON, "63.25", "18.50", "49.15"),
        priced("ws-2", Action.TO_AUTO_STOP, "35.00", "0.00", "12.80"),
        priced("ws-3", Action.NONE, "12.35", "0.00", "0.00"),
        priced("ws-4", Action.SKIPPED, "60.00", "0.00", "0.00"),  # opted out: changes nothing
        row("ws-5", Action.TO_ALWAYS_ON),  # no prices: not in the totals
    ]
    summary = summarize(rows, [], False, [HOME], date(2026, 11, 30))
    assert {k: summary[k] for k in ("month", "next_month", "month_to_date_cost")} == {
        "month": "2026-11",
        "next_month": "2026-12",
        "month_to_date_cost": "170.60",
    }
    assert (summary["saving_this_month"], summary["saving_next_month"]) == ("18.50", "61.95")
    assert summary["priced_workspaces"] == 4
    assert not any("conversion_saving" in key or "projected" in key for key in summary)


def test_dollars_are_bare_numbers_in_the_csv_a_negative_saving_included():
    body = to_csv([priced("ws-1", Action.TO_ALWAYS_ON, "45.75", "-1.50", "36.85")])
    # then the unused check's two text columns, the role and category, empty here, the hours
    # with nobody connected, none here, and right-sizing's five (not the month's last day)
    assert body.splitlines()[1].endswith(
        ',"price_list","us-east-1 VALUE ...",45.75,-1.50,36.85,35.00,9.75,0.30,"","","","",""' + ',""' * 5
    )
    (parsed,) = csv.DictReader(io.StringIO(body))
    assert (parsed["month_cost"], parsed["saving_this_month"]) == ("45.75", "-1.50")


def test_hours_with_nobody_connected_are_a_bare_number_before_right_sizing_read_back_as_written():
    row = dataclasses.replace(priced("ws-1", Action.NONE, "12.00", "0.00", "0.00"), unattended_hours=412)
    body = to_csv([row])
    assert ReportRow.columns()[-6] == "unattended_hours"  # right-sizing's five come after it
    assert body.splitlines()[1].endswith(',"","","","",412' + ',""' * 5)
    assert ReportRow.from_record(row.to_record()) == row
    assert ReportRow.from_record({**row.to_record(), "unattended_hours": None}).unattended_hours is None


def test_right_sizing_columns_come_last_and_read_back_from_a_part_unchanged():
    import json

    from ws_autopilot.cost.report_store import part_record

    made = dataclasses.replace(
        priced("ws-1", Action.NONE, "45.75", "0.00", "0.00"),
        rightsize_to="STANDARD",
        rightsize_saving_next_month=Decimal("-10.00"),
        rightsize_note="median CPU 90%",
        cpu_p95=97,
        memory_p95=40,
    )
    assert ReportRow.columns()[-5:] == [
        "rightsize_to",
        "rightsize_saving_next_month",
        "rightsize_note",
        "cpu_p95",
        "memory_p95",
    ]
    assert ReportRow.from_record(json.loads(json.dumps(part_record(made)))) == made
    assert to_csv([made]).splitlines()[1].endswith(',"STANDARD",-10.00,"median CPU 90%",97,40')
    # a part written before the column was renamed (D-219) keeps its dollars
    old = {
        k: v
        for k, v in json.loads(json.dumps(part_record(made))).items()
        if k != "rightsize_saving_next_month"
    }
    old["rightsize_saving_per_month"] = "-10.00"
    assert ReportRow.from_record(old) == made
