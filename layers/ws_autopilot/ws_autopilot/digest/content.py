"""The monthly digest as pure functions: a month's report rows in, a `Digest` out, rendered as
one HTML page a manager can read in a mail client or a browser (Jinja2 with autoescaping, inline
CSS, no scripts). docs/digest.md.

Where the figures come from (docs/decisions.md): the month's CSV reports in S3, one per run.
- Conversions and opt-outs from every run of the month: a conversion is the row of the run that
  made it (a WorkSpace is converted at most once a month; later runs report `none`), and its
  saving is that row's `month_saving`. In a dry run the same decision recurs daily: one per
  WorkSpace is counted, the latest.
- Errors, the ten costliest WorkSpaces and the unused ones from the month's final view: the last
  run of the latest day that has a report. Stops and terminations of unused WorkSpaces from the
  runs that made them (the WorkSpace may be gone from the final view).
- Days of the month without a report are named, never guessed.
"""

from __future__ import annotations

import csv
import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ws_autopilot.cost.report import FORMULA_LEADS

CONVERSIONS = ("to_always_on", "to_auto_stop")
COSTLIEST = 10
ACTED = ("stopped", "terminated")  # unused_action words of WorkSpaces the product changed


def digest_month(scheduled: datetime) -> str:
    """YYYY-MM of the month before `scheduled` (the digest sent on the 1st covers the month
    that just ended); a naive time is taken to be UTC."""
    utc = scheduled.replace(tzinfo=UTC) if scheduled.tzinfo is None else scheduled.astimezone(UTC)
    first = utc.date().replace(day=1)
    return (first - timedelta(days=1)).strftime("%Y-%m")


class DigestRequest(BaseModel):
    """The digest function's event: the schedule's `scheduled_time` (EventBridge Scheduler's
    `<aws.scheduler.scheduled-time>`, the digest covers the month before it), or a `month`
    (YYYY-MM) given by hand."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    month: str | None = Field(default=None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$")
    scheduled_time: datetime | None = None

    @model_validator(mode="after")
    def _one_of(self) -> DigestRequest:
        if (self.month is None) == (self.scheduled_time is None):
            raise ValueError("give either month (YYYY-MM) or scheduled_time, not both or neither")
        return self

    @property
    def covered_month(self) -> str:
        if self.scheduled_time is None:
            return str(self.month)  # the validator saw to it that one of the two is given
        return digest_month(self.scheduled_time)


def month_days(month: str) -> list[date]:
    """Every day of `month` (YYYY-MM). Raises ValueError for anything else."""
    first = datetime.strptime(month, "%Y-%m").date()
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return [first + timedelta(days=n) for n in range((following - first).days)]


@dataclass(frozen=True, slots=True)
class DigestRow:
    """The columns of one report row that the digest reads."""

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
    month_cost: Decimal | None
    month_saving: Decimal | None
    last_connection: str
    unused_action: str

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
            dry_run=(record.get("dry_run") or "").strip().lower() == "true",
            error_code=_text(record.get("error_code")),
            month_cost=_money(record.get("month_cost")),
            month_saving=_money(record.get("month_saving")),
            last_connection=_text(record.get("last_connection")),
            unused_action=_text(record.get("unused_action")),
        )


@dataclass(frozen=True, slots=True)
class ReportRun:
    """One run's CSV report: its S3 key, the run's day and when the report was written."""

    key: str
    day: date
    written_at: datetime

    @property
    def run_id(self) -> str:
        return self.key.rsplit("/", 1)[-1].removesuffix(".csv")


def final_run(runs: Iterable[ReportRun]) -> ReportRun | None:
    """The month's final view: the last report written on the latest day that has one."""
    return max(runs, key=lambda r: (r.day, r.written_at), default=None)


@dataclass(frozen=True, slots=True)
class ConversionTotal:
    direction: str
    rows: list[DigestRow]

    @property
    def saving(self) -> Decimal | None:
        """Sum of the known `month_saving`s; None when no row has one."""
        known = [r.month_saving for r in self.rows if r.month_saving is not None]
        return sum(known, Decimal(0)) if known else None


