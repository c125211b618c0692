"""The cost reports as the monthly digest reads them back: one run's CSV report (its S3 key, day
and time) and the columns of each row that the digest uses. Pure: text in, values out."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from ws_autopilot.core.calendar import to_utc
from ws_autopilot.cost.pricing import BundlePrices
from ws_autopilot.cost.report import FORMULA_LEADS


@dataclass(frozen=True, slots=True)
class DigestRow:
    """The columns of one report row that the digest reads (cost/models.py `ReportRow`)."""

    account_id: str
    region: str
    workspace_id: str
    directory_id: str
    user_name: str
    compute_type: str
    state: str
    running_mode_before: str
    running_mode_after: str
    action: str
    reason: str
    dry_run: bool
    error_code: str
    billable_hours: int | None = None
    evaluated_at: str = ""
    late: bool = False
    # USD from the bill model: this month's bill so far and the decision's projections
    month_cost: Decimal | None = None
    saving_this_month: Decimal | None = None
    saving_next_month: Decimal | None = None
    # the WorkSpace's list prices: ALWAYS_ON monthly (M), AUTO_STOP monthly (F), hourly (p)
    price_always_on_monthly: Decimal | None = None
    price_auto_stop_monthly: Decimal | None = None
    price_auto_stop_hourly: Decimal | None = None
    last_connection: str = ""
    unused_action: str = ""
    unattended_hours: int | None = None  # AUTO_STOP hours with nobody connected (cost/models.py)
    # right-sizing (month's last day): the type to consider, its monthly saving, why
    rightsize_to: str = ""
    rightsize_saving_next_month: Decimal | None = None
    rightsize_note: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return self.account_id, self.region, self.workspace_id

    @property
    def unused_word(self) -> str:
        """unused_action's first word: reported, stopped, terminated, would, held, failed,
        unknown, or "" (not unused)."""
        return self.unused_action.split(":")[0].split(" ")[0]

    @property
    def opted_out(self) -> bool:
        return self.action == "skipped" and self.reason == "Skip_Convert tag"

    @property
    def prices(self) -> BundlePrices | None:
        """The list prices the row's dollars came from; None when any of the three is missing."""
        monthly, fee, hourly = (
            self.price_always_on_monthly,
            self.price_auto_stop_monthly,
            self.price_auto_stop_hourly,
        )
        if monthly is None or fee is None or hourly is None:
            return None
        return BundlePrices(monthly, fee, hourly)

    @property
    def evaluated(self) -> datetime | None:
        """When the row was decided (UTC), None when the report does not say or says it badly."""
        try:
            return to_utc(datetime.fromisoformat(self.evaluated_at)) if self.evaluated_at else None
        except ValueError:
            return None


def _text(value: str | None) -> str:
    """A CSV cell as the product wrote it, without the quote that keeps a spreadsheet from
    reading it as a formula (report.to_csv)."""
    text = value or ""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_LEADS) else text


def _money(value: str | None) -> Decimal | None:
    text = _text(value).strip()
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _hours(value: str | None) -> int | None:
    text = _text(value).strip()
    return int(text) if text.isdigit() else None


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def read_rows(lines: Iterable[str]) -> Iterator[DigestRow]:
    """The rows of one CSV report (report.to_csv). Columns a report lacks (reports written
    before the column existed) read as empty. A row without a WorkSpace id (a directory or
    region that could not be read) is skipped: it has nothing to count."""
    for record in csv.DictReader(lines):
        workspace_id = _text(record.get("workspace_id"))
        if not workspace_id:
            continue
        yield DigestRow(
            account_id=_text(record.get("account_id")),
            region=_text(record.get("region")),
            workspace_id=workspace_id,
            directory_id=_text(record.get("directory_id")),
            user_name=_text(record.get("user_name")),
            compute_type=_text(record.get("compute_type")),
            state=_text(record.get("state")),
            running_mode_before=_text(record.get("running_mode_before")),
            running_mode_after=_text(record.get("running_mode_after")),
            action=_text(record.get("action")),
            reason=_text(record.get("reason")),
            dry_run=_flag(record.get("dry_run")),
            error_code=_text(record.get("error_code")),
            billable_hours=_hours(record.get("billable_hours")),
            evaluated_at=_text(record.get("evaluated_at")),
            late=_flag(record.get("late")),
            month_cost=_money(record.get("month_cost")),
            saving_this_month=_money(record.get("saving_this_month")),
            saving_next_month=_money(record.get("saving_next_month")),
            price_always_on_monthly=_money(record.get("price_always_on_monthly")),
            price_auto_stop_monthly=_money(record.get("price_auto_stop_monthly")),
            price_auto_stop_hourly=_money(record.get("price_auto_stop_hourly")),
            last_connection=_text(record.get("last_connection")),
            unused_action=_text(record.get("unused_action")),
            unattended_hours=_hours(record.get("unattended_hours")),
            rightsize_to=_text(record.get("rightsize_to")),
            # a report written before D-219 named the column rightsize_saving_per_month
            rightsize_saving_next_month=_money(
                record.get("rightsize_saving_next_month", record.get("rightsize_saving_per_month"))
            ),
            rightsize_note=_text(record.get("rightsize_note")),
        )


def write_rows(rows: Iterable[DigestRow]) -> str:
    """`rows` as CSV text that `read_rows` reads back as they are (the digest's own files, such
    as the month's switches to ALWAYS_ON that the next digest realizes)."""
    names = [f.name for f in fields(DigestRow)]
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=names, lineterminator="\n", quoting=csv.QUOTE_ALL)
    writer.writeheader()
    for row in rows:
        writer.writerow({name: _cell(getattr(row, name)) for name in names})
    return buffer.getvalue()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True, slots=True)
class ReportRun:
    """One run's CSV report: its S3 key, the run's day and when the report was written."""

    key: str
    day: date
    written_at: datetime

    @property
    def run_id(self) -> str:
        return self.key.rsplit("/", 1)[-1].removesuffix(".csv")
