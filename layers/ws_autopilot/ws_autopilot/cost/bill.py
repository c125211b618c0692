"""What AWS charges for one WorkSpace in one calendar month (UTC), as pure functions: the bill
model of ../shared/reference/billing-rules.md, "What AWS charges: the bill model".

With M the ALWAYS_ON monthly price, F the AUTO_STOP monthly fee, p the AUTO_STOP hourly price,
L the hours of the month (672, 696, 720 or 744) and H its billable hours:
1. the running mode at 00:00 UTC on the 1st sets the fixed charge: M if ALWAYS_ON, F if AUTO_STOP;
2. while AUTO_STOP, every billable hour costs p;
3. AUTO_STOP -> ALWAYS_ON at t takes effect at once: F + p x H(before t) + M x (end - t) / L;
4. ALWAYS_ON -> AUTO_STOP takes effect at the next 1st: the month stays M;
5. an ALWAYS_ON WorkSpace created during the month costs M x (hours from its creation) / L.

Not used by the decisions or the report yet (issue 18 wires it in); amounts are exact Decimals,
rounded by whoever prints them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from ws_autopilot.core.calendar import HOUR, month_end, to_utc
from ws_autopilot.core.models import RunningMode
from ws_autopilot.cost.pricing import BundlePrices


def month_start(moment: datetime) -> datetime:
    """00:00 UTC on the 1st of `moment`'s UTC month."""
    return to_utc(moment).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def month_hours(moment: datetime) -> int:
    """L: the hours of `moment`'s UTC month (672, 696, 720 or 744)."""
    start = month_start(moment)
    return int((month_end(start.date()) - start) / HOUR)


@dataclass(frozen=True, slots=True)
class SwitchToAlwaysOn:
    """A conversion AUTO_STOP -> ALWAYS_ON made during the month (rule 3): when, and the billable
    hours of the month until then (the ledger records both)."""

    at: datetime
    hours_before: int


@dataclass(frozen=True, slots=True)
class WorkspaceMonth:
    """One WorkSpace in one month, as far as its bill depends on it.

    `mode_at_start` is its running mode at 00:00 UTC on the 1st, or at its creation when it was
    created during the month (`created_at`). `billable_hours` are the month's billable hours
    (billing rules, "Billable hours"); with a switch to ALWAYS_ON only those before it are billed.
    """

    month: datetime  # any moment of the month
    mode_at_start: RunningMode
    billable_hours: int
    created_at: datetime | None = None
    switched_on: SwitchToAlwaysOn | None = None

    def __post_init__(self) -> None:
        if self.mode_at_start not in (RunningMode.ALWAYS_ON, RunningMode.AUTO_STOP):
            raise ValueError(f"no bill model for running mode {self.mode_at_start}")
        if self.switched_on is not None and self.mode_at_start is not RunningMode.AUTO_STOP:
            raise ValueError("only an AUTO_STOP WorkSpace is switched to ALWAYS_ON during a month")
        for moment in (self.created_at, self.switched_on.at if self.switched_on else None):
            if moment is not None and month_start(moment) != month_start(self.month):
                raise ValueError(f"{moment.isoformat()} is not in the month of {self.month.isoformat()}")


def month_bill(prices: BundlePrices, facts: WorkspaceMonth) -> Decimal:
    """The month's bill as AWS computes it (rules 1-5 above), in USD, unrounded."""
    end = month_end(month_start(facts.month).date())
    length = Decimal(month_hours(facts.month))
    monthly, fee, hourly = prices.always_on_monthly, prices.auto_stop_monthly, prices.auto_stop_hourly
    if facts.mode_at_start is RunningMode.ALWAYS_ON:
        # rule 4: a reset this month changes nothing before the next 1st
        if facts.created_at is None:
            return monthly
        return monthly * _hours(to_utc(facts.created_at), end) / length  # rule 5
    if facts.switched_on is None:
        return fee + hourly * facts.billable_hours  # rules 1 and 2
    switch = facts.switched_on
    return fee + hourly * switch.hours_before + monthly * _hours(to_utc(switch.at), end) / length  # rule 3


def _hours(start: datetime, end: datetime) -> Decimal:
    """Hours from `start` to `end`, fractions included (a switch need not fall on the hour)."""
    return Decimal((end - start).total_seconds()) / Decimal(3600)
