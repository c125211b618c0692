"""Right-sizing in the daily pass (the policy is cost/rightsizing.py): on the month's last day,
after a batch is decided, read its WorkSpaces' CPUUsage and MemoryUsage for the month, a
GetMetricData call at a time, reduce each call's series to percentiles at once, and fill the
rows' right-sizing columns. Report only: no compute type is ever changed.

Which WorkSpaces are read: those whose type is on the ladder, in AUTO_STOP or ALWAYS_ON, not
standby (sized as their primary, idle until it fails over), and, for a person's WorkSpace, with
at least `MIN_HOURS` connected hours this month (fewer cannot be judged, so they cost no read).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from aws_lambda_powertools import Logger

from ws_autopilot.aws.usage import UsageMetrics
from ws_autopilot.core.calendar import Window, evaluation_window, is_last_day_of_month, to_utc
from ws_autopilot.core.errors import AwsCallFailed
from ws_autopilot.core.models import (
    HourlyLoad,
    HourlyUsage,
    MetricsUnavailable,
    RunningMode,
    Target,
    Usage,
    Workspace,
)
from ws_autopilot.cost.bill import use_rate
from ws_autopilot.cost.billing import measured_hours
from ws_autopilot.cost.converter import Batch
from ws_autopilot.cost.models import ReportRow
from ws_autopilot.cost.price_list import PriceList
from ws_autopilot.cost.pricing import NoPrice, PriceBook
from ws_autopilot.cost.rightsizing import (
    MIN_HOURS,
    Direction,
    Recommendation,
    load_of,
    monthly_saving,
    neighbours,
    recommend,
    too_little_use,
)

logger = Logger(child=True)
STANDBY_NOTE = "standby: sized as its primary and idle until it fails over; not judged"
METRICS = {Direction.DOWN: "RightsizingDown", Direction.UP: "RightsizingUp"}
MODES = (RunningMode.AUTO_STOP.value, RunningMode.ALWAYS_ON.value)


@dataclass(frozen=True, slots=True)
class Found:
    """What right-sizing puts in one row (ReportRow's `rightsize_*`, `cpu_p95`, `memory_p95`)."""

    to: str = ""
    note: str = ""
    saving: Decimal | None = None
    cpu_p95: int | None = None
    memory_p95: int | None = None


class RightsizingReview:
    """Right-sizing of each batch of one account and region, on the month's last day only."""

    def __init__(self, usage: UsageMetrics, prices: PriceList | None, target: Target) -> None:
        self.usage = usage
        self.prices = prices
        self.target = target
        self.counts: Counter[str] = Counter()

    def metrics(self) -> dict[str, int]:
        """Recommendations made so far in this invocation, by direction, zeros included."""
        return {name: self.counts[direction] for direction, name in METRICS.items()}

    def review(
        self, rows: list[ReportRow], workspaces: list[Workspace], usage: dict[str, Usage], batch: Batch
    ) -> list[ReportRow]:
        """The rows with their right-sizing columns filled, on the run's month's last day; as
        they are on any other day. A fault here never costs the batch its rows, nor a WorkSpace
        the judgement of the others: it is logged and named in the rows it left unjudged."""
        if not is_last_day_of_month(batch.run_day) or not workspaces:
            return rows
        found: dict[str, Found] = {}
        try:
            self._judge(rows, workspaces, usage, batch, found)
        except Exception as exc:  # a fault outside one WorkSpace's judgement (reading the loads)
            unjudged = [ws.workspace_id for ws in workspaces if ws.workspace_id not in found]
            logger.exception(
                "right-sizing failed for the rest of a batch",
                extra={"target": str(self.target), "unjudged": len(unjudged), "judged": len(found)},
            )
            for ws in workspaces:
                found.setdefault(ws.workspace_id, _failed(exc))
        return [_filled(row, found[row.workspace_id]) if row.workspace_id in found else row for row in rows]

    def _judge(
        self,
        rows: list[ReportRow],
        workspaces: list[Workspace],
        usage: Mapping[str, Usage],
        batch: Batch,
        found: dict[str, Found],
    ) -> None:
        """Fills `found` WorkSpace by WorkSpace, so what is judged stays judged if a later read
        fails."""
        window = evaluation_window(batch.now, batch.run_day)
        by_id = {ws.workspace_id: ws for ws in workspaces}
        row_of = {row.workspace_id: row for row in rows}
        in_use: dict[str, frozenset[datetime] | None] = {}  # None: every hour reported counts
        for ws in workspaces:
            note = self._not_read(ws, usage.get(ws.workspace_id))
            if note is not None:
                found[ws.workspace_id] = Found(note=note)
                continue
            series = usage[ws.workspace_id]
            if ws.is_personal and isinstance(series, HourlyUsage):
                hours = frozenset(to_utc(t) for t, v in series.points.items() if v >= 1)
                if len(hours) < MIN_HOURS:
                    found[ws.workspace_id] = Found(note=too_little_use(len(hours)))
                    continue
                in_use[ws.workspace_id] = hours
            else:
                in_use[ws.workspace_id] = None
        book = self._book(batch) if in_use else None
        for loads in self.usage.hourly_load(list(in_use), window):
            for workspace_id, load in loads.items():
                if isinstance(load, MetricsUnavailable):
                    found[workspace_id] = Found(note=f"CPUUsage/MemoryUsage unreadable ({load.reason})")
                    continue
                ws, row = by_id[workspace_id], row_of.get(workspace_id)
                try:
                    found[workspace_id] = self._judge_one(
                        ws, load, in_use[workspace_id], row, usage.get(workspace_id), window, book
                    )
                except Exception as exc:  # one WorkSpace's fault is its own
                    logger.exception(
                        "right-sizing failed for a WorkSpace",
                        extra={"target": str(self.target), "workspace_id": workspace_id},
                    )
                    found[workspace_id] = _failed(exc)

    def _judge_one(
        self,
        ws: Workspace,
        load: HourlyLoad,
        judged: frozenset[datetime] | None,
        row: ReportRow | None,
        series: Usage | None,
        window: Window,
        book: PriceBook | str | None,
    ) -> Found:
        measured = load_of(load.cpu, load.memory, judged)
        advice = recommend(ws.compute_type, measured, "in-use" if judged is not None else "running")
        rate = _rate(ws, row, series, window, len(load.cpu))
        saving, note = self._dollars(ws, advice, row, rate, window, book)
        found = Found(
            advice.to,
            note,
            saving,
            None if measured is None else round(measured.cpu_p95),
            None if measured is None else round(measured.memory_p95),
        )
        if advice.direction is not None:  # counted once its row is sure to carry it
            self.counts[advice.direction] += 1
        return found

    @staticmethod
    def _not_read(ws: Workspace, series: Usage | None) -> str | None:
        """Why the WorkSpace is not judged ("" says nothing), or None when its load is read."""
        if ws.is_standby:
            return STANDBY_NOTE
        if ws.running_mode not in MODES:
            return ""
        if neighbours(ws.compute_type) is None:
            return f"{ws.compute_type} is not on the right-sizing ladder"
        if ws.is_personal and not isinstance(series, HourlyUsage):
            return "UserConnected unreadable: in-use hours unknown"
        return None

    def _book(self, batch: Batch) -> PriceBook | str:
        if self.prices is None:
            return "no price list"
        try:
            return self.prices.book(self.target.region, batch.run_day)
        except AwsCallFailed as exc:
            return f"price list unavailable: {exc}"

    @staticmethod
    def _dollars(
        ws: Workspace,
        advice: Recommendation,
        row: ReportRow | None,
        rate: Decimal,
        window: Window,
        book: PriceBook | str | None,
    ) -> tuple[Decimal | None, str]:
        """The monthly saving of the recommended type (None without prices or use), and the
        note, which says why there are no dollars when there are none."""
        if not advice.to:
            return None, advice.note
        if not isinstance(book, PriceBook):
            return None, f"{advice.note}; no dollars: {book or 'no price list'}"
        current, proposed = book.lookup(ws), book.lookup(replace(ws, compute_type=advice.to))
        if isinstance(current, NoPrice) or isinstance(proposed, NoPrice):
            missing = current if isinstance(current, NoPrice) else proposed
            return None, f"{advice.note}; no dollars: {getattr(missing, 'reason', '')}"
        mode = RunningMode(ws.running_mode)
        if row is not None and row.action.is_conversion:
            mode = row.action.target_mode  # the mode it has next month
        saving = monthly_saving(current.prices, proposed.prices, mode, rate, window.start)
        return saving, advice.note


def _rate(
    ws: Workspace, row: ReportRow | None, series: Usage | None, window: Window, running_hours: int
) -> Decimal:
    """Its use rate as the row's dollars take it: billable hours per measured hour (an AUTO_STOP
    WorkSpace is measured over the whole window). A row without billable hours (an agentic
    WorkSpace, which the billing rules do not judge) takes the hours it ran, which AUTO_STOP bills."""
    if row is None or row.billable_hours is None:
        return use_rate(running_hours, window.hours)
    if ws.running_mode == RunningMode.ALWAYS_ON and isinstance(series, HourlyUsage):
        return use_rate(row.billable_hours, len(measured_hours(series.points, window)))
    return use_rate(row.billable_hours, window.hours)


def _failed(exc: Exception) -> Found:
    return Found(note=f"right-sizing failed: internal error ({type(exc).__name__})")


def _filled(row: ReportRow, found: Found) -> ReportRow:
    values: dict[str, Any] = {
        "rightsize_to": found.to,
        "rightsize_saving_next_month": found.saving,
        "rightsize_note": found.note,
        "cpu_p95": found.cpu_p95,
        "memory_p95": found.memory_p95,
    }
    return replace(row, **values)
