"""Unused WorkSpaces as pure policy: which WorkSpaces nobody connected to for N months, and what
may be done about them (docs/unused.md).

A WorkSpace is *unused* when no connection to it is known since the start of its window,
00:00 UTC on the run's day N months back (N = `UnusedMonths`), from any of three sources: the
hourly `UserConnected` series (this month's, which the optimizer reads anyway, and a daily series
of the months before), the login records (`LAST` item of the login table) and the connection
status (`LastKnownUserConnectionTimestamp`, `ConnectionState`). Any source that shows a
connection in the window makes the WorkSpace used; a source that cannot be read makes the
verdict `unknown`, never `unused`.

Only *candidates* are looked at: WorkSpaces whose month-to-date series has no connected hour.
The cheap sources (CloudWatch, DynamoDB) are read first; the WorkSpaces API (connection status,
25 per call) only for the candidates they do not already show in use.

Acting (stop or terminate) happens only on the last day of a month (the run's day), only on a
WorkSpace shown to exist before its window (the API gives no creation time: a connection or a
`UserConnected` datapoint before the window is the proof; without one the WorkSpace may have been
created inside the window and is held), never on one tagged `Skip_Convert` or `Skip_Terminate`,
and at most once a month (the ledger, `recall_action`).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum

from ws_autopilot.core.calendar import is_last_day_of_month
from ws_autopilot.core.claims import CLAIM_STALE_AFTER, LedgerStatus
from ws_autopilot.core.models import (
    DailyUsage,
    HourlyUsage,
    RunningMode,
    Tags,
    TagsUnavailable,
    Usage,
    Workspace,
)
from ws_autopilot.core.opt_out import find_opt_out_tag
from ws_autopilot.cost.rules import SKIP_CONVERT_TAG

SKIP_TERMINATE_TAG = "Skip_Terminate"
TERMINATE_CONFIRMATION = "yes-terminate-unused-workspaces"
# Not yet or no longer a WorkSpace anyone could use: never judged.
NOT_JUDGED_STATES = frozenset({"PENDING", "TERMINATING", "TERMINATED"})
STOPPABLE_STATES = frozenset({"AVAILABLE"})  # UNHEALTHY, ERROR, IMPAIRED are remediation's
TERMINABLE_STATES = frozenset({"AVAILABLE", "STOPPED"})
MANAGED_MODES = frozenset({RunningMode.AUTO_STOP.value, RunningMode.ALWAYS_ON.value})


class UnusedPolicy(StrEnum):
    """What is done with unused WorkSpaces (template parameter `UnusedAction`)."""

    REPORT = "report"
    STOP = "stop"
    TERMINATE = "terminate"

    @property
    def done(self) -> str:
        return {"report": "reported", "stop": "stopped", "terminate": "terminated"}[self.value]

    @property
    def doing(self) -> str:
        return {"report": "reporting", "stop": "stopping", "terminate": "terminating"}[self.value]

    @property
    def effect_states(self) -> frozenset[str]:
        """States that show the action was made (it is asynchronous)."""
        if self is UnusedPolicy.STOP:
            return frozenset({"STOPPING", "STOPPED"})
        if self is UnusedPolicy.TERMINATE:
            return frozenset({"TERMINATING", "TERMINATED"})
        return frozenset()


def window_start(run_day: date, months: int) -> datetime:
    """00:00 UTC on the run's day `months` months back (the day clamped to the shorter month:
    2 months before 2026-04-30 is 2026-02-28)."""
    if months < 1:
        raise ValueError(f"the unused window needs at least 1 month, got {months}")
    index = run_day.year * 12 + run_day.month - 1 - months
    year, month = divmod(index, 12)
    day = min(run_day.day, calendar.monthrange(year, month + 1)[1])
    return datetime(year, month + 1, day, tzinfo=UTC)


def is_candidate(workspace: Workspace, usage: Usage) -> bool:
    """True for a WorkSpace the unused check looks at: this month's series was read and has no
    connected hour, it is in a state someone could use, its running mode is one the product
    manages (MANUAL is WorkSpaces Core, out of scope), it is not a standby WorkSpace (idle by
    design until its primary fails), and it is a person's (an agentic WorkSpace's agents work
    without the user connections every source here counts, so it would always look unused)."""
    if not isinstance(usage, HourlyUsage) or any(v >= 1 for v in usage.points.values()):
        return False
    return (
        workspace.state not in NOT_JUDGED_STATES
        and workspace.running_mode in MANAGED_MODES
        and not workspace.is_standby
        and workspace.is_personal
    )


@dataclass(frozen=True, slots=True)
class Sighting:
    """What one source shows about a WorkSpace: its latest connection and the earliest moment
    it is known to have existed (None: the source shows neither)."""

    source: str
    last_connection: datetime | None = None
    first_seen: datetime | None = None


@dataclass(slots=True)
class Evidence:
    """Everything read about one candidate; `unreadable` names each source that failed."""

    sightings: list[Sighting] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    connected_now: bool = False

    @property
    def last_connection(self) -> datetime | None:
        return max((s.last_connection for s in self.sightings if s.last_connection), default=None)

    @property
    def first_seen(self) -> datetime | None:
        seen = [t for s in self.sightings for t in (s.first_seen, s.last_connection) if t is not None]
        return min(seen, default=None)

    def used_since(self, start: datetime) -> bool:
        last = self.last_connection
        return self.connected_now or (last is not None and last >= start)


def history_sighting(series: DailyUsage) -> Sighting:
    """What the daily series of the months before this one shows: the last day with a
    connection (its 00:00 UTC), and the first day with any datapoint (the WorkSpace existed)."""
    connected = [day for day, value in series.points.items() if value >= 1]
    return Sighting(
        "UserConnected",
        last_connection=max(connected, default=None),
        first_seen=min(series.points, default=None),
    )


def login_sighting(login_time: str) -> Sighting:
    """The WorkSpace's latest login as the login records hold it (ISO 8601). Raises ValueError."""
    moment = datetime.fromisoformat(login_time)
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return Sighting("login records", last_connection=moment, first_seen=moment)


