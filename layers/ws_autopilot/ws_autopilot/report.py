"""Assembling a run's report from its parts: pure functions, no AWS calls."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ws_autopilot.models import Action, ReportRow, Target


@dataclass(frozen=True, slots=True)
class Failure:
    """Part of the fleet the run could not finish: a directory (its Map iteration failed after
    retries), or a whole account and region (directory_id empty) that could not be read."""

    target: Target
    directory_id: str
    error: str

    @property
    def where(self) -> str:
        return f"{self.target}/{self.directory_id}" if self.directory_id else str(self.target)


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


def failure_rows(failures: Sequence[Failure], dry_run: bool, evaluated_at: str) -> list[ReportRow]:
    """A row per unfinished part of the fleet, so the report shows what it does not cover."""
    return [
        ReportRow.error(
            f.target,
            "",
            f.directory_id,
            f"{'directory' if f.directory_id else 'account/region'} not finished: {f.error}",
            f.error,
            dry_run,
            evaluated_at,
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
    rows: Sequence[ReportRow], failures: Sequence[Failure], dry_run: bool, targets: Sequence[Target]
) -> dict[str, Any]:
    """Counts by action over the WorkSpaces rows; the accounts and regions covered and the parts
    of the fleet that could not be finished, apart."""
    counts = Counter(row.action.value for row in rows)
    return {
        "workspaces": len(rows),
        "actions": {action.value: counts.get(action.value, 0) for action in Action},
        "dry_run": dry_run,
        "targets": [str(t) for t in targets],
        "failed": [f.where for f in failures],
    }
