"""Billable-hour arithmetic of the billing rules (docs: README "How the optimizer decides").

All functions are pure: they take the facts and `now` and touch no clock and no AWS API.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from ws_autopilot.models import RunningMode, Workspace

HOUR = timedelta(hours=1)
DEFAULT_AUTO_STOP_TIMEOUT_MINUTES = 60


@dataclass(frozen=True, slots=True)
class Window:
    """The evaluation window [start, end): 00:00 UTC on the 1st of the run's month to `now`
    truncated to the hour, never past the end of that month."""

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


def month_end(day: date) -> datetime:
    """00:00 UTC on the 1st of the month after `day`: when billing renews."""
    first_next = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return datetime(first_next.year, first_next.month, 1, tzinfo=UTC)


def evaluation_window(now: datetime, run_day: date | None = None) -> Window:
    """The window a WorkSpace evaluated at `now` is judged on, in a run started on `run_day`
    (default: `now`'s UTC day). A run that crosses midnight into a new month keeps judging the
    month it started in, up to its last hour."""
    now = to_utc(now)
    day = run_day or now.date()
    start = datetime(day.year, day.month, 1, tzinfo=UTC)
    end = max(start, min(now, month_end(day)).replace(minute=0, second=0, microsecond=0))
    return Window(start=start, end=end)


def is_last_day_of_month(day: date) -> bool:
    """True on the last UTC day of a month (`day` may be a date or an aware datetime)."""
    if isinstance(day, datetime):
        day = to_utc(day).date()
    return day.day == calendar.monthrange(day.year, day.month)[1]


def is_late(run_day: date, at: datetime) -> bool:
    """True when something decided for `run_day` happens once the next month has begun (a
    month-end reset made then is billed monthly for the new month all the same)."""
    return to_utc(at) >= month_end(run_day)


MONTH_END_WARNING = timedelta(hours=1)


def month_end_behind_schedule(run_day: date, now: datetime, warning: timedelta = MONTH_END_WARNING) -> bool:
    """True when a run started on the last day of a month is still at work `warning` before
    billing renews (or later): its remaining month-end resets may come too late."""
    return is_last_day_of_month(run_day) and to_utc(now) >= month_end(run_day) - warning


def timeout_hours(minutes: int) -> int:
    """An AutoStop timeout in whole hours, rounded up (billing is hourly), at least 1."""
    return max(1, -(-minutes // 60))


def idle_allowance_hours(workspace: Workspace, conversion_timeout_minutes: int) -> int:
    """G: for AUTO_STOP, the WorkSpace's own AutoStop timeout in whole hours; for ALWAYS_ON,
    the timeout the product gives a WorkSpace it converts to AUTO_STOP, so it is judged by what
    it would really cost after the conversion."""
    if workspace.running_mode == RunningMode.AUTO_STOP:
        return timeout_hours(workspace.auto_stop_timeout_minutes or DEFAULT_AUTO_STOP_TIMEOUT_MINUTES)
    return timeout_hours(conversion_timeout_minutes)


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
