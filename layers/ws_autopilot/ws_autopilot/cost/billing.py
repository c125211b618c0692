"""Billable-hour arithmetic of the billing rules (docs/cost.md, "How the optimizer decides").

All functions are pure: they take the facts and `now` and touch no clock and no AWS API.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta

from ws_autopilot.core.calendar import Window, is_last_day_of_month, month_end, to_utc
from ws_autopilot.core.models import RunningMode, Workspace

DEFAULT_AUTO_STOP_TIMEOUT_MINUTES = 60


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


def measured_hours(points: Mapping[datetime, float], window: Window) -> list[int]:
    """Sorted hour indexes of the window that have a datapoint, connected or not. An ALWAYS_ON
    WorkSpace reports every hour it exists: its other hours are unmeasured (before it was
    created, or a metric gap), neither connected nor idle (billing rules, "Partial months")."""
    return sorted({i for ts in points if (i := window.hour_index(to_utc(ts))) is not None})


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


def unattended_hours(points: Mapping[datetime, float], window: Window, allowance: int) -> int:
    """Hours an AUTO_STOP WorkSpace ran with nobody connected that no session explains (report
    only; the billable hours above are unchanged). An AUTO_STOP WorkSpace reports `UserConnected`
    only while it runs, so every hour of the window with a datapoint is an hour it ran. A session
    explains its connected hours, the G hours after each (the AutoStop timeout), the hour before
    each (starting for its user) and the hour after the timeout (the minutes AWS takes to stop,
    which it does not bill). What is left (a WorkSpace used through a client AutoStop cannot see,
    started for maintenance, or never stopping) is billed and was invisible (decisions.md D-181).

    One pass over the series: `allowance` is G, at least 1."""
    running: set[int] = set()
    connected: set[int] = set()
    for timestamp, value in points.items():
        index = window.hour_index(to_utc(timestamp))
        if index is not None:
            running.add(index)
            if value >= 1:
                connected.add(index)
    if len(running) == len(connected):
        return 0
    reach = allowance + 1  # hours after a connected hour that its session explains
    starts = sorted(connected)
    count = 0
    j = 0
    for hour in sorted(running - connected):
        while j < len(starts) and starts[j] + reach < hour:
            j += 1
        if j == len(starts) or starts[j] - 1 > hour:
            count += 1
    return count
