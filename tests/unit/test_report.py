import csv
import io

from ws_autopilot.models import Action, ReportRow, Target
from ws_autopilot.report import Failure, failure_rows, summarize, to_csv, unique_rows

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
    rows = unique_rows([row("ws-1", Action.NONE), row("ws-2"), row("ws-1", Action.TO_ALWAYS_ON)])
    assert [(r.workspace_id, r.action) for r in rows] == [
        ("ws-2", Action.NONE),
        ("ws-1", Action.TO_ALWAYS_ON),
    ]


def test_rows_without_an_id_are_all_kept():
    assert len(unique_rows([row(""), row(""), row("ws-1")])) == 3


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
    )
    assert summary == {
        "workspaces": 3,
        "actions": {"to_always_on": 1, "to_auto_stop": 0, "none": 0, "skipped": 0, "error": 2},
        "dry_run": True,
        "targets": ["123456789012/us-east-1", "210987654321/eu-west-1"],
        "failed": ["123456789012/us-east-1/d-1", "210987654321/eu-west-1"],
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
