"""The unhealthy-WorkSpace remediation policy, as pure functions.

AWS's guidance for an UNHEALTHY WorkSpace: reboot first, rebuild only when that did not help.
Per WorkSpace the policy keeps a record (phase, when it went unhealthy, what was done and when)
and every scan takes one step from it:

    healthy --UNHEALTHY--> OBSERVING --grace elapsed--> REBOOTED --wait elapsed, reboots left--> REBOOTED
    REBOOTED --wait elapsed, no reboots left--> REBUILT (RebuildPolicy Auto) or NEEDS_PERSON (Never)
    REBUILT --wait elapsed, still UNHEALTHY--> NEEDS_PERSON
    any phase --AVAILABLE--> recovered (record removed)

`step()` decides without tags or snapshots; `guard_opt_out()` and `guard_rebuild()` apply the
guards that need them, so those are read only for WorkSpaces about to be acted on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from ws_autopilot.models import Workspace
from ws_autopilot.rules import find_opt_out_tag

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


class RebuildPolicy(StrEnum):
    NEVER = "Never"
    AUTO = "Auto"


class Phase(StrEnum):
    OBSERVING = "observing"  # UNHEALTHY, within the grace period
    REBOOTED = "rebooted"  # rebooted at least once, waiting to see the effect
    REBUILT = "rebuilt"  # rebuilt, waiting to see the effect
    NEEDS_PERSON = "needs_person"  # automation is done; a person was alerted


class Action(StrEnum):
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
        return self in (Action.REBOOT, Action.REBUILD)


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


@dataclass(frozen=True, slots=True)
class Record:
    """What remediation remembers about one WorkSpace between scans."""

    workspace_id: str
    directory_id: str
    phase: Phase
    unhealthy_since: datetime
    reboots: int = 0
    rebuilt: bool = False
    last_action_at: datetime | None = None
    last_notice: str = ""
    version: int = 0


@dataclass(frozen=True, slots=True)
class Step:
    action: Action
    reason: str
    guard: bool = False  # held back by a guard (announced once), not by a timer


BREAKER_REASON = "circuit breaker: too much of the directory is UNHEALTHY at once"


def breaker_open(unhealthy: int, total: int, settings: RemediationSettings) -> bool:
    """True when so much of a directory is UNHEALTHY at once that the cause is probably shared
    (directory, DNS, network): more than `breaker_percent` of it, and at least `breaker_minimum`."""
    if total == 0 or unhealthy < settings.breaker_minimum:
        return False
    return unhealthy * 100 > settings.breaker_percent * total


def step(
    workspace: Workspace,
    record: Record | None,
    settings: RemediationSettings,
    now: datetime,
    directory_breaker_open: bool,
    user_connected: bool,
) -> Step:
    """The next step for one WorkSpace, from its state, its record and the clock."""
    if workspace.state == "AVAILABLE":
        if record is not None and (record.reboots or record.rebuilt):
            return Step(Action.RECOVERED, "AVAILABLE again after remediation")
        return Step(Action.CLOSE, "AVAILABLE again")
    if workspace.state in WAIT_STATES:
        return Step(Action.WAIT, f"state {workspace.state}")
    if workspace.state != "UNHEALTHY":
        return Step(Action.CLOSE, f"no longer UNHEALTHY but {workspace.state}; not remediated")
    if workspace.is_standby:
        return Step(Action.SKIP, "standby WorkSpace (multi-region resilience)", guard=True)
    if workspace.modification_states:
        return Step(Action.WAIT, f"modification in progress ({', '.join(workspace.modification_states)})")
    if directory_breaker_open:
        return Step(Action.SKIP, BREAKER_REASON, guard=True)
    if record is None:
        return Step(Action.OBSERVE, "UNHEALTHY; grace period starts")
    if record.phase is Phase.NEEDS_PERSON:
        return Step(Action.WAIT, "waiting for a person")
    if user_connected:
        return Step(Action.WAIT, "a user is connected", guard=True)

    if record.phase is Phase.OBSERVING:
        if now - record.unhealthy_since < settings.grace:
            return Step(Action.OBSERVE, "UNHEALTHY; within the grace period")
        return Step(Action.REBOOT, f"UNHEALTHY for {_minutes(now - record.unhealthy_since)} min")

    assert record.last_action_at is not None, "a rebooted or rebuilt record has an action time"
    if now - record.last_action_at < settings.reboot_wait:
        return Step(
            Action.WAIT, f"waiting {_minutes(settings.reboot_wait)} min after the last {record.phase.value}"
        )
    if record.phase is Phase.REBUILT:
        return Step(Action.NEEDS_PERSON, "still UNHEALTHY after a rebuild")
    if record.reboots < settings.max_reboots:
        return Step(Action.REBOOT, f"still UNHEALTHY after {record.reboots} reboot(s)")
    if settings.rebuild_policy is RebuildPolicy.AUTO:
        return Step(Action.REBUILD, f"still UNHEALTHY after {record.reboots} reboot(s)")
    return Step(
        Action.NEEDS_PERSON, f"still UNHEALTHY after {record.reboots} reboot(s); rebuilds are not allowed"
    )


def guard_opt_out(proposed: Step, tags: Mapping[str, str] | None) -> Step:
    """A Skip_Remediation tag (same matching as Skip_Convert) stops any action; tags that could
    not be read (None) stop it too."""
    if not proposed.action.acts:
        return proposed
    if tags is None:
        return Step(Action.WAIT, "tags unreadable; not acting", guard=True)
    if find_opt_out_tag(tags, SKIP_REMEDIATION_TAG) is not None:
        return Step(Action.SKIP, "Skip_Remediation tag", guard=True)
    return proposed


def guard_rebuild(
    proposed: Step, snapshot_time: datetime | None, now: datetime, settings: RemediationSettings
) -> Step:
    """A rebuild restores the user volume from the last rebuild snapshot: it needs one no older
    than `max_snapshot_age`, otherwise a person decides."""
    if proposed.action is not Action.REBUILD:
        return proposed
    if snapshot_time is None:
        return Step(Action.NEEDS_PERSON, "no rebuild snapshot; a rebuild would lose the user volume")
    age = now - snapshot_time
    if age > settings.max_snapshot_age:
        return Step(
            Action.NEEDS_PERSON, f"last rebuild snapshot is {_minutes(age) // 60} h old; too old to rebuild"
        )
    return proposed


def after(record: Record | None, workspace: Workspace, decided: Step, now: datetime) -> Record | None:
    """The record once `decided` has been carried out (None: forget the WorkSpace)."""
    if decided.action in (Action.RECOVERED, Action.CLOSE):
        return None
    if record is None and workspace.state != "UNHEALTHY":
        return None
    base = record or Record(
        workspace.workspace_id, workspace.directory_id, Phase.OBSERVING, unhealthy_since=now
    )
    if decided.action is Action.REBOOT:
        return replace(base, phase=Phase.REBOOTED, reboots=base.reboots + 1, last_action_at=now)
    if decided.action is Action.REBUILD:
        return replace(base, phase=Phase.REBUILT, rebuilt=True, last_action_at=now)
    if decided.action is Action.NEEDS_PERSON:
        return replace(base, phase=Phase.NEEDS_PERSON)
    return base


def needs_notice(record: Record | None, decided: Step) -> bool:
    """Announce every action and every guard that holds a WorkSpace back, once per reason, not at
    every scan. The circuit breaker is announced per directory instead."""
    if decided.action in (Action.REBOOT, Action.REBUILD, Action.RECOVERED, Action.NEEDS_PERSON):
        return True
    if decided.guard and decided.reason != BREAKER_REASON:
        return record is None or record.last_notice != decided.reason
    return False


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)
