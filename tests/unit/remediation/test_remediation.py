from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from ws_autopilot.core.models import Target, Workspace
from ws_autopilot.remediation.alerts import Alert
from ws_autopilot.remediation.policy import (
    BREAKER_REASON,
    REBOOT_LIMIT_REASON,
    REFUSALS_BEFORE_PERSON,
    Phase,
    RebuildPolicy,
    Record,
    RemediationAction,
    RemediationSettings,
    RemediationStep,
    after,
    breaker_open,
    guard_opt_out,
    guard_rebuild,
    hold_reboots,
    needs_notice,
    refused,
    remembered,
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
    max_recoveries_per_day=1,
)
HOME = Target("123456789012", "us-east-1")


def ws(state="UNHEALTHY", **changes) -> Workspace:
    return replace(
        Workspace("ws-0123456789", "d-0123456789", "alice", state, "AUTO_STOP", "VALUE", 60), **changes
    )


def rec(
    phase=Phase.OBSERVING, since=NOW - 31 * MIN, reboots=0, rebuilt=False, last=None, notice=""
) -> Record:
    return Record(HOME, "ws-0123456789", "d-0123456789", phase, since, reboots, rebuilt, last, notice)


def go(
    workspace=None, record=None, now=NOW, breaker=False, connected=False, settings=SETTINGS
) -> RemediationStep:
    return step(workspace or ws(), record, settings, now, breaker, connected)


def test_a_newly_unhealthy_workspace_is_observed_first():
    assert go(record=None).action is RemediationAction.OBSERVE


def test_grace_period_boundary():
    assert go(record=rec(since=NOW - 29 * MIN)).action is RemediationAction.OBSERVE
    assert go(record=rec(since=NOW - 30 * MIN)).action is RemediationAction.REBOOT


def test_wait_after_a_reboot_boundary():
    rebooted = rec(Phase.REBOOTED, reboots=1, last=NOW - 29 * MIN)
    assert go(record=rebooted).action is RemediationAction.WAIT
    assert go(record=replace(rebooted, last_action_at=NOW - 30 * MIN)).action is RemediationAction.REBOOT


def test_after_the_allowed_reboots_auto_rebuilds_and_never_alerts():
    exhausted = rec(Phase.REBOOTED, reboots=2, last=NOW - 31 * MIN)
    assert go(record=exhausted).action is RemediationAction.REBUILD
    never = replace(SETTINGS, rebuild_policy=RebuildPolicy.NEVER)
    decided = go(record=exhausted, settings=never)
    assert decided.action is RemediationAction.NEEDS_PERSON
    assert "rebuilds are not allowed" in decided.reason


@pytest.mark.parametrize("category", ["AGENTIC", "ROBOTIC"])
def test_an_agentic_workspace_is_rebooted_as_any_other_but_a_person_decides_on_a_rebuild(category):
    agent = ws(category=category)
    assert go(agent, rec()).action is RemediationAction.REBOOT  # after the grace period
    rebooted = rec(Phase.REBOOTED, reboots=1, last=NOW - 31 * MIN)
    assert go(agent, rebooted).action is RemediationAction.REBOOT  # reboots left
    exhausted = replace(rebooted, reboots=2)
    assert go(agent, exhausted) == RemediationStep(
        RemediationAction.NEEDS_PERSON,
        f"still UNHEALTHY after 2 reboot(s); {category} WorkSpace: not rebuilt automatically",
    )
    assert go(ws(category="PERSONAL"), exhausted).action is RemediationAction.REBUILD
    assert go(agent, rec(), connected=True).action is RemediationAction.WAIT  # the same guards


def test_still_unhealthy_after_a_rebuild_needs_a_person_once():
    rebuilt = rec(Phase.REBUILT, reboots=2, rebuilt=True, last=NOW - 31 * MIN)
    assert go(record=rebuilt).action is RemediationAction.NEEDS_PERSON
    assert go(record=replace(rebuilt, phase=Phase.NEEDS_PERSON)).action is RemediationAction.WAIT


def test_recovery_after_an_action_is_announced_and_silent_otherwise():
    assert (
        go(ws("AVAILABLE"), rec(Phase.REBOOTED, reboots=1, last=NOW - MIN)).action
        is RemediationAction.RECOVERED
    )
    assert go(ws("AVAILABLE"), rec()).action is RemediationAction.CLOSE


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
    assert go(ws(state), rec(since=NOW - 10 * 60 * MIN)).action is RemediationAction.WAIT


