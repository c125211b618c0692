"""What the product's conversions saved in the month that ended, as pure functions: each converted
WorkSpace's bill in the mode it would have kept without the product minus its bill as it was
(billing rules, "Dollars in reports"; the bill model is cost/bill.py). docs/digest.md, "Realized
savings".

A conversion counts for month X when it was carried out (not a dry run) and takes effect in X,
or, for a switch to ALWAYS_ON, in the month after the one it was made in (the month its
`saving_next_month` projected: `carried_saving`):
- a month-end reset (`to_auto_stop`) made before midnight by a run of X-1's last day: X started
  AUTO_STOP. Without it, X would have been ALWAYS_ON all month: M. As it was: F + p x H, or, when
  the product switched it back to ALWAYS_ON at t during X, F + p x H(before t) + M x (end - t) / L.
  A late reset (made after midnight) takes effect with X+1 and is not counted.
- a switch to ALWAYS_ON made during X: by a run of X (not late), or late by a run of X-1's last
  day (made after midnight, so in X). Without it, X would have stayed AUTO_STOP: F + p x H. As it
  was: F + p x H(before t) + M x (end - t) / L.
- a switch to ALWAYS_ON made during X-1 (as X-1's digest listed them, `digests/X-1.switches.csv`):
  X began ALWAYS_ON because of it. Without it: F + p x H. As it was: M.
H is the WorkSpace's billable hours in X's final view (the last report of the month). A figure
that cannot be worked out from the reports (no prices, not in the final view, a running mode
changed by someone else) is named with its reason, never guessed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from ws_autopilot.core.calendar import HOUR
from ws_autopilot.core.models import RunningMode
from ws_autopilot.cost.bill import SwitchToAlwaysOn, WorkspaceMonth, cents, month_bill, next_month_start
from ws_autopilot.digest.rows import DigestRow

TO_ALWAYS_ON, TO_AUTO_STOP = "to_always_on", "to_auto_stop"
CONVERSIONS = (TO_ALWAYS_ON, TO_AUTO_STOP)
LARGEST = 10
Key = tuple[str, str, str]

NOT_PRICED = "not priced"
NOT_IN_FINAL = "not in the month's final report"
NO_HOURS = "billable hours unknown in the month's final report"
CHANGED_BY_HAND = "running mode changed by someone else during the month"
NO_TIME = "conversion time unknown"
NO_HOURS_BEFORE = "billable hours before the switch unknown"


@dataclass(frozen=True, slots=True)
class FinalFacts:
    """What the month's final view says of one WorkSpace: its billable hours for the month and
    its running mode as that run listed it."""

    billable_hours: int | None
    running_mode: str


@dataclass(frozen=True, slots=True)
class RealizedSaving:
    """One converted WorkSpace's month: its bill without the product and as it was (USD, to the
    cent), or why they could not be worked out (`problem`)."""

    direction: str  # to_auto_stop: a reset in effect this month; to_always_on: a switch made in it
    conversion: DigestRow  # the row of the run that made the conversion
    switched_back: DigestRow | None = None  # a reset the product switched back to ALWAYS_ON
    without: Decimal | None = None  # the month's bill in the mode it would have kept
    as_billed: Decimal | None = None  # the month's bill as it was
    problem: str = ""
    carried: bool = False  # a switch of the previous month: this whole month billed monthly by it

    @property
    def saving(self) -> Decimal | None:
        """Realized: without minus as billed; negative when the change cost more."""
        if self.without is None or self.as_billed is None:
            return None
        return self.without - self.as_billed


def realized_saving(
    direction: str,
    conversion: DigestRow,
    final: FinalFacts | None,
    month: date,
    switched_back: DigestRow | None = None,
) -> RealizedSaving:
    """The realized saving of one conversion in effect in `month` (any day of it); `final` is the
    WorkSpace in the month's final view, `switched_back` the product's switch to ALWAYS_ON of a
    reset WorkSpace during the month."""
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    undone = RealizedSaving(direction, conversion, switched_back)
    prices, problem = conversion.prices, _unknown(conversion, final)
    if problem or prices is None or final is None or final.billable_hours is None:
        return replace(undone, problem=problem)
    stayed_auto_stop = WorkspaceMonth(start, RunningMode.AUTO_STOP, final.billable_hours)
    switch = switched_back if direction == TO_AUTO_STOP else conversion
    if switch is None:
        # a reset kept all month: the final view must still list it AUTO_STOP
        if final.running_mode != RunningMode.AUTO_STOP:
            return replace(undone, problem=CHANGED_BY_HAND)
        as_billed = stayed_auto_stop
    else:
        at = switch.evaluated
        if at is None or not start <= at < next_month_start(start):
            return replace(undone, problem=NO_TIME)
        before = _hours_before(switch, at, start)
        if before is None:
            return replace(undone, problem=NO_HOURS_BEFORE)
        as_billed = WorkspaceMonth(
            start, RunningMode.AUTO_STOP, final.billable_hours, switched_on=SwitchToAlwaysOn(at, before)
        )
    kept = WorkspaceMonth(start, RunningMode.ALWAYS_ON, 0) if direction == TO_AUTO_STOP else stayed_auto_stop
    return RealizedSaving(
        direction,
        conversion,
        switched_back,
        without=cents(month_bill(prices, kept)),
        as_billed=cents(month_bill(prices, as_billed)),
    )


def carried_saving(conversion: DigestRow, final: FinalFacts | None, month: date) -> RealizedSaving:
    """The realized saving in `month` of a switch to ALWAYS_ON made during the month before: the
    month began ALWAYS_ON because of it (M), where it would have stayed AUTO_STOP (F + p x H)."""
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    undone = RealizedSaving(TO_ALWAYS_ON, conversion, carried=True)
    prices, problem = conversion.prices, _unknown(conversion, final)
    if problem or prices is None or final is None or final.billable_hours is None:
        return replace(undone, problem=problem)
    if final.running_mode != RunningMode.ALWAYS_ON:
        return replace(undone, problem=CHANGED_BY_HAND)
    without = WorkspaceMonth(start, RunningMode.AUTO_STOP, final.billable_hours)
    as_billed = WorkspaceMonth(start, RunningMode.ALWAYS_ON, final.billable_hours)
    return replace(
        undone, without=cents(month_bill(prices, without)), as_billed=cents(month_bill(prices, as_billed))
    )


def _unknown(conversion: DigestRow, final: FinalFacts | None) -> str:
    """Why the reports cannot say what a conversion saved ("" when they can)."""
    if conversion.prices is None:
        return NOT_PRICED
    if final is None:
        return NOT_IN_FINAL
    if final.billable_hours is None:
        return NO_HOURS
    return ""


def _hours_before(switch: DigestRow, at: datetime, start: datetime) -> int | None:
    """The month's billable hours before the switch at `at`: the switch row's, when its run judged
    this month. A late switch (made after midnight by the run of the previous month's last day)
    was judged on the previous month's hours; this month's before it are no more than the whole
    hours elapsed since 00:00 on the 1st (none, a few minutes after midnight): that bound is
    taken, which can only understate the saving."""
    if switch.late:
        return int((at - start) // HOUR)
    return switch.billable_hours


@dataclass(slots=True)
class ConversionsInEffect:
    """The product's conversions that take effect in the digest's month, gathered row by row:
    from the runs of the previous month's last day (`add_previous`), then from the month's own
    runs (`add`). Only conversion rows are kept, one per WorkSpace."""

    resets: dict[Key, DigestRow] = field(default_factory=dict)
    late_resets: dict[Key, DigestRow] = field(default_factory=dict)  # take effect a month later
    switches: dict[Key, DigestRow] = field(default_factory=dict)
    carried: dict[Key, DigestRow] = field(default_factory=dict)  # switches of the month before

    def add_carried(self, row: DigestRow) -> None:
        """A switch to ALWAYS_ON the previous month's digest counted: this month is its next."""
        if row.action == TO_ALWAYS_ON and not row.dry_run:
            self.carried.setdefault(row.key, row)

    def carry_forward(self) -> list[DigestRow]:
        """The switches to ALWAYS_ON of this month that next month's digest realizes again (its
        whole month billed monthly). A reset switched back is left out: without the product it
        would have been ALWAYS_ON either way."""
        return [row for key, row in self.switches.items() if key not in self.resets]

    def add_previous(self, row: DigestRow) -> None:
        """A row of a run of the previous month's last day."""
        if row.dry_run:
            return
        if row.action == TO_AUTO_STOP:
            (self.late_resets if row.late else self.resets).setdefault(row.key, row)
        elif row.action == TO_ALWAYS_ON and row.late:
            self.switches.setdefault(row.key, row)

    def add(self, row: DigestRow) -> None:
        """A row of a run of the month (a late switch of its last day is next month's)."""
        if row.action == TO_ALWAYS_ON and not row.dry_run and not row.late:
            self.switches.setdefault(row.key, row)

    def settle(self, month: date, final: Mapping[Key, FinalFacts]) -> list[RealizedSaving]:
        """Each conversion's realized saving in `month`. A reset the product switched back to
        ALWAYS_ON during the month counts once, as a reset: without the product it would have
        stayed ALWAYS_ON all month."""
        switches = dict(self.switches)
        found = [
            realized_saving(TO_AUTO_STOP, row, final.get(key), month, switches.pop(key, None))
            for key, row in self.resets.items()
        ]
        found += [realized_saving(TO_ALWAYS_ON, row, final.get(key), month) for key, row in switches.items()]
        found += [carried_saving(row, final.get(key), month) for key, row in self.carried.items()]
        return sorted(found, key=lambda s: s.conversion.key)


@dataclass(frozen=True, slots=True)
class RealizedMonth:
    """The month's realized savings, as the digest shows them."""

    month: date  # its 1st
    savings: list[RealizedSaving]
    previous_reports: int  # reports of the previous month's last day read for its resets
    late_resets: int  # resets of that day made after midnight: they take effect next month

    @property
    def previous_day(self) -> date:
        return self.month - timedelta(days=1)

    def of(self, direction: str) -> list[RealizedSaving]:
        return [s for s in self.savings if s.direction == direction]

    @property
    def groups(self) -> list[tuple[str, list[RealizedSaving]]]:
        """The savings by kind, as the digest's table lists them: resets of the month before,
        switches to ALWAYS_ON made in the month, and those made in the month before."""
        return [
            ("reset", self.of(TO_AUTO_STOP)),
            ("switched", [s for s in self.of(TO_ALWAYS_ON) if not s.carried]),
            ("carried", [s for s in self.savings if s.carried]),
        ]

    @staticmethod
    def total_of(savings: list[RealizedSaving]) -> Decimal | None:
        """The sum of the figures worked out; None when there are conversions and none of them
        could be worked out (an unknown is not $0)."""
        known = [s.saving for s in savings if s.saving is not None]
        if not known and savings:
            return None
        return sum(known, Decimal(0))

    @property
    def total(self) -> Decimal | None:
        return self.total_of(self.savings)

    @property
    def largest(self) -> list[RealizedSaving]:
        """The ten largest realized savings, largest first."""
        gains = [s for s in self.savings if s.saving is not None and s.saving > 0]
        return sorted(gains, key=lambda s: (-(s.saving or 0), s.conversion.key))[:LARGEST]

    @property
    def cost_more(self) -> list[RealizedSaving]:
        """Every conversion that cost more than not converting, the costliest first."""
        losses = [s for s in self.savings if s.saving is not None and s.saving < 0]
        return sorted(losses, key=lambda s: (s.saving or 0, s.conversion.key))

    @property
    def not_computed(self) -> list[RealizedSaving]:
        return [s for s in self.savings if s.saving is None]
