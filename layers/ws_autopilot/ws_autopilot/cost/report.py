"""Assembling a run's report from its parts: pure functions, no AWS calls."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from ws_autopilot.core.models import Target
from ws_autopilot.cost.bill import next_month_start
from ws_autopilot.cost.models import Action, ReportRow


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


# OWASP "CSV Injection": a spreadsheet reads a cell starting with one of these as a formula.
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """What the writer gets for one value: the product's own integers as they are, every other
    value as text, with a leading single quote when it would start like a formula."""
    if value is None:
        return ""
    if isinstance(value, int | Decimal):  # hours, threshold, dollars; dry_run, late (bool)
        return value
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_LEADS) else text


def to_csv(rows: Iterable[ReportRow]) -> str:
    """The report as CSV: a header, then one record per row, safe to open in a spreadsheet.

    Quoting: every text cell is enclosed in double quotes (inner quotes doubled), so a comma,
    a quote, a CR, an LF or a CRLF in a value stays inside its cell and a CSV reader reads
    back exactly one record per row. Numbers and booleans are written bare.

    Neutralization (OWASP "CSV Injection"): a text cell whose first character is `=`, `+`,
    `-`, `@`, a tab or a carriage return gets a single quote `'` in front, which a spreadsheet
    shows as text instead of evaluating. Text is every value that is not a Python `int`: the
    columns that carry what AWS or an operator wrote (account_id, region, workspace_id,
    directory_id, user_name, compute_type, state, running_mode_before, running_mode_after,
    reason, error_code) and the product's own words (action, evaluated_at), which never start
    that way. The integers the product computes (billable_hours, threshold, unattended_hours,
    a negative one included) and its booleans (dry_run, late) are never prefixed; None is an
    empty cell.
    The prefix is part of the value a CSV reader sees; the JSON summary is not affected.
    """
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=ReportRow.columns(), lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC
    )
    writer.writeheader()
    for row in rows:
        record = row.to_record()
        record["action"] = row.action.value
        writer.writerow({k: _cell(v) for k, v in record.items()})
    return buffer.getvalue()


def summarize(
    rows: Sequence[ReportRow],
    failures: Sequence[Failure],
    dry_run: bool,
    targets: Sequence[Target],
    run_day: date,
) -> dict[str, Any]:
    """Counts by action over the WorkSpaces rows; the accounts and regions covered and the parts
    of the fleet that could not be finished, apart; and the dollars (`dollars`)."""
    counts = Counter(row.action.value for row in rows)
    return {
        "workspaces": len(rows),
        "actions": {action.value: counts.get(action.value, 0) for action in Action},
        "dry_run": dry_run,
        "targets": [str(t) for t in targets],
        "failed": [f.where for f in failures],
        **dollars(rows, run_day),
    }


def dollars(rows: Sequence[ReportRow], run_day: date) -> dict[str, Any]:
    """The fleet's dollars over the rows that have them (USD text with two decimals), each
    total of its own column and naming the month it concerns (billing rules, "Dollars in
    reports"); none of them is a saving made, only what the bill model projects:
    - month / next_month: the run's month and the one after (YYYY-MM);
    - month_to_date_cost: the run's month's bill so far, today's conversions included;
    - saving_this_month: what today's decisions take off the run's month's bill, projected at
      each WorkSpace's use so far (a switch to ALWAYS_ON can add to it: negative);
    - saving_next_month: what they take off next month's bill, at the same use;
    - priced_workspaces: how many rows the totals cover (the others had no prices)."""
    priced = [r for r in rows if r.month_cost is not None]
    first = datetime(run_day.year, run_day.month, 1, tzinfo=UTC)
    return {
        "month": f"{first:%Y-%m}",
        "next_month": f"{next_month_start(first):%Y-%m}",
        "month_to_date_cost": _usd(r.month_cost for r in priced),
        "saving_this_month": _usd(r.saving_this_month for r in priced),
        "saving_next_month": _usd(r.saving_next_month for r in priced),
        "priced_workspaces": len(priced),
    }


def _usd(amounts: Iterable[Decimal | None]) -> str:
    """The sum of `amounts` (None counts 0) as USD text with two decimals, e.g. "1234.50"."""
    total = sum((a for a in amounts if a is not None), Decimal(0))
    return f"{total.quantize(Decimal('0.01')):.2f}"
