"""The monthly digest of one month as a value: the figures its page and its message show, each
named for the month it concerns. Built by `DigestBuilder` (digest/content.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from markupsafe import Markup

from ws_autopilot.cost.rightsizing import neighbours
from ws_autopilot.digest.chart import CHART_MONTHS, MonthFigures, chart_svg
from ws_autopilot.digest.realized import CONVERSIONS, RealizedMonth
from ws_autopilot.digest.rows import DigestRow, ReportRun
from ws_autopilot.digest.running import UnattendedHours, is_no_hibernation_reset


@dataclass(frozen=True, slots=True)
class ConversionTotal:
    """The month's conversions in one direction, with what their runs projected (not saved)."""

    direction: str
    rows: list[DigestRow]

    @property
    def saving_this_month(self) -> Decimal | None:
        """Sum of the known `saving_this_month`s, projected at decision time; None when no row
        has one."""
        return _sum(r.saving_this_month for r in self.rows)

    @property
    def saving_next_month(self) -> Decimal | None:
        """Sum of the known `saving_next_month`s: next month's bill, projected."""
        return _sum(r.saving_next_month for r in self.rows)


def _sum(amounts: Iterable[Decimal | None]) -> Decimal | None:
    known = [a for a in amounts if a is not None]
    return sum(known, Decimal(0)) if known else None


def _smaller(row: DigestRow) -> bool:
    place = neighbours(row.compute_type)
    return place is not None and place.down == row.rightsize_to


def month_name(month: str) -> str:
    return datetime.strptime(month, "%Y-%m").strftime("%B %Y")


@dataclass(frozen=True, slots=True)
class Digest:
    month: str
    generated_at: datetime
    runs: int
    final: ReportRun | None
    missing_days: list[date]
    dry_run: bool  # every row of the month was a dry run's
    workspaces: int  # in the final view
    fleet_cost: Decimal | None  # the final view's month_cost: the fleet's modelled bill
    conversions: list[ConversionTotal]
    realized: RealizedMonth
    errors: list[DigestRow]
    opted_out: list[DigestRow]
    costliest: list[DigestRow]
    unused: list[DigestRow]
    not_judged: int  # WorkSpaces whose unused check could not read a source
    # AUTO_STOP WorkSpaces of the final view that ran with nobody connected (digest/running.py)
    unattended: UnattendedHours = field(default_factory=UnattendedHours)
    # month-end resets held on ALWAYS_ON: their compute type does not hibernate
    kept_always_on: list[DigestRow] = field(default_factory=list)
    history: list[tuple[str, MonthFigures | None]] = field(default_factory=list)  # earlier months
    # right-sizing recommendations of the final view (a report of the month's last day), by type
    rightsizing: list[DigestRow] = field(default_factory=list)
    rightsizing_judged: bool = False  # the final view is of the month's last day, when it is judged

    @property
    def rightsizing_down(self) -> list[DigestRow]:
        """Recommendations of a smaller type (a saving that prices or next month's mode make
        negative keeps its sign)."""
        return [r for r in self.rightsizing if _smaller(r)]

    @property
    def rightsizing_up(self) -> list[DigestRow]:
        """Recommendations of a larger type (they cost more)."""
        return [r for r in self.rightsizing if not _smaller(r)]

    @property
    def rightsizing_saving(self) -> Decimal | None:
        """What the smaller types would take off a month's bill, summed; None without prices."""
        return _sum(r.rightsize_saving_next_month for r in self.rightsizing_down)

    @property
    def rightsizing_cost(self) -> Decimal | None:
        """What the larger types would add to a month's bill, summed (positive); None without prices."""
        total = _sum(r.rightsize_saving_next_month for r in self.rightsizing_up)
        return None if total is None else -total

    @property
    def title(self) -> str:
        return month_name(self.month)

    @property
    def next_month(self) -> str:
        """YYYY-MM of the month after the digest's: the month `saving_next_month` concerns."""
        first = datetime.strptime(self.month, "%Y-%m").date()
        return (first.replace(day=28) + timedelta(days=4)).strftime("%Y-%m")

    @property
    def next_title(self) -> str:
        return month_name(self.next_month)

    @property
    def unused_cost(self) -> Decimal | None:
        return _sum(r.month_cost for r in self.unused)

    @property
    def no_hibernation_resets(self) -> list[DigestRow]:
        """The month's conversions to AUTO_STOP of compute types that do not hibernate."""
        return [r for c in self.conversions for r in c.rows if is_no_hibernation_reset(r)]

    @property
    def projected_this_month(self) -> Decimal | None:
        return _sum(c.saving_this_month for c in self.conversions)

    @property
    def projected_next_month(self) -> Decimal | None:
        return _sum(c.saving_next_month for c in self.conversions)

    @property
    def figures(self) -> MonthFigures:
        """What the chart of later digests reads of this month."""
        return MonthFigures(self.month, self.fleet_cost, self.realized.total, self.dry_run)

    @property
    def chart(self) -> list[tuple[str, MonthFigures | None]]:
        """The last twelve months, this one included, oldest first."""
        return [*self.history, (self.month, self.figures)][-CHART_MONTHS:]

    @property
    def chart_svg(self) -> Markup:
        return chart_svg(self.chart)

    def summary(self) -> dict[str, object]:
        """The figures the alert-topic message carries."""

        def usd(amount: Decimal | None) -> str | None:
            return None if amount is None else f"{amount:.2f}"

        realized = self.realized
        return {
            "month": self.month,
            "runs": self.runs,
            "final_report": self.final.key if self.final else None,
            "days_without_report": [d.isoformat() for d in self.missing_days],
            "dry_run": self.dry_run,
            "workspaces": self.workspaces,
            "fleet_cost_usd": usd(self.fleet_cost),
            "conversions": {c.direction: len(c.rows) for c in self.conversions},
            "realized_saving_usd": usd(realized.total),
            "realized_saving_by_direction_usd": {
                d: usd(RealizedMonth.total_of(realized.of(d))) for d in CONVERSIONS
            },
            "realized_workspaces": {d: len(realized.of(d)) for d in CONVERSIONS},
            "realized_not_computed": len(realized.not_computed),
            "projected_next_month": self.next_month,
            "projected_next_month_usd": usd(self.projected_next_month),
            "errors": len(self.errors),
            "opted_out": len(self.opted_out),
            "unused": len(self.unused),
            "unused_cost_usd": usd(self.unused_cost),
            "unattended_workspaces": self.unattended.workspaces,
            "unattended_hours": self.unattended.hours,
            "unattended_cost_usd": usd(self.unattended.cost),
            "no_hibernation_resets": len(self.no_hibernation_resets),
            "no_hibernation_kept": len(self.kept_always_on),
            "rightsizing": {"down": len(self.rightsizing_down), "up": len(self.rightsizing_up)},
            "rightsizing_saving_next_month_usd": usd(self.rightsizing_saving),
        }
