from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from ws_autopilot.models import Workspace
from ws_autopilot.remediation import (
    BREAKER_REASON,
    Action,
    Phase,
    RebuildPolicy,
    Record,
    RemediationSettings,
    Step,
    after,
    breaker_open,
    guard_opt_out,
    guard_rebuild,
    needs_notice,
    step,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
SETTINGS = RemediationSettings(
    grace=30 * MIN,
    reboot_wait=30 * MIN,
    max_reboots=2,
    rebuild_policy=RebuildPolicy.AUTO,
    max_snapshot_age=timedelta(hours=12),
    max_reboots_per_run=25,
    max_rebuilds_per_day=5,
    breaker_percent=20,
    breaker_minimum=3,
    dry_run=False,
)


def ws(state="UNHEALTHY", **changes) -> Workspace:
    return replace(
        Workspace("ws-0123456789", "d-0123456789", "alice", state, "AUTO_STOP", "VALUE", 60), **changes
    )


def rec(
    phase=Phase.OBSERVING, since=NOW - 31 * MIN, reboots=0, rebuilt=False, last=None, notice=""
) -> Record:
    return Record("ws-0123456789", "d-0123456789", phase, since, reboots, rebuilt, last, notice)


def go(workspace=None, record=None, now=NOW, breaker=False, connected=False, settings=SETTINGS) -> Step:
    return step(workspace or ws(), record, settings, now, breaker, connected)


def test_a_newly_unhealthy_workspace_is_observed_first():
    assert go(record=None).action is Action.OBSERVE


def test_grace_period_boundary():
    assert go(record=rec(since=NOW - 29 * MIN)).action is Action.OBSERVE
    assert go(record=rec(since=NOW - 30 * MIN)).action is Action.REBOOT


def test_wait_after_a_reboot_boundary():
    rebooted = rec(Phase.REBOOTED, reboots=1, last=NOW - 29 * MIN)
    assert go(record=rebooted).action is Action.WAIT
    assert go(record=replace(rebooted, last_action_at=NOW - 30 * MIN)).action is Action.REBOOT


def test_after_the_allowed_reboots_auto_rebuilds_and_never_alerts():
    exhausted = rec(Phase.REBOOTED, reboots=2, last=NOW - 31 * MIN)
    assert go(record=exhausted).action is Action.REBUILD
    never = replace(SETTINGS, rebuild_policy=RebuildPolicy.NEVER)
    decided = go(record=exhausted, settings=never)
    assert decided.action is Action.NEEDS_PERSON
    assert "rebuilds are not allowed" in decided.reason


def test_still_unhealthy_after_a_rebuild_needs_a_person_once():
    rebuilt = rec(Phase.REBUILT, reboots=2, rebuilt=True, last=NOW - 31 * MIN)
    assert go(record=rebuilt).action is Action.NEEDS_PERSON
    assert go(record=replace(rebuilt, phase=Phase.NEEDS_PERSON)).action is Action.WAIT


def test_recovery_after_an_action_is_announced_and_silent_otherwise():
    assert go(ws("AVAILABLE"), rec(Phase.REBOOTED, reboots=1, last=NOW - MIN)).action is Action.RECOVERED
    assert go(ws("AVAILABLE"), rec()).action is Action.CLOSE


@pytest.mark.parametrize(
    "state",
    [
        "ADMIN_MAINTENANCE",
        "MAINTENANCE",
        "REBOOTING",
        "REBUILDING",
        "STARTING",
        "STOPPING",
        "RESTORING",
        "UPDATING",
        "PENDING",
        "TERMINATING",
    ],
)
def test_never_acts_in_maintenance_or_transitional_states(state):
    assert go(ws(state), rec(since=NOW - 10 * 60 * MIN)).action is Action.WAIT


@pytest.mark.parametrize("state", ["STOPPED", "ERROR", "SUSPENDED", "TERMINATED", "IMPAIRED"])
def test_a_workspace_that_left_unhealthy_otherwise_is_forgotten(state):
    assert go(ws(state), rec()).action is Action.CLOSE


def test_guards_that_come_before_any_action():
    standby = ws(is_standby=True)
    assert go(standby, rec()).action is Action.SKIP
    assert go(ws(modification_states=("COMPUTE_TYPE",)), rec()).action is Action.WAIT
    assert go(record=rec(), breaker=True) == Step(Action.SKIP, BREAKER_REASON, guard=True)
    assert go(record=rec(), connected=True) == Step(Action.WAIT, "a user is connected", guard=True)


@pytest.mark.parametrize("key", ["Skip_Remediation", "skip_remediation", " SKIP_REMEDIATION "])
def test_skip_remediation_tag_opts_out_of_any_action(key):
    assert guard_opt_out(Step(Action.REBOOT, "r"), {key: ""}).action is Action.SKIP
    assert guard_opt_out(Step(Action.REBUILD, "r"), {key: "false"}).action is Action.SKIP
    assert guard_opt_out(Step(Action.REBOOT, "r"), {"Skip_Convert": ""}).action is Action.REBOOT
    assert guard_opt_out(Step(Action.REBOOT, "r"), None).action is Action.WAIT


def test_rebuild_needs_a_snapshot_no_older_than_the_limit():
    rebuild = Step(Action.REBUILD, "r")
    assert guard_rebuild(rebuild, NOW - timedelta(hours=12), NOW, SETTINGS).action is Action.REBUILD
    too_old = guard_rebuild(rebuild, NOW - timedelta(hours=12, minutes=1), NOW, SETTINGS)
    assert too_old.action is Action.NEEDS_PERSON and "too old" in too_old.reason
    assert guard_rebuild(rebuild, None, NOW, SETTINGS).action is Action.NEEDS_PERSON
    assert guard_rebuild(Step(Action.REBOOT, "r"), None, NOW, SETTINGS).action is Action.REBOOT


@pytest.mark.parametrize(
    ("unhealthy", "total", "expected"),
    [
        (2, 5, False),
        (3, 15, False),
        (4, 15, True),
        (3, 10, True),
        (2, 2, False),
        (0, 0, False),
        (21, 100, True),
        (20, 100, False),
    ],
)
def test_circuit_breaker_threshold(unhealthy, total, expected):
    assert breaker_open(unhealthy, total, SETTINGS) is expected


def test_the_whole_lifecycle_reboot_reboot_rebuild_person():
    record, now, actions = None, NOW, []
    for _ in range(16):
        decided = go(record=record, now=now)
        if decided.action is Action.REBUILD:
            decided = guard_rebuild(decided, now - timedelta(hours=1), now, SETTINGS)
        actions.append(decided.action)
        record = after(record, ws(), decided, now)
        now += 10 * MIN
    assert [a for a in actions if a not in (Action.OBSERVE, Action.WAIT)] == [
        Action.REBOOT,
        Action.REBOOT,
        Action.REBUILD,
        Action.NEEDS_PERSON,
    ]
    assert record.phase is Phase.NEEDS_PERSON and record.reboots == 2 and record.rebuilt


def test_records_follow_the_steps():
    first = after(None, ws(), Step(Action.OBSERVE, "x"), NOW)
    assert (first.phase, first.unhealthy_since, first.reboots) == (Phase.OBSERVING, NOW, 0)
    rebooted = after(first, ws(), Step(Action.REBOOT, "x"), NOW + MIN)
    assert (rebooted.phase, rebooted.reboots, rebooted.last_action_at) == (Phase.REBOOTED, 1, NOW + MIN)
    assert after(rebooted, ws("AVAILABLE"), Step(Action.RECOVERED, "x"), NOW) is None
    assert after(None, ws("REBOOTING"), Step(Action.WAIT, "x"), NOW) is None


def test_notices_go_out_for_actions_and_once_per_guard_reason():
    assert needs_notice(rec(), Step(Action.REBOOT, "r"))
    assert needs_notice(rec(), Step(Action.SKIP, "Skip_Remediation tag", guard=True))
    assert not needs_notice(
        rec(notice="Skip_Remediation tag"), Step(Action.SKIP, "Skip_Remediation tag", guard=True)
    )
    assert not needs_notice(rec(), Step(Action.SKIP, BREAKER_REASON, guard=True))
    assert not needs_notice(rec(), Step(Action.WAIT, "within the grace period"))