@dataclass(frozen=True, slots=True)
class Digest:
    month: str
    generated_at: datetime
    runs: int
    final: ReportRun | None
    missing_days: list[date]
    dry_run: bool  # every row of the month was a dry run's
    workspaces: int  # in the final view
    fleet_cost: Decimal | None
    conversions: list[ConversionTotal]
    errors: list[DigestRow]
    opted_out: list[DigestRow]
    costliest: list[DigestRow]
    unused: list[DigestRow]
    not_judged: int  # WorkSpaces whose unused check could not read a source

    @property
    def title(self) -> str:
        return datetime.strptime(self.month, "%Y-%m").strftime("%B %Y")

    @property
    def unused_cost(self) -> Decimal | None:
        known = [r.month_cost for r in self.unused if r.month_cost is not None]
        return sum(known, Decimal(0)) if known else None

    @property
    def saving(self) -> Decimal | None:
        known = [c.saving for c in self.conversions if c.saving is not None]
        return sum(known, Decimal(0)) if known else None

    def summary(self) -> dict[str, object]:
        """The figures the alert-topic message carries."""

        def usd(amount: Decimal | None) -> str | None:
            return None if amount is None else f"{amount:.2f}"

        return {
            "month": self.month,
            "runs": self.runs,
            "final_report": self.final.key if self.final else None,
            "days_without_report": [d.isoformat() for d in self.missing_days],
            "dry_run": self.dry_run,
            "workspaces": self.workspaces,
            "fleet_cost_usd": usd(self.fleet_cost),
            "conversions": {c.direction: len(c.rows) for c in self.conversions},
            "conversions_saving_usd": usd(self.saving),
            "errors": len(self.errors),
            "opted_out": len(self.opted_out),
            "unused": len(self.unused),
            "unused_cost_usd": usd(self.unused_cost),
        }


@dataclass(slots=True)
class DigestBuilder:
    """Takes the month's runs one at a time, oldest first, keeping only what the digest shows."""

    month: str
    final: ReportRun | None = None
    runs: int = 0
    days: set[date] = field(default_factory=set)
    rows_seen: int = 0
    dry_rows: int = 0
    conversions: dict[tuple[str, str, str], DigestRow] = field(default_factory=dict)
    opted_out: dict[tuple[str, str, str], DigestRow] = field(default_factory=dict)
    acted: dict[tuple[str, str, str], DigestRow] = field(default_factory=dict)
    final_rows: list[DigestRow] = field(default_factory=list)

    def add(self, run: ReportRun, rows: Iterable[DigestRow]) -> None:
        self.runs += 1
        self.days.add(run.day)
        is_final = run == self.final
        for row in rows:
            self.rows_seen += 1
            self.dry_rows += row.dry_run
            if row.action in CONVERSIONS:
                self.conversions.pop(row.key, None)
                self.conversions[row.key] = row
            if row.opted_out:
                self.opted_out[row.key] = row
            if row.unused_word in ACTED:
                self.acted.setdefault(row.key, row)
            if is_final:
                self.final_rows.append(row)

    def digest(self, generated_at: datetime) -> Digest:
        final = self.final_rows
        costs = [r.month_cost for r in final if r.month_cost is not None]
        unused = {r.key: r for r in final if r.unused_word and r.unused_word != "unknown"}
        unused.update(self.acted)
        return Digest(
            month=self.month,
            generated_at=generated_at,
            runs=self.runs,
            final=self.final,
            missing_days=[d for d in month_days(self.month) if d not in self.days],
            dry_run=self.rows_seen > 0 and self.dry_rows == self.rows_seen,
            workspaces=len(final),
            fleet_cost=sum(costs, Decimal(0)) if costs else None,
            conversions=[
                ConversionTotal(d, [r for r in self.conversions.values() if r.action == d])
                for d in CONVERSIONS
            ],
            errors=[r for r in final if r.action == "error"],
            opted_out=sorted(self.opted_out.values(), key=lambda r: r.key),
            costliest=heapq.nlargest(
                COSTLIEST, (r for r in final if r.month_cost is not None), key=lambda r: r.month_cost or 0
            ),
            unused=sorted(unused.values(), key=lambda r: (-(r.month_cost or 0), r.key)),
            not_judged=sum(1 for r in final if r.unused_word == "unknown"),
        )


def usd(amount: Decimal | None) -> str:
    """$1,234.56 (-$3.20), or an en dash when the amount is not known."""
    if amount is None:
        return "–"
    return f"{'-' if amount < 0 else ''}${abs(amount):,.2f}"


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("ws_autopilot.digest", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["usd"] = usd
    return env


def render(digest: Digest) -> str:
    """The digest as one self-contained HTML page (inline CSS, no scripts, no remote content);
    every value from a report is escaped."""
    return _environment().get_template("monthly_digest.html.j2").render(d=digest)