class Verdict(StrEnum):
    USED = "used"
    UNUSED = "unused"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Judgement:
    verdict: Verdict
    last_connection: datetime | None = None
    existed_before_window: bool = False
    reason: str = ""  # UNKNOWN: which sources could not be read


def judge(evidence: Evidence, start: datetime) -> Judgement:
    """Used when any source shows a connection since `start` (or a user connected now);
    unknown when a source could not be read; unused otherwise."""
    last = evidence.last_connection
    if evidence.used_since(start):
        return Judgement(Verdict.USED, last)
    if evidence.unreadable:
        return Judgement(Verdict.UNKNOWN, last, reason="; ".join(evidence.unreadable))
    first = evidence.first_seen
    return Judgement(Verdict.UNUSED, last, existed_before_window=first is not None and first < start)


class UnusedStep(StrEnum):
    REPORT = "report"  # listed, nothing to do
    ACT = "act"  # stop or terminate it
    HOLD = "hold"  # it would be acted on, but a guard holds it


@dataclass(frozen=True, slots=True)
class UnusedPlan:
    step: UnusedStep
    policy: UnusedPolicy
    reason: str = ""  # HOLD: why


def plan(
    workspace: Workspace,
    judgement: Judgement,
    policy: UnusedPolicy,
    terminate_confirmed: bool,
    run_day: date,
    start: datetime,
    mode_after: str,
) -> UnusedPlan:
    """What to do with an unused WorkSpace before its tags, the ledger and the cap are read.

    `mode_after` is its running mode once this run's conversion (if any) was made.
    """
    if judgement.verdict is not Verdict.UNUSED:
        raise ValueError(f"only unused WorkSpaces are planned for, not {judgement.verdict.value} ones")
    if policy is UnusedPolicy.REPORT or not is_last_day_of_month(run_day):
        return UnusedPlan(UnusedStep.REPORT, policy)

    def hold(reason: str) -> UnusedPlan:
        return UnusedPlan(UnusedStep.HOLD, policy, reason)

    if policy is UnusedPolicy.TERMINATE and not terminate_confirmed:
        return hold(f"terminating needs ConfirmTerminateUnused={TERMINATE_CONFIRMATION}")
    if not judgement.existed_before_window:
        return hold(
            f"creation time unknown: no connection or UserConnected datapoint before {start:%Y-%m-%d}, "
            "so it may have been created since"
        )
    if workspace.modification_states:
        return hold("a modification is in progress")
    if policy is UnusedPolicy.STOP:
        if workspace.state == "STOPPED":
            return hold("already STOPPED")
        if workspace.state not in STOPPABLE_STATES:
            return hold(f"state {workspace.state}")
        if mode_after != RunningMode.AUTO_STOP:
            return hold(f"running mode {mode_after} cannot be stopped")
    elif workspace.state not in TERMINABLE_STATES:
        return hold(f"state {workspace.state}")
    return UnusedPlan(UnusedStep.ACT, policy)


