"""The monthly digest as pure functions: a month's report rows in, a `Digest` out, rendered as
one HTML page a manager can read in a mail client or a browser (Jinja2 with autoescaping, inline
CSS, one inline SVG chart, no scripts). docs/digest.md.

Where the figures come from (docs/decisions.md): the CSV reports in S3, one per run.
- Realized savings (digest/realized.py): the resets made at the end of the previous month (the
  reports of its last day only), the switches to ALWAYS_ON made during the month and those made
  during the month before (the list its digest stored), each worked out with the bill model
  from the month's final view.
- Conversions of the month and their projections from every run of the month: a conversion is
  the row of the run that made it (a WorkSpace is converted at most once a month; later runs
  report `none`), with the `saving_this_month` and `saving_next_month` its run projected. In a
  dry run the same decision recurs daily: one per WorkSpace is counted, the latest. Nothing
  projected is called saved.
- Errors, the ten costliest WorkSpaces, the unused ones and the fleet's modelled bill from the
  month's final view: the last run of the latest day that has a report. Stops and terminations
  of unused WorkSpaces from the runs that made them (the WorkSpace may be gone from the final
  view).
- The chart (digest/chart.py): this month's figures and those the previous eleven digests stored.
- Days of the month without a report are named, never guessed.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ws_autopilot.core.calendar import is_last_day_of_month
from ws_autopilot.digest.chart import MonthFigures
from ws_autopilot.digest.model import ConversionTotal, Digest, month_name
from ws_autopilot.digest.realized import CONVERSIONS, ConversionsInEffect, FinalFacts, RealizedMonth
from ws_autopilot.digest.rows import DigestRow, ReportRun
from ws_autopilot.digest.running import UnattendedHours, is_kept_always_on, unattended_cost

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


def final_run(runs: Iterable[ReportRun]) -> ReportRun | None:
    """The month's final view: the last report written on the latest day that has one."""
    return max(runs, key=lambda r: (r.day, r.written_at), default=None)


@dataclass(slots=True)
class FinalView:
    """The month's final view, taken row by row and kept only as the digest shows it: counts,
    the errors, the ten costliest, the unused WorkSpaces, and each WorkSpace's billable hours and
    running mode (what realized savings need)."""

    workspaces: int = 0
    cost: Decimal | None = None
    errors: list[DigestRow] = field(default_factory=list)
    costliest: list[tuple[Decimal, int, DigestRow]] = field(default_factory=list)  # a min-heap
    unused: dict[tuple[str, str, str], DigestRow] = field(default_factory=dict)
    not_judged: int = 0
    facts: dict[tuple[str, str, str], FinalFacts] = field(default_factory=dict)
    unattended: UnattendedHours = field(default_factory=UnattendedHours)
    rightsizing: list[DigestRow] = field(default_factory=list)

    def add(self, row: DigestRow) -> None:
        self.workspaces += 1
        self.unattended.add(row, self.workspaces)
        if row.rightsize_to:
            self.rightsizing.append(row)
        self.facts[row.key] = FinalFacts(row.billable_hours, row.running_mode_before)
        if row.action == "error":
            self.errors.append(row)
        if row.unused_word == "unknown":
            self.not_judged += 1
        elif row.unused_word:
            self.unused[row.key] = row
        if row.month_cost is not None:
            self.cost = row.month_cost + (self.cost or 0)
            # ties keep the earlier row, as the report lists them
            entry = (row.month_cost, -self.workspaces, row)
            if len(self.costliest) < COSTLIEST:
                heapq.heappush(self.costliest, entry)
            elif entry[:2] > self.costliest[0][:2]:
                heapq.heapreplace(self.costliest, entry)

    def ten_costliest(self) -> list[DigestRow]:
        return [row for *_, row in sorted(self.costliest, key=lambda e: e[:2], reverse=True)]


def previous_day(month: str) -> date:
    """The last day of the month before `month` (YYYY-MM): its reports hold the resets that take
    effect in `month`."""
    return datetime.strptime(month, "%Y-%m").date() - timedelta(days=1)