@pytest.mark.parametrize("state", ["STOPPED", "ERROR", "SUSPENDED", "TERMINATED", "IMPAIRED"])
def test_a_workspace_that_left_unhealthy_otherwise_is_forgotten(state):
    assert go(ws(state), rec()).action is RemediationAction.CLOSE


def test_guards_that_come_before_any_action():
    standby = ws(role="STANDBY")
    assert go(standby, rec()).action is RemediationAction.SKIP
    assert go(ws(modification_states=("COMPUTE_TYPE",)), rec()).action is RemediationAction.WAIT
    assert go(record=rec(), breaker=True) == RemediationStep(
        RemediationAction.SKIP, BREAKER_REASON, guard=True
    )
    assert go(record=rec(), connected=True) == RemediationStep(
        RemediationAction.WAIT, "a user is connected", guard=True
    )


@pytest.mark.parametrize("key", ["Skip_Remediation", "skip_remediation", " SKIP_REMEDIATION "])
def test_skip_remediation_tag_opts_out_of_any_action(key):
    assert (
        guard_opt_out(RemediationStep(RemediationAction.REBOOT, "r"), {key: ""}).action
        is RemediationAction.SKIP
    )
    assert (
        guard_opt_out(RemediationStep(RemediationAction.REBUILD, "r"), {key: "false"}).action
        is RemediationAction.SKIP
    )
    assert (
        guard_opt_out(RemediationStep(RemediationAction.REBOOT, "r"), {"Skip_Convert": ""}).action
        is RemediationAction.REBOOT
    )
    assert (
        guard_opt_out(RemediationStep(RemediationAction.REBOOT, "r"), None).action is RemediationAction.WAIT
    )


def test_rebuild_needs_a_snapshot_no_older_than_the_limit():
    rebuild = RemediationStep(RemediationAction.REBUILD, "r")
    assert (
        guard_rebuild(rebuild, NOW - timedelta(hours=12), NOW, SETTINGS).action is RemediationAction.REBUILD
    )
    too_old = guard_rebuild(rebuild, NOW - timedelta(hours=12, minutes=1), NOW, SETTINGS)
    assert too_old.action is RemediationAction.NEEDS_PERSON and "too old" in too_old.reason
    assert guard_rebuild(rebuild, None, NOW, SETTINGS).action is RemediationAction.NEEDS_PERSON
    assert (
        guard_rebuild(RemediationStep(RemediationAction.REBOOT, "r"), None, NOW, SETTINGS).action
        is RemediationAction.REBOOT
    )


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
        if decided.action is RemediationAction.REBUILD:
            decided = guard_rebuild(decided, now - timedelta(hours=1), now, SETTINGS)
        actions.append(decided.action)
        record = after(record, ws(), decided, now, HOME)
        now += 10 * MIN
    assert [a for a in actions if a not in (RemediationAction.OBSERVE, RemediationAction.WAIT)] == [
        RemediationAction.REBOOT,
        RemediationAction.REBOOT,
        RemediationAction.REBUILD,
        RemediationAction.NEEDS_PERSON,
    ]
    assert record.phase is Phase.NEEDS_PERSON and record.reboots == 2 and record.rebuilt


def test_records_follow_the_steps():
    first = after(None, ws(), RemediationStep(RemediationAction.OBSERVE, "x"), NOW, HOME)
    assert (first.phase, first.unhealthy_since, first.reboots) == (Phase.OBSERVING, NOW, 0)
    assert first.target == HOME
    rebooted = after(first, ws(), RemediationStep(RemediationAction.REBOOT, "x"), NOW + MIN, HOME)
    assert (rebooted.phase, rebooted.reboots, rebooted.last_action_at) == (Phase.REBOOTED, 1, NOW + MIN)
    back = after(
        rebooted, ws("AVAILABLE"), RemediationStep(RemediationAction.RECOVERED, "x"), NOW + 2 * MIN, HOME
    )
    assert (back.phase, back.recoveries) == (Phase.REMEMBERED, (NOW + 2 * MIN,))
    assert after(first, ws("AVAILABLE"), RemediationStep(RemediationAction.CLOSE, "x"), NOW, HOME) is None
    assert after(None, ws("REBOOTING"), RemediationStep(RemediationAction.WAIT, "x"), NOW, HOME) is None