def check_tags(decided: UnusedPlan, tags: Tags) -> UnusedPlan:
    """Hold an action when the tags cannot be read or carry `Skip_Convert` or `Skip_Terminate`
    (any case, any value, as the conversion opt-out)."""
    if decided.step is not UnusedStep.ACT:
        return decided
    if isinstance(tags, TagsUnavailable):
        return UnusedPlan(UnusedStep.HOLD, decided.policy, f"tags unreadable ({tags.error_code})")
    for key in (SKIP_TERMINATE_TAG, SKIP_CONVERT_TAG):
        found = find_opt_out_tag(tags, key)
        if found is not None:
            return UnusedPlan(UnusedStep.HOLD, decided.policy, f"{found[0].strip()} tag")
    return decided


@dataclass(frozen=True, slots=True)
class ActionEntry:
    """One stop or termination of an unused WorkSpace in one month, as the ledger records it."""

    workspace_id: str
    directory_id: str
    month: str
    policy: UnusedPolicy
    run_id: str
    status: LedgerStatus
    claimed_at: datetime
    last_connection: datetime | None = None
    done_at: datetime | None = None

    @property
    def when(self) -> str:
        return (self.done_at or self.claimed_at).strftime("%Y-%m-%d %H:%M UTC")


class Memory(StrEnum):
    """What the ledger says about an unused WorkSpace this month."""

    CLAIM = "claim"  # nothing recorded: claim it, then act
    RESUME = "resume"  # this run claimed it and its invocation died before finishing: act again
    COMPLETE = "complete"  # a claim's action was made (the state shows it) but not recorded done
    TAKE_OVER = "take_over"  # another run's claim went stale: claim it, then act
    RECORDED = "recorded"  # done this month: report it
    BUSY = "busy"  # another run is acting on it right now


@dataclass(frozen=True, slots=True)
class Recalled:
    memory: Memory
    text: str = ""  # RECORDED, BUSY: the report's unused_action


def recall_action(entry: ActionEntry | None, workspace: Workspace, run_id: str, now: datetime) -> Recalled:
    """How this month's ledger entry of an unused WorkSpace (None: none) bears on acting now:
    every stop or termination is made at most once a month, whatever the retries and runs."""
    if entry is None:
        return Recalled(Memory.CLAIM)
    if entry.status is LedgerStatus.DONE:
        return Recalled(Memory.RECORDED, f"{entry.policy.done} by run {entry.run_id} at {entry.when}")
    if workspace.state in entry.policy.effect_states:  # made by the claim's run, which died after
        return Recalled(Memory.COMPLETE)
    if entry.run_id == run_id:
        return Recalled(Memory.RESUME)
    if now - entry.claimed_at < CLAIM_STALE_AFTER:
        return Recalled(Memory.BUSY, f"held: being {entry.policy.done} by run {entry.run_id}")
    return Recalled(Memory.TAKE_OVER)


def report_text(judgement: Judgement, decided: UnusedPlan | None = None) -> str:
    """The report's unused_action for a WorkSpace whose plan went no further than `decided`."""
    if judgement.verdict is Verdict.USED:
        return ""
    if judgement.verdict is Verdict.UNKNOWN:
        return f"unknown: {judgement.reason}"
    if decided is None or decided.step is UnusedStep.REPORT:
        return "reported"
    if decided.step is UnusedStep.HOLD:
        return f"held: {decided.reason}"
    raise ValueError("an action's text comes from its outcome")


def dry_run_text(policy: UnusedPolicy) -> str:
    return f"would {policy.value} (dry run)"


def iso(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(UTC).isoformat()