@dataclass(slots=True)
class DigestBuilder:
    """Takes the reports of the previous month's last day (`add_previous`), then the month's runs
    one at a time, oldest first (`add`), keeping only what the digest shows."""

    month: str
    final: ReportRun | None = None
    runs: int = 0
    previous_runs: int = 0
    days: set[date] = field(default_factory=set)
    rows_seen: int = 0
    dry_rows: int = 0
    conversions: dict[tuple[str, str, str], DigestRow] = field(default_factory=dict)
    opted_out: dict[tuple[str, str, str], DigestRow] = field(default_factory=dict)
    kept_always_on: dict[tuple[str, str, str], DigestRow] = field(default_factory=dict)
    acted: dict[tuple[str, str, str], DigestRow] = field(default_factory=dict)
    in_effect: ConversionsInEffect = field(default_factory=ConversionsInEffect)
    view: FinalView = field(default_factory=FinalView)

    def carry(self, rows: Iterable[DigestRow]) -> None:
        """The switches to ALWAYS_ON of the month before, as its digest listed them."""
        for row in rows:
            self.in_effect.add_carried(row)

    def add_previous(self, run: ReportRun, rows: Iterable[DigestRow]) -> None:
        """One report of the previous month's last day: only its conversions that take effect
        this month are kept."""
        self.previous_runs += 1
        for row in rows:
            self.in_effect.add_previous(row)

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
                self.in_effect.add(row)
            if row.opted_out:
                self.opted_out[row.key] = row
            if is_kept_always_on(row):
                self.kept_always_on[row.key] = row
            if row.unused_word in ACTED:
                self.acted.setdefault(row.key, row)
            if is_final:
                self.view.add(row)

    def digest(
        self, generated_at: datetime, history: Sequence[tuple[str, MonthFigures | None]] = ()
    ) -> Digest:
        """The digest, with `history` (the previous months' figures, oldest first) for its chart."""
        view = self.view
        unused = dict(view.unused)
        unused.update(self.acted)
        first = datetime.strptime(self.month, "%Y-%m").date()
        late_resets = len(self.in_effect.late_resets)
        return Digest(
            month=self.month,
            generated_at=generated_at,
            runs=self.runs,
            final=self.final,
            missing_days=[d for d in month_days(self.month) if d not in self.days],
            dry_run=self.rows_seen > 0 and self.dry_rows == self.rows_seen,
            workspaces=view.workspaces,
            fleet_cost=view.cost,
            conversions=[
                ConversionTotal(d, [r for r in self.conversions.values() if r.action == d])
                for d in CONVERSIONS
            ],
            realized=RealizedMonth(
                first, self.in_effect.settle(first, view.facts), self.previous_runs, late_resets
            ),
            errors=view.errors,
            opted_out=sorted(self.opted_out.values(), key=lambda r: r.key),
            costliest=view.ten_costliest(),
            unused=sorted(unused.values(), key=lambda r: (-(r.month_cost or 0), r.key)),
            not_judged=view.not_judged,
            unattended=view.unattended,
            kept_always_on=sorted(self.kept_always_on.values(), key=lambda r: r.key),
            history=list(history),
            rightsizing=sorted(view.rightsizing, key=_largest_first),
            rightsizing_judged=self.final is not None and is_last_day_of_month(self.final.day),
        )


def _largest_first(row: DigestRow) -> tuple[Decimal, tuple[str, str, str]]:
    """Right-sizing's order: the largest monthly difference first, either way."""
    return -abs(row.rightsize_saving_next_month or Decimal(0)), row.key


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
    env.globals["month_name"] = month_name
    env.globals["unattended_cost"] = unattended_cost
    return env


def render(digest: Digest) -> str:
    """The digest as one self-contained HTML page (inline CSS, no scripts, no remote content);
    every value from a report is escaped."""
    return _environment().get_template("monthly_digest.html.j2").render(d=digest)
