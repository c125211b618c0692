import csv
import io

from ws_autopilot.models import Action, ReportRow
from ws_autopilot.report import DirectoryFailure, failure_rows, summarize, to_csv, unique_rows


def row(workspace_id: str, action: Action = Action.NONE, user: str = "alice", reason: str = "r") -> ReportRow:
    return ReportRow(
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


def test_summary_counts_every_action_including_zero_counts():
    summary = summarize(
        [row("a", Action.TO_ALWAYS_ON), row("b", Action.ERROR), row("c", Action.ERROR)],
        [DirectoryFailure("d-1", "TransientAwsError")],
        dry_run=True,
    )
    assert summary == {
        "workspaces": 3,
        "actions": {"to_always_on": 1, "to_auto_stop": 0, "none": 0, "skipped": 0, "error": 2},
        "dry_run": True,
        "failed_directories": ["d-1"],
    }


def test_an_unfinished_directory_gets_an_error_row_naming_the_error():
    (failed,) = failure_rows([DirectoryFailure("d-0123456789", "TransientAwsError")], False, "2026-11-30")
    assert (failed.directory_id, failed.action, failed.reason) == (
        "d-0123456789",
        Action.ERROR,
        "directory not finished: TransientAwsError",
    )
