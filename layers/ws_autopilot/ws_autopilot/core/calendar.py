"""The UTC month calendar every wing shares: the evaluation window of a run (billing rules,
"Inputs"), the month's end and its last day."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

HOUR = timedelta(hours=1)


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
