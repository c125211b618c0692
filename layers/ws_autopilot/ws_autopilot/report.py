"""Assembling a run's report from its parts: pure functions, no AWS calls."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ws_autopilot.models import Action, ReportRow


@dataclass(frozen=True, slots=True)
class DirectoryFailure:
    """A directory the run could not finish (its Map iteration failed after retries)."""

    directory_id: str
    error: str


def unique_rows(rows: Iterable[ReportRow]) -> list[ReportRow]:
    """One row per WorkSpace: when a WorkSpace was seen twice (a retried batch, or a WorkSpace
    that moved between pages), the later row wins. Rows without an id (records too malformed
    to name their WorkSpace) are all kept."""
    by_id: dict[str, ReportRow] = {}
    anonymous: list[ReportRow] = []
    for row in rows:
        if not row.workspace_id:
            anonymous.append(row)
            continue
        by_id.pop(row.workspace_id, None)
        by_id[row.workspace_id] = row
    return list(by_id.values()) + anonymous


def failure_rows(failures: Sequence[DirectoryFailure], dry_run: bool, evaluated_at: str) -> list[ReportRow]:
    """A row per unfinished directory, so the report shows what it does not cover."""
    return [
        ReportRow.error(
            "", f.directory_id, f"directory not finished: {f.error}", f.error, dry_run, evaluated_at
        )
        for f in failures
    ]


def to_csv(rows: Iterable[ReportRow]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=ReportRow.columns(), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        record = row.to_record()
        record["action"] = row.action.value
        writer.writerow({k: "" if v is None else v for k, v in record.items()})
    return buffer.getvalue()


def summarize(
    rows: Sequence[ReportRow], failures: Sequence[DirectoryFailure], dry_run: bool
) -> dict[str, Any]:
    """Counts by action, over the WorkSpaces rows (directory failures are counted apart)."""
    counts = Counter(row.action.value for row in rows)
    return {
        "workspaces": len(rows),
        "actions": {action.value: counts.get(action.value, 0) for action in Action},
        "dry_run": dry_run,
        "failed_directories": [f.directory_id for f in failures],
    }