def test_notices_go_out_for_actions_and_once_per_guard_reason():
    assert needs_notice(rec(), RemediationStep(RemediationAction.REBOOT, "r"), NOW)
    assert needs_notice(
        rec(), RemediationStep(RemediationAction.SKIP, "Skip_Remediation tag", guard=True), NOW
    )
    assert not needs_notice(
        rec(notice="Skip_Remediation tag"),
        RemediationStep(RemediationAction.SKIP, "Skip_Remediation tag", guard=True),
        NOW,
    )
    assert not needs_notice(rec(), RemediationStep(RemediationAction.SKIP, BREAKER_REASON, guard=True), NOW)
    assert not needs_notice(rec(), RemediationStep(RemediationAction.WAIT, "within the grace period"), NOW)
    held = RemediationStep(RemediationAction.WAIT, REBOOT_LIMIT_REASON, guard=True)
    assert needs_notice(rec(), held, NOW)  # named once, in the scan's one reboot-limit message
    assert not needs_notice(rec(notice=REBOOT_LIMIT_REASON), held, NOW)


# -- what a record remembers beyond one episode ------------------------------------------------
def cycle(record, now, state):
    """One scan: decide, then carry out (as the remediator does, tags and snapshots aside)."""
    decided = go(ws(state), record, now=now)
    return after(record, ws(state), decided, now, HOME), decided


def test_a_workspace_brought_back_and_unhealthy_again_within_a_day_goes_to_a_person():
    record, now, actions = None, NOW, []
    for state in ["UNHEALTHY", "UNHEALTHY", "UNHEALTHY", "AVAILABLE", "UNHEALTHY", "UNHEALTHY", "UNHEALTHY"]:
        record, decided = cycle(record, now, state)
        actions.append(decided.action)
        now += 15 * MIN
    assert actions == [
        RemediationAction.OBSERVE,
        RemediationAction.OBSERVE,
        RemediationAction.REBOOT,
        RemediationAction.RECOVERED,
        RemediationAction.OBSERVE,  # a new episode still has its grace period: the UNHEALTHY may be brief
        RemediationAction.OBSERVE,
        RemediationAction.NEEDS_PERSON,
    ]
    assert (
        "flapping: brought back 1 time(s) in the last 24 h"
        in go(ws(), replace(record, phase=Phase.OBSERVING), now=now).reason
    )
    assert record.phase is Phase.NEEDS_PERSON and record.escalated_at == now - 15 * MIN


def test_recoveries_older_than_a_day_are_forgotten():
    back = replace(rec(Phase.REMEMBERED), recoveries=(NOW - timedelta(hours=24),))
    episode = after(back, ws(), RemediationStep(RemediationAction.OBSERVE, "x"), NOW, HOME)
    assert episode.recoveries == () and episode.phase is Phase.OBSERVING
    assert go(record=replace(episode, unhealthy_since=NOW - 31 * MIN)).action is RemediationAction.REBOOT
    assert remembered(back, NOW) is None  # nothing recent left: the record goes


def test_more_recoveries_a_day_when_the_operator_allows_them():
    twice = replace(SETTINGS, max_recoveries_per_day=2)
    once_back = replace(rec(), recoveries=(NOW - timedelta(hours=3),))
    assert go(record=once_back, settings=twice).action is RemediationAction.REBOOT
    twice_back = replace(once_back, recoveries=(NOW - timedelta(hours=5), NOW - timedelta(hours=3)))
    assert go(record=twice_back, settings=twice).action is RemediationAction.NEEDS_PERSON


def test_a_person_is_alerted_about_one_workspace_at_most_once_a_day():
    alerted = replace(rec(), escalated_at=NOW - timedelta(hours=23))
    person = RemediationStep(RemediationAction.NEEDS_PERSON, "r")
    assert not needs_notice(alerted, person, NOW)
    assert needs_notice(replace(alerted, escalated_at=NOW - timedelta(hours=24)), person, NOW)
    assert needs_notice(None, person, NOW)
    assert after(alerted, ws(), person, NOW, HOME).escalated_at == alerted.escalated_at
    assert after(rec(), ws(), person, NOW, HOME).escalated_at == NOW
    kept = remembered(alerted, NOW)  # healthy again: the alert is remembered for the rest of the day
    assert (kept.phase, kept.escalated_at) == (Phase.REMEMBERED, alerted.escalated_at)


