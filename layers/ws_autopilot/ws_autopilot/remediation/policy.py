"""The unhealthy-WorkSpace remediation policy, as pure functions.

AWS's guidance for an UNHEALTHY WorkSpace: reboot first, rebuild only when that did not help.
Per WorkSpace the policy keeps a record (phase, when it went unhealthy, what was done and when)
and every scan takes one step from it:

    healthy --UNHEALTHY--> OBSERVING --grace elapsed--> REBOOTED --wait elapsed, reboots left--> REBOOTED
    REBOOTED --wait elapsed, no reboots left--> REBUILT (RebuildPolicy Auto) or NEEDS_PERSON (Never,
        or a WorkSpace that is not a person's, such as an agentic one: never rebuilt automatically)
    REBUILT --wait elapsed, still UNHEALTHY--> NEEDS_PERSON
    any phase --AVAILABLE--> recovered: REMEMBERED for a day, then forgotten

What a record remembers beyond one episode, so that a WorkSpace cannot keep automation busy:
- recoveries: a WorkSpace brought back `max_recoveries_per_day` times within 24 hours that is
  UNHEALTHY once more is flapping; it goes to a person instead of being rebooted again;
- refusals: an action the API refused `REFUSALS_BEFORE_PERSON` times in a row goes to a person,
  then is tried again quietly once an hour;
- escalations: a person is alerted about one WorkSpace at most once in 24 hours;
- pauses: a WorkSpace seen in maintenance or a transitional state starts its grace period (or
  its wait after an action) again when that state ends, still UNHEALTHY.

`step()` decides without tags or snapshots; `guard_opt_out()` and `guard_rebuild()` apply the
guards that need them, so those are read only for WorkSpaces about to be acted on.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from ws_autopilot.core.models import Target, Workspace
from ws_autopilot.core.opt_out import find_opt_out_tag

SKIP_REMEDIATION_TAG = "Skip_Remediation"
# States in which nothing is to be done but wait: the WorkSpace is busy or being looked after.
WAIT_STATES = frozenset(
    {
        "PENDING",
        "REBOOTING",
        "STARTING",
        "REBUILDING",
        "RESTORING",
        "MAINTENANCE",
        "ADMIN_MAINTENANCE",
        "UPDATING",
        "STOPPING",
        "TERMINATING",
    }
)
MODIFYING = "a modification"  # what a record says it paused in while ModificationStates is set
MEMORY = timedelta(hours=24)  # how long recoveries and escalations are remembered
REFUSALS_BEFORE_PERSON = 3  # refusals in a row, with the same error, before a person is alerted
REFUSED_RETRY = timedelta(hours=1)  # then the action is tried again this often, quietly


class RebuildPolicy(StrEnum):
    NEVER = "Never"
    AUTO = "Auto"


class Phase(StrEnum):
    OBSERVING = "observing"  # UNHEALTHY, within the grace period
    REBOOTED = "rebooted"  # rebooted at least once, waiting to see the effect
    REBUILT = "rebuilt"  # rebuilt, waiting to see the effect
    NEEDS_PERSON = "needs_person"  # automation is done; a person was alerted
    REMEMBERED = "remembered"  # not under remediation; recent recoveries and alerts kept for a day


class RemediationAction(StrEnum):
    OBSERVE = "observe"  # start (or keep) watching; nothing done to the WorkSpace
    WAIT = "wait"  # a guard or a timer holds the next step
    REBOOT = "reboot"
    REBUILD = "rebuild"
    NEEDS_PERSON = "needs_person"  # alert once that automation stops here
    RECOVERED = "recovered"  # back to AVAILABLE after remediation
    CLOSE = "close"  # left UNHEALTHY some other way (stopped, terminated...): forget it
    SKIP = "skip"  # opted out, standby, or the directory's circuit breaker is open

    @property
    def acts(self) -> bool:
        return self in (RemediationAction.REBOOT, RemediationAction.REBUILD)


@dataclass(frozen=True, slots=True)
class RemediationSettings:
    grace: timedelta
    reboot_wait: timedelta
    max_reboots: int
    rebuild_policy: RebuildPolicy
    max_snapshot_age: timedelta
    max_reboots_per_run: int
    max_rebuilds_per_day: int
    breaker_percent: int
    breaker_minimum: int
    dry_run: bool
    max_recoveries_per_day: int = 1


@dataclass(frozen=True, slots=True)
class Record:
    """What remediation remembers about one WorkSpace between scans."""

    target: Target
    workspace_id: str
    directory_id: str
    phase: Phase
    unhealthy_since: datetime
    reboots: int = 0
    rebuilt: bool = False
    last_action_at: datetime | None = None
    last_notice: str = ""
    version: int = 0
    paused_in: str = ""  # the maintenance or transitional state it was last seen in, if any
    settled_at: datetime | None = None  # when such a state last ended: its timers start again there
    refusals: int = 0  # the current action's refusals in a row, all with `refusal_code`
    refusal_code: str = ""
    refused_at: datetime | None = None
    recoveries: tuple[datetime, ...] = ()  # when remediation brought it back, within MEMORY
    escalated_at: datetime | None = None  # when a person was last alerted about it

    @property
    def active(self) -> bool:
        """Under remediation (as opposed to only remembered)."""
        return self.phase is not Phase.REMEMBERED


@dataclass(frozen=True, slots=True)
class RemediationStep:
    action: RemediationAction
    reason: str
    guard: bool = False  # held back by a guard (announced once), not by a timer


BREAKER_REASON = "circuit breaker: too much of the directory is UNHEALTHY at once"
REBOOT_LIMIT_REASON = "reboot limit of this scan reached"


def breaker_open(unhealthy: int, total: int, settings: RemediationSettings) -> bool:
    """True when so much of a directory is UNHEALTHY at once that the cause is probably shared
    (directory, DNS, network): more than `breaker_percent` of it, and at least `breaker_minimum`."""
    if total == 0 or unhealthy < settings.breaker_minimum:
        return False
    return unhealthy * 100 > settings.breaker_percent * total


def paused(workspace: Workspace) -> str:
    """The maintenance or transitional state that holds the WorkSpace, or ""."""
    if workspace.state in WAIT_STATES:
        return workspace.state
    if workspace.state == "UNHEALTHY" and workspace.modification_states:
        return MODIFYING
    return ""


def step(
    workspace: Workspace,
    record: Record | None,
    settings: RemediationSettings,
    now: datetime,
    directory_breaker_open: bool,
    user_connected: bool,
) -> RemediationStep:
    """The next step for one WorkSpace, from its state, its record and the clock."""
    active = record if record is not None and record.active else None
    if workspace.state == "AVAILABLE":
        if active is not None and (active.reboots or active.rebuilt):
            return RemediationStep(RemediationAction.RECOVERED, "AVAILABLE again after remediation")
        return RemediationStep(RemediationAction.CLOSE, "AVAILABLE again")
    if workspace.state in WAIT_STATES:
        return RemediationStep(RemediationAction.WAIT, f"state {workspace.state}")
    if workspace.state != "UNHEALTHY":
        return RemediationStep(
            RemediationAction.CLOSE, f"no longer UNHEALTHY but {workspace.state}; not remediated"
        )
    if workspace.is_standby:
        return RemediationStep(
            RemediationAction.SKIP, "standby WorkSpace (multi-region resilience)", guard=True
        )
    if workspace.modification_states:
        return RemediationStep(
            RemediationAction.WAIT, f"modification in progress ({', '.join(workspace.modification_states)})"
        )
    if directory_breaker_open:
        return RemediationStep(RemediationAction.SKIP, BREAKER_REASON, guard=True)
    if active is None:
        return RemediationStep(RemediationAction.OBSERVE, "UNHEALTHY; grace period starts")
    if active.phase is Phase.NEEDS_PERSON:
        return RemediationStep(RemediationAction.WAIT, "waiting for a person")
    if user_connected:
        return RemediationStep(RemediationAction.WAIT, "a user is connected", guard=True)
    proposed = _timed_step(active, settings, now)
    if proposed.action is RemediationAction.REBUILD and not workspace.is_personal:
        # A rebuild recreates the volumes from the bundle and the last snapshot; what it does to
        # an agentic WorkSpace's agents is not documented, and RebuildPolicy's consent was given
        # for people's WorkSpaces (decisions.md, D-169): a person decides.
        return RemediationStep(
            RemediationAction.NEEDS_PERSON,
            f"{proposed.reason}; {workspace.category} WorkSpace: not rebuilt automatically",
        )
    if proposed.action.acts:
        return _held_by_history(proposed, active, settings, now)
    return proposed


def _timed_step(record: Record, settings: RemediationSettings, now: datetime) -> RemediationStep:
    """The step the phase's timer allows: the grace period, then the wait after each action,
    both counted again from the end of a maintenance or transitional state."""
    settled = now if record.paused_in else record.settled_at
    resumed = f"{record.paused_in} ended; " if record.paused_in else ""
    if record.phase is Phase.OBSERVING:
        start = max(record.unhealthy_since, settled or record.unhealthy_since)
        if now - start < settings.grace:
            return RemediationStep(RemediationAction.OBSERVE, f"UNHEALTHY; {resumed}within the grace period")
        return RemediationStep(
            RemediationAction.REBOOT, f"UNHEALTHY for {_minutes(now - record.unhealthy_since)} min"
        )

    assert record.last_action_at is not None, "a rebooted or rebuilt record has an action time"
    start = max(record.last_action_at, settled or record.last_action_at)
    if now - start < settings.reboot_wait:
        return RemediationStep(
            RemediationAction.WAIT,
            f"{resumed}waiting {_minutes(settings.reboot_wait)} min after the last {record.phase.value}",
        )
    if record.phase is Phase.REBUILT:
        return RemediationStep(RemediationAction.NEEDS_PERSON, "still UNHEALTHY after a rebuild")
    if record.reboots < settings.max_reboots:
        return RemediationStep(RemediationAction.REBOOT, f"still UNHEALTHY after {record.reboots} reboot(s)")
    if settings.rebuild_policy is RebuildPolicy.AUTO:
        return RemediationStep(RemediationAction.REBUILD, f"still UNHEALTHY after {record.reboots} reboot(s)")
    return RemediationStep(
        RemediationAction.NEEDS_PERSON,
        f"still UNHEALTHY after {record.reboots} reboot(s); rebuilds are not allowed",
    )


def _held_by_history(
    proposed: RemediationStep, record: Record, settings: RemediationSettings, now: datetime
) -> RemediationStep:
    """A flapping WorkSpace goes to a person; an action refused again and again waits an hour."""
    recoveries = recent(record.recoveries, now)
    if len(recoveries) >= settings.max_recoveries_per_day:
        return RemediationStep(
            RemediationAction.NEEDS_PERSON,
            f"flapping: brought back {len(recoveries)} time(s) in the last 24 h and UNHEALTHY again; "
            "not rebooted again",
        )
    if (
        record.refusals >= REFUSALS_BEFORE_PERSON
        and record.refused_at is not None
        and now - record.refused_at < REFUSED_RETRY
    ):
        return RemediationStep(
            RemediationAction.WAIT,
            f"{proposed.action.value} refused {record.refusals} times in a row ({record.refusal_code}); "
            f"tried again every {_minutes(REFUSED_RETRY)} min",
        )
    return proposed


def guard_opt_out(proposed: RemediationStep, tags: Mapping[str, str] | None) -> RemediationStep:
    """A Skip_Remediation tag (same matching as Skip_Convert) stops any action; tags that could
    not be read (None) stop it too."""
    if not proposed.action.acts:
        return proposed
    if tags is None:
        return RemediationStep(RemediationAction.WAIT, "tags unreadable; not acting", guard=True)
    if find_opt_out_tag(tags, SKIP_REMEDIATION_TAG) is not None:
        return RemediationStep(RemediationAction.SKIP, "Skip_Remediation tag", guard=True)
    return proposed


def guard_rebuild(
    proposed: RemediationStep, snapshot_time: datetime | None, now: datetime, settings: RemediationSettings
) -> RemediationStep:
    """A rebuild restores the user volume from the last rebuild snapshot: it needs one no older
    than `max_snapshot_age`, otherwise a person decides."""
    if proposed.action is not RemediationAction.REBUILD:
        return proposed
    if snapshot_time is None:
        return RemediationStep(
            RemediationAction.NEEDS_PERSON, "no rebuild snapshot; a rebuild would lose the user volume"
        )
    age = now - snapshot_time
    if age > settings.max_snapshot_age:
        return RemediationStep(
            RemediationAction.NEEDS_PERSON,
            f"last rebuild snapshot is {_minutes(age) // 60} h old; too old to rebuild",
        )
    return proposed


def hold_reboots(candidates: Iterable[tuple[Record | None, RemediationStep]], cap: int) -> set[int]:
    """Which of a scan's proposed reboots (by position in `candidates`) the per-scan cap holds
    back: the WorkSpaces UNHEALTHY longest are rebooted first, the rest wait for the next scan."""
    reboots = [
        (record.unhealthy_since, n)
        for n, (record, proposed) in enumerate(candidates)
        if proposed.action is RemediationAction.REBOOT and record is not None
    ]
    return {n for _, n in sorted(reboots)[cap:]}


def after(
    record: Record | None, workspace: Workspace, decided: RemediationStep, now: datetime, target: Target
) -> Record | None:
    """The record once `decided` has been carried out (None: forget the WorkSpace)."""
    if decided.action in (RemediationAction.RECOVERED, RemediationAction.CLOSE):
        return remembered(record, now, recovered=decided.action is RemediationAction.RECOVERED)
    active = record if record is not None and record.active else None
    if active is None and workspace.state != "UNHEALTHY":
        return record  # nothing under remediation, nothing new to remember
    base = active or Record(
        target,
        workspace.workspace_id,
        workspace.directory_id,
        Phase.OBSERVING,
        unhealthy_since=now,
        version=record.version if record else 0,
        recoveries=recent(record.recoveries, now) if record else (),
        escalated_at=record.escalated_at if record else None,
    )
    holding = paused(workspace)
    if holding:
        base = replace(base, paused_in=holding)
    elif base.paused_in:
        base = replace(base, paused_in="", settled_at=now)
    if decided.action is RemediationAction.REBOOT:
        done = replace(base, phase=Phase.REBOOTED, reboots=base.reboots + 1, last_action_at=now)
        return replace(done, refusals=0, refusal_code="", refused_at=None)
    if decided.action is RemediationAction.REBUILD:
        done = replace(base, phase=Phase.REBUILT, rebuilt=True, last_action_at=now)
        return replace(done, refusals=0, refusal_code="", refused_at=None)
    if decided.action is RemediationAction.NEEDS_PERSON:
        escalated = now if escalation_due(base, now) else base.escalated_at
        return replace(base, phase=Phase.NEEDS_PERSON, escalated_at=escalated)
    return base


def refused(record: Record, error_code: str, now: datetime) -> Record:
    """The record put back after the API refused its action: not assumed done, refusal counted."""
    in_a_row = record.refusals + 1 if error_code == record.refusal_code else 1
    return replace(record, refusals=in_a_row, refusal_code=error_code, refused_at=now)


def remembered(record: Record | None, now: datetime, recovered: bool = False) -> Record | None:
    """What is kept once a WorkSpace leaves remediation: its recoveries and the last alert to a
    person, for a day (None when there is nothing recent to keep)."""
    if record is None:
        return None
    recoveries = recent(record.recoveries, now) + ((now,) if recovered else ())
    escalated = record.escalated_at if not escalation_due(record, now) else None
    if not recoveries and escalated is None:
        return None
    kept = Record(
        record.target,
        record.workspace_id,
        record.directory_id,
        Phase.REMEMBERED,
        unhealthy_since=record.unhealthy_since,
        version=record.version,
        recoveries=recoveries,
        escalated_at=escalated,
    )
    return record if kept == record else kept


def recent(times: Iterable[datetime], now: datetime) -> tuple[datetime, ...]:
    return tuple(t for t in times if now - t < MEMORY)


def escalation_due(record: Record | None, now: datetime) -> bool:
    """A person hears about one WorkSpace at most once in 24 hours."""
    return record is None or record.escalated_at is None or now - record.escalated_at >= MEMORY


def needs_notice(record: Record | None, decided: RemediationStep, now: datetime) -> bool:
    """Announce every action and every guard that holds a WorkSpace back, once per reason, not at
    every scan; a person at most once a day per WorkSpace. The circuit breaker is announced per
    directory instead (and the WorkSpaces the reboot limit holds back, in one message per scan)."""
    if decided.action is RemediationAction.NEEDS_PERSON:
        return escalation_due(record, now)
    if decided.action in (RemediationAction.REBOOT, RemediationAction.REBUILD, RemediationAction.RECOVERED):
        return True
    if decided.guard and decided.reason != BREAKER_REASON:
        return record is None or record.last_notice != decided.reason
    return False


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)
