"""Assembling a run's report from its parts: pure functions, no AWS calls."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, Protocol

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


class Totalled(Protocol):
    """What the summary reads of a row (a ReportRow, or the CSV line a run's end keeps of it)."""

    @property
    def action(self) -> Action: ...
    @property
    def month_cost(self) -> Decimal | None: ...
    @property
    def saving_this_month(self) -> Decimal | None: ...
    @property
    def saving_next_month(self) -> Decimal | None: ...


@dataclass(frozen=True, slots=True)
class CsvLine:
    """What a run's end keeps of a row: its CSV record, and the values the summary totals. A
    ReportRow holds about 2 KB (40 fields, Decimals, the reason and the prices as text); its
    CSV line is a quarter of that, so a report of 50,000 WorkSpaces is assembled in tens of MB."""

    workspace_id: str
    text: str
    action: Action
    month_cost: Decimal | None
    saving_this_month: Decimal | None
    saving_next_month: Decimal | None

    @classmethod
    def of(cls, row: ReportRow) -> CsvLine:
        return cls(
            row.workspace_id,
            _csv_records([row], header=False),
            row.action,
            row.month_cost,
            row.saving_this_month,
            row.saving_next_month,
        )


def unique_lines(rows: Iterable[ReportRow]) -> list[CsvLine]:
    """One line per WorkSpace: when a WorkSpace was seen twice (a retried batch, or a WorkSpace
    that moved between pages), the later row wins. Rows without an id (records too malformed
    to name their WorkSpace) are all kept. Of each row only its CSV line is kept: the rows
    are read one at a time and never held together."""
    by_id: dict[str, CsvLine] = {}
    anonymous: list[CsvLine] = []
    for row in rows:
        line = CsvLine.of(row)
        if not line.workspace_id:
            anonymous.append(line)
            continue
        by_id.pop(line.workspace_id, None)
        by_id[line.workspace_id] = line
    return list(by_id.values()) + anonymous


def csv_text(lines: Iterable[CsvLine]) -> Iterator[str]:
    """The report's CSV (the same text as `to_csv`), piece by piece: the header, then each line."""
    yield _csv_records([], header=True)
    for line in lines:
        yield line.text


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
    return _csv_records(rows, header=True)


def _csv_records(rows: Iterable[ReportRow], header: bool) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, fieldnames=ReportRow.columns(), lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC
    )
    if header:
        writer.writeheader()
    for row in rows:
        record = row.to_record()
        record["action"] = row.action.value
        writer.writerow({k: _cell(v) for k, v in record.items()})
    return buffer.getvalue()


def summarize(
    rows: Sequence[Totalled],
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


def dollars(rows: Sequence[Totalled], run_day: date) -> dict[str, Any]:
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
