"""What the monthly digest says about how AUTO_STOP WorkSpaces run (issue 20, items 4 and 5):
the hours they ran with nobody connected and what those hours cost, and the month-end resets of
compute types that do not hibernate, made or held. Pure: report rows in, values out."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from decimal import Decimal

from ws_autopilot.cost.hibernation import KEPT_PREFIX, hibernates
from ws_autopilot.digest.rows import DigestRow

LISTED = 10  # WorkSpaces the digest lists by their hours with nobody connected


def unattended_cost(row: DigestRow) -> Decimal | None:
    """What the row's hours with nobody connected cost: each is an hour AUTO_STOP bills at its
    hourly price p (the bill model, rule 2); None without the price or the hours."""
    if row.unattended_hours is None or row.price_auto_stop_hourly is None:
        return None
    return row.price_auto_stop_hourly * row.unattended_hours


def is_kept_always_on(row: DigestRow) -> bool:
    """A month-end reset held on ALWAYS_ON because its compute type does not hibernate
    (NoHibernationTypes=KeepAlwaysOn)."""
    return row.action == "skipped" and row.reason.startswith(KEPT_PREFIX)


def is_no_hibernation_reset(row: DigestRow) -> bool:
    """A conversion to AUTO_STOP of a compute type that does not hibernate."""
    return row.action == "to_auto_stop" and not hibernates(row.compute_type)


@dataclass(slots=True)
class UnattendedHours:
    """The final view's AUTO_STOP WorkSpaces that ran with nobody connected: how many, their
    hours, what the priced ones cost, and the `LISTED` with the most hours."""

    workspaces: int = 0
    hours: int = 0
    cost: Decimal | None = None
    unpriced_hours: int = 0  # hours of WorkSpaces without prices: not in `cost`
    most: list[tuple[int, Decimal, int, DigestRow]] = field(default_factory=list)  # a min-heap

    def add(self, row: DigestRow, position: int) -> None:
        """One row of the final view, the `position`-th (ties keep the earlier row)."""
        if not row.unattended_hours:
            return
        self.workspaces += 1
        self.hours += row.unattended_hours
        cost = unattended_cost(row)
        if cost is None:
            self.unpriced_hours += row.unattended_hours
        else:
            self.cost = cost + (self.cost or 0)
        entry = (row.unattended_hours, cost or Decimal(0), -position, row)
        if len(self.most) < LISTED:
            heapq.heappush(self.most, entry)
        elif entry[:3] > self.most[0][:3]:
            heapq.heapreplace(self.most, entry)

    def listed(self) -> list[DigestRow]:
        """The WorkSpaces with the most hours, most first."""
        return [row for *_, row in sorted(self.most, key=lambda e: e[:3], reverse=True)]