def test_refusals_in_a_row_with_one_error_are_counted_and_a_new_error_starts_again():
    once = refused(rec(), "InvalidResourceState.WorkspaceState", NOW)
    twice = refused(once, "InvalidResourceState.WorkspaceState", NOW + 15 * MIN)
    assert (twice.refusals, twice.refused_at) == (2, NOW + 15 * MIN)
    other = refused(twice, "ResourceUnavailable.Workspace", NOW + 30 * MIN)
    assert (other.refusals, other.refusal_code) == (1, "ResourceUnavailable.Workspace")
    assert other.phase is Phase.OBSERVING and other.reboots == 0  # not assumed done


def test_after_repeated_refusals_the_action_is_tried_again_hourly():
    stuck = replace(rec(), refusals=REFUSALS_BEFORE_PERSON, refusal_code="X", refused_at=NOW - 59 * MIN)
    held = go(record=stuck)
    assert held.action is RemediationAction.WAIT and not held.guard
    assert "reboot refused 3 times in a row (X)" in held.reason
    assert go(record=replace(stuck, refused_at=NOW - 60 * MIN)).action is RemediationAction.REBOOT
    fewer = replace(stuck, refusals=REFUSALS_BEFORE_PERSON - 1)
    assert go(record=fewer).action is RemediationAction.REBOOT
    done = after(stuck, ws(), RemediationStep(RemediationAction.REBOOT, "r"), NOW, HOME)
    assert (done.refusals, done.refusal_code, done.refused_at) == (0, "", None)


@pytest.mark.parametrize("held_in", ["MAINTENANCE", "ADMIN_MAINTENANCE", "REBOOTING", "UPDATING", "STOPPING"])
def test_the_grace_period_starts_again_when_a_transitional_state_ends(held_in):
    observed = rec(since=NOW - 3 * 60 * MIN)
    paused = after(observed, ws(held_in), go(ws(held_in), observed), NOW - 60 * MIN, HOME)
    assert paused.paused_in == held_in
    back = go(record=paused)
    assert back == RemediationStep(
        RemediationAction.OBSERVE, f"UNHEALTHY; {held_in} ended; within the grace period"
    )
    settled = after(paused, ws(), back, NOW, HOME)
    assert (settled.paused_in, settled.settled_at, settled.unhealthy_since) == (
        "",
        NOW,
        observed.unhealthy_since,
    )
    assert go(record=settled, now=NOW + 29 * MIN).action is RemediationAction.OBSERVE
    assert go(record=settled, now=NOW + 30 * MIN).action is RemediationAction.REBOOT


def test_the_wait_after_a_reboot_starts_again_when_maintenance_ends():
    rebooted = rec(Phase.REBOOTED, reboots=1, last=NOW - 3 * 60 * MIN)
    paused = after(
        rebooted,
        ws("MAINTENANCE"),
        RemediationStep(RemediationAction.WAIT, "state MAINTENANCE"),
        NOW - 60 * MIN,
        HOME,
    )
    settled = after(paused, ws(), go(record=paused), NOW, HOME)
    assert go(record=settled, now=NOW + 29 * MIN).action is RemediationAction.WAIT
    assert go(record=settled, now=NOW + 30 * MIN).action is RemediationAction.REBOOT


def test_a_modification_in_flight_also_restarts_the_grace_period():
    observed = rec(since=NOW - 3 * 60 * MIN)
    modifying = ws(modification_states=("COMPUTE_TYPE",))
    paused = after(observed, modifying, go(modifying, observed), NOW - 60 * MIN, HOME)
    assert paused.paused_in == "a modification"
    assert go(record=paused).action is RemediationAction.OBSERVE


def test_the_reboot_cap_holds_back_the_most_recently_unhealthy():
    older, newer = rec(since=NOW - 90 * MIN), rec(since=NOW - 40 * MIN)
    reboot, wait = (
        RemediationStep(RemediationAction.REBOOT, "r"),
        RemediationStep(RemediationAction.WAIT, "w"),
    )
    candidates = [(newer, reboot), (older, wait), (older, reboot), (rec(since=NOW - 60 * MIN), reboot)]
    assert hold_reboots(candidates, 2) == {0}
    assert hold_reboots(candidates, 3) == set()
    assert hold_reboots(candidates, 1) == {0, 3}


def test_every_step_that_is_announced_has_an_alert_type():
    for action in (
        RemediationAction.REBOOT,
        RemediationAction.REBUILD,
        RemediationAction.RECOVERED,
        RemediationAction.NEEDS_PERSON,
        RemediationAction.SKIP,
        RemediationAction.WAIT,
    ):
        assert Alert.of(action).value == f"remediation_{action.value}"
