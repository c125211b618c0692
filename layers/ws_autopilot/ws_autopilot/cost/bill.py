"""What AWS charges for one WorkSpace in one calendar month (UTC), as pure functions: the bill
model of ../shared/reference/billing-rules.md, "What AWS charges: the bill model".

With M the ALWAYS_ON monthly price, F the AUTO_STOP monthly fee, p the AUTO_STOP hourly price,
L the hours of the month (672, 696, 720 or 744) and H its billable hours:
1. the running mode at 00:00 UTC on the 1st sets the fixed charge: M if ALWAYS_ON, F if AUTO_STOP;
2. while AUTO_STOP, every billable hour costs p;
3. AUTO_STOP -> ALWAYS_ON at t takes effect at once: F + p x H(before t) + M x (end - t) / L;
4. ALWAYS_ON -> AUTO_STOP takes effect at the next 1st: the month stays M;
5. an ALWAYS_ON WorkSpace created during the month costs M x (hours from its creation) / L.

The same module projects a decision's dollars for the report (billing rules, "Dollars in
reports") and says when switching to ALWAYS_ON pays this month ("When to switch: the timing
rule"). Amounts are exact Decimals; `cents()` rounds them for the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from ws_autopilot.core.calendar import HOUR, month_end, to_utc
from ws_autopilot.core.models import RunningMode
from ws_autopilot.cost.models import Action
from ws_autopilot.cost.pricing import CENT, BundlePrices


def month_start(moment: datetime) -> datetime:
    """00:00 UTC on the 1st of `moment`'s UTC month."""
    return to_utc(moment).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month_start(moment: datetime) -> datetime:
    """00:00 UTC on the 1st of the month after `moment`'s."""
    return month_end(month_start(moment).date())


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


def use_rate(billable_hours: int, measured_hours: int) -> Decimal:
    """r: billable hours per measured hour (0 when nothing was measured yet), at most 1."""
    if measured_hours <= 0:
        return Decimal(0)
    return min(Decimal(1), Decimal(billable_hours) / Decimal(measured_hours))


def hours_left(at: datetime) -> Decimal:
    """R: the hours from `at` to the end of its month (fractions included)."""
    return _hours(to_utc(at), next_month_start(at))


def switching_pays(prices: BundlePrices, rate: Decimal, at: datetime) -> bool:
    """The timing rule: switching AUTO_STOP -> ALWAYS_ON at `at` costs less for the rest of the
    month than staying hourly at the rate `rate`: p x r x L > M (that is p x r x R > M x R / L)."""
    return prices.auto_stop_hourly * rate * month_hours(at) > prices.always_on_monthly


def switch_extra_cost(prices: BundlePrices, rate: Decimal, at: datetime) -> Decimal:
    """What switching to ALWAYS_ON at `at` costs more this month than staying AUTO_STOP at the
    rate `rate`: M x R / L - p x r x R (negative: it saves)."""
    left = hours_left(at)
    return prices.always_on_monthly * left / month_hours(at) - prices.auto_stop_hourly * rate * left


@dataclass(frozen=True, slots=True)
class Dollars:
    """A report row's dollars (billing rules, "Dollars in reports"), rounded to the cent."""

    month_cost: Decimal  # this month's bill so far, the decision's action included
    saving_this_month: Decimal  # this month's bill without the action minus with it
    saving_next_month: Decimal  # next month's bill in the old mode minus in the new one


def row_dollars(
    prices: BundlePrices, facts: WorkspaceMonth, action: Action, rate: Decimal, at: datetime
) -> Dollars:
    """The dollars of a decision `action` taken at `at` for the WorkSpace-month `facts` (as it
    stands with the action: a `to_always_on` is `facts.switched_on`), projecting the rest of this
    month and the whole next month (its own length) at the use rate `rate`:
    - to_always_on: this month p x r x R - M x R / L; next month F + p x r x L_next - M;
    - to_auto_stop: this month 0 (it takes effect on the 1st); next month M - (F + p x r x L_next);
    - anything else: 0 and 0.
    A late action (`at` already in the next month; billing rules, "When to switch") changes
    nothing this month: a `to_always_on` then saves next month p x r x L_next - M x R / L_next
    (that month pays F either way), a `to_auto_stop` nothing (it takes effect a month later)."""
    monthly, fee, hourly = prices.always_on_monthly, prices.auto_stop_monthly, prices.auto_stop_hourly
    following = next_month_start(facts.month)
    next_hours = month_hours(following)
    late = to_utc(at) >= following
    this_month = next_month = Decimal(0)
    if action is Action.TO_ALWAYS_ON and late:
        next_month = hourly * rate * next_hours - monthly * hours_left(at) / next_hours
    elif action is Action.TO_ALWAYS_ON:
        left = hours_left(at)
        this_month = hourly * rate * left - monthly * left / month_hours(at)
        next_month = fee + hourly * rate * next_hours - monthly
    elif action is Action.TO_AUTO_STOP and not late:
        next_month = monthly - (fee + hourly * rate * next_hours)
    return Dollars(cents(month_bill(prices, facts)), cents(this_month), cents(next_month))


def cents(amount: Decimal) -> Decimal:
    """`amount` rounded to the cent, half up; never `-0.00`."""
    rounded = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    return rounded if rounded != 0 else Decimal("0.00")
