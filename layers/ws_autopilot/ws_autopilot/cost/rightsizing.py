"""Right-sizing, report only: from a month's hourly CPUUsage and MemoryUsage, whether a
WorkSpace's compute type is larger or smaller than its use needs, and what one type down or up
would change on its monthly bill. Pure: no clock, no AWS call. Nothing here changes a compute
type; the daily pass writes what it finds in the report (cost/rightsizing_review.py) and the
monthly digest lists it (docs/decisions.md D-186..D-191).

- The ladder: the compute types one can move between, in order, per family (the `family` column
  of cost/compute_types.py, smallest first). One type down or up is its neighbour in its family;
  the first and last of a family, and a type alone in its family, have no neighbour on that side,
  and the note says so.
- The hours judged: those a person was connected (`UserConnected` >= 1), the WorkSpace's use;
  for a WorkSpace of another category (agentic) every hour it reported, since no person's
  connection marks its use. At least `MIN_HOURS` of them with both metrics, else no judgement.
- One type down when even its busy hours leave the type mostly idle: the 95th percentile of the
  hours' CPU and of their memory both at most `DOWN_AT_MOST` percent. One step down about halves
  vCPUs and memory, so the smaller type would run those hours at about 60% at most.
- One type up when it is constantly near its limits: the median hour's CPU at least
  `UP_CPU_AT_LEAST` or its memory at least `UP_MEMORY_AT_LEAST` percent.
- The dollars: next month's bill with the other type minus with its own, at the running mode it
  will have next month and at its use so far (the bill model, cost/bill.py).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from functools import cache

from ws_autopilot.core.models import RunningMode
from ws_autopilot.cost.bill import WorkspaceMonth, cents, month_bill, month_hours, next_month_start
from ws_autopilot.cost.compute_types import BY_NAME, family_of
from ws_autopilot.cost.pricing import BundlePrices

DOWN_AT_MOST = 30.0  # percent: p95 of CPU and of memory over the hours judged
UP_CPU_AT_LEAST = 80.0  # percent: the median hour's CPU
UP_MEMORY_AT_LEAST = 85.0  # percent: the median hour's memory (paging starts near full)
MIN_HOURS = 40  # hours judged: about a working week


class Direction(StrEnum):
    DOWN = "down"
    UP = "up"


@dataclass(frozen=True, slots=True)
class Neighbours:
    """A compute type's place on the ladder: the types one down and one up (None at an end)."""

    family: str
    down: str | None
    up: str | None


@cache
def neighbours(compute_type: str) -> Neighbours | None:
    """Where `compute_type` stands on the ladder; None for a type the ladder does not know."""
    types = family_of(compute_type)
    if not types:
        return None
    at = types.index(compute_type)
    down = types[at - 1] if at > 0 else None
    up = types[at + 1] if at + 1 < len(types) else None
    return Neighbours(BY_NAME[compute_type].family, down, up)


@dataclass(frozen=True, slots=True)
class Load:
    """Percentiles of the hours judged, in percent (nearest rank)."""

    hours: int
    cpu_p50: float
    cpu_p95: float
    memory_p50: float
    memory_p95: float


def percentile(values: Sequence[float], pct: int) -> float:
    """The nearest-rank `pct`th percentile of `values` (not empty): the smallest value that at
    least `pct` percent of them do not exceed."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[rank - 1]


def load_of(
    cpu: Mapping[datetime, float], memory: Mapping[datetime, float], hours: Collection[datetime] | None
) -> Load | None:
    """The percentiles over the hours that have both metrics, only those in `hours` when given
    (the hours a person was connected); None when there is no such hour."""
    judged = [t for t in cpu if t in memory and (hours is None or t in hours)]
    if not judged:
        return None
    cpus, memories = [cpu[t] for t in judged], [memory[t] for t in judged]
    return Load(
        len(judged),
        percentile(cpus, 50),
        percentile(cpus, 95),
        percentile(memories, 50),
        percentile(memories, 95),
    )


@dataclass(frozen=True, slots=True)
class Recommendation:
    """What right-sizing says of one WorkSpace: the compute type to consider ("" none) and why,
    or why there is none."""

    to: str
    note: str
    direction: Direction | None = None


@cache
def too_little_use(hours: int, basis: str = "in-use") -> str:
    """Why a WorkSpace with fewer than MIN_HOURS hours judged has no recommendation (one text per
    count, shared by every row that has it)."""
    return f"{hours} {basis} hours ({MIN_HOURS} needed)"


def _pct(value: float) -> str:
    return f"{value:.0f}%"


@cache
def _no_neighbour(compute_type: str, direction: Direction) -> str:
    place = neighbours(compute_type)
    if place is None:
        return f"{compute_type} is not on the right-sizing ladder"
    if place.family.endswith("(retired)"):
        return f"{compute_type} is a retired type ({place.family}): no type to recommend in its family"
    side = "smallest" if direction is Direction.DOWN else "largest"
    return f"{compute_type} is the {side} {place.family} type"


def recommend(compute_type: str, load: Load | None, basis: str = "in-use") -> Recommendation:
    """One type down, one type up, or none, with the reason (the thresholds above; the notes are
    short, one per recommended row of a large report). `basis` names the hours judged in the note
    ("in-use" or "running")."""
    if load is None or load.hours < MIN_HOURS:
        return Recommendation("", too_little_use(0 if load is None else load.hours, basis))
    place = neighbours(compute_type)
    where = f"in {load.hours} {basis} hours"
    if load.cpu_p50 >= UP_CPU_AT_LEAST or load.memory_p50 >= UP_MEMORY_AT_LEAST:
        why = f"median CPU {_pct(load.cpu_p50)}, memory {_pct(load.memory_p50)} {where}"
        if place is None or place.up is None:
            return Recommendation("", f"{why}; no larger type: {_no_neighbour(compute_type, Direction.UP)}")
        return Recommendation(place.up, why, Direction.UP)
    if load.cpu_p95 <= DOWN_AT_MOST and load.memory_p95 <= DOWN_AT_MOST:
        why = f"p95 CPU {_pct(load.cpu_p95)}, memory {_pct(load.memory_p95)} {where}"
        if place is None or place.down is None:
            return Recommendation(
                "", f"{why}; no smaller type: {_no_neighbour(compute_type, Direction.DOWN)}"
            )
        return Recommendation(place.down, why, Direction.DOWN)
    return Recommendation("", "")  # well sized: the report's percent columns say how loaded


def monthly_saving(
    current: BundlePrices,
    proposed: BundlePrices,
    mode: RunningMode,
    rate: Decimal,
    month: datetime,
) -> Decimal:
    """Next month's bill with `current` prices minus with `proposed` ones (negative: the other
    type costs more), in running mode `mode` at the use rate `rate` (billable hours per hour,
    cost/bill.py `use_rate`) over that month's hours; rounded to the cent."""
    following = next_month_start(month)
    hours = int((rate * month_hours(following)).to_integral_value(rounding=ROUND_HALF_UP))
    facts = WorkspaceMonth(following, mode, hours)
    return cents(month_bill(current, facts) - month_bill(proposed, facts))
