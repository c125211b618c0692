"""Billable-hour arithmetic of the billing rules (docs: README "How the optimizer decides").

All functions are pure: they take the facts and `now` and touch no clock and no AWS API.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ws_autopilot.models import RunningMode, Workspace

HOUR = timedelta(hours=1)
DEFAULT_AUTO_STOP_TIMEOUT_MINUTES = 60


@dataclass(frozen=True, slots=True)
class Window:
    """The evaluation window [start, end): the 1st of `now`'s month to `now` truncated to the hour."""

    start: datetime
    end: datetime

    @property
    def hours(self) -> int:
        return int((self.end - self.start) / HOUR)

    def hour_index(self, timestamp: datetime) -> int | None:
        """The 0-based hour of the window that `timestamp` falls in, or None outside the window."""
        if not self.start <= timestamp < self.end:
            return None
        return int((timestamp - self.start) / HOUR)


def to_utc(now: datetime) -> datetime:
    """`now` as an aware UTC datetime; a naive value is taken to be UTC already."""
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def evaluation_window(now: datetime) -> Window:
    now = to_utc(now)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = now.replace(minute=0, second=0, microsecond=0)
    return Window(start=start, end=end)


def is_last_day_of_month(now: datetime) -> bool:
    now = to_utc(now)
    return now.day == calendar.monthrange(now.year, now.month)[1]


def idle_allowance_hours(workspace: Workspace) -> int:
    """G: the AutoStop timeout in whole hours for AUTO_STOP (rounded up, as billing is hourly),
    1 hour for ALWAYS_ON (what it would cost on hourly billing with the default timeout)."""
    if workspace.running_mode == RunningMode.AUTO_STOP:
        minutes = workspace.auto_stop_timeout_minutes or DEFAULT_AUTO_STOP_TIMEOUT_MINUTES
        return max(1, -(-minutes // 60))
    return 1


def connected_hours(points: Mapping[datetime, float], window: Window) -> list[int]:
    """Sorted hour indexes of the window whose UserConnected Maximum is >= 1."""
    hours = set()
    for timestamp, value in points.items():
        index = window.hour_index(to_utc(timestamp))
        if index is not None and value >= 1:
            hours.add(index)
    return sorted(hours)


def billable_hours(connected: Iterable[int], elapsed_hours: int, allowance: int) -> int:
    """Hours an AUTO_STOP WorkSpace would be billed for this month so far.

    `connected` holds the indexes (0 .. elapsed_hours-1) of connected hours, `allowance` is G.
    A session runs from a connected hour until G unconnected hours in a row have passed; it
    bills its span plus G, or, while still open at the window's end, its span plus the whole
    hours elapsed since its last connected hour (at most G).
    """
    if allowance < 1:
        raise ValueError(f"idle allowance must be at least 1 hour, got {allowance}")
    total = 0
    session_start: int | None = None
    last = -1
    for hour in sorted(set(connected)):
        if not 0 <= hour < elapsed_hours:
            raise ValueError(f"connected hour {hour} is outside the window of {elapsed_hours} hours")
        if session_start is None:
            session_start = hour
        elif hour - last - 1 >= allowance:
            total += _session_hours(session_start, last, elapsed_hours, allowance)
            session_start = hour
        last = hour
    if session_start is not None:
        total += _session_hours(session_start, last, elapsed_hours, allowance)
    return total


def _session_hours(first: int, last: int, elapsed_hours: int, allowance: int) -> int:
    idle_after = min(allowance, elapsed_hours - 1 - last)
    return last - first + 1 + idle_after
