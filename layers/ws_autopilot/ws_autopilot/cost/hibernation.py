"""Compute types that do not hibernate, and what a month-end reset of one of them says or does
(issue 20, item 4; docs/decisions.md D-178, D-179).

Which types hibernate is a column of cost/compute_types.py, with AWS's words for it. A WorkSpace
of a type that does not, once AUTO_STOP, loses its user's open applications and unsaved work
every time it stops after the AutoStop timeout. Pure: no clock, no AWS call.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from ws_autopilot.cost.bill import cents, month_hours, next_month_start, use_rate
from ws_autopilot.cost.compute_types import BY_NAME
from ws_autopilot.cost.models import Action, Decision
from ws_autopilot.cost.pricing import BundlePrices

KEPT_PREFIX = "kept ALWAYS_ON, no hibernation: "  # how a held reset's reason starts (the digest reads it)
LOST = "its open applications and unsaved work are lost each time it stops after the AutoStop timeout"
WOULD_LOSE = (
    "its open applications and unsaved work would be lost each time it stopped after the AutoStop timeout"
)


class NoHibernationTypes(StrEnum):
    """What the month-end reset does with a WorkSpace whose compute type does not hibernate
    (template parameter `NoHibernationTypes`)."""

    KEEP_ALWAYS_ON = "KeepAlwaysOn"  # `skipped`, the reason says why and what the reset would save
    CONVERT = "ConvertToAutoStop"  # converted as any other, the reason says what its users lose


def hibernates(compute_type: str) -> bool:
    """True only for the compute types AWS documents as hibernating when AUTO_STOP stops them; a
    type the product does not know is not known to hibernate."""
    known = BY_NAME.get(compute_type)
    return known is not None and known.hibernates


def why_not(compute_type: str) -> str:
    """How the reason names a type that does not hibernate (or is not known to)."""
    known = BY_NAME.get(compute_type)
    if known is not None and not known.hibernates:
        return f"{compute_type} does not hibernate"
    return f"{compute_type} is not known to hibernate"


def reset_saving(prices: BundlePrices, billable_hours: int, measured_hours: int, at: datetime) -> Decimal:
    """What the reset would take off next month's bill at the rate so far (billing rules, "Dollars
    in reports", `to_auto_stop`): M - (F + p x r x L(next)), rounded to the cent."""
    rate = use_rate(billable_hours, measured_hours)
    following = month_hours(next_month_start(at))
    return cents(
        prices.always_on_monthly - (prices.auto_stop_monthly + prices.auto_stop_hourly * rate * following)
    )


def no_hibernation_rule(
    decision: Decision,
    compute_type: str,
    policy: NoHibernationTypes,
    prices: BundlePrices | None,
    now: datetime,
) -> Decision:
    """A `to_auto_stop` of a type that does not hibernate: converted with a reason that says what
    its users lose (`ConvertToAutoStop`), or `skipped` with a reason that says why, what the reset
    would have saved next month and how to allow it (`KeepAlwaysOn`). Anything else unchanged."""
    if decision.action is not Action.TO_AUTO_STOP or hibernates(compute_type):
        return decision
    if policy is NoHibernationTypes.CONVERT:
        note = f"{why_not(compute_type)}: {LOST} (NoHibernationTypes={policy.value})"
        return replace(decision, reason=f"{decision.reason}; {note}")
    saving = ""
    if prices is not None and decision.billable_hours is not None:
        amount = reset_saving(prices, decision.billable_hours, decision.measured_hours or 0, now)
        month = f"{next_month_start(now):%B %Y}"
        saving = f"; AUTO_STOP {_would(amount)} in {month} at this use"
    reason = (
        f"{KEPT_PREFIX}{why_not(compute_type)}, so as AUTO_STOP {WOULD_LOSE}; {decision.reason}:"
        f" not made{saving} (NoHibernationTypes={policy.value}; ConvertToAutoStop converts it)"
    )
    return replace(decision, action=Action.SKIPPED, reason=reason)


def _would(amount: Decimal) -> str:
    """ "would save $12.40" or "would cost $3.10 more"."""
    if amount < 0:
        return f"would cost ${-amount:.2f} more"
    return f"would save ${amount:.2f}"
