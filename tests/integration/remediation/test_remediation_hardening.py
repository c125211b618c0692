"""Remediation that cannot be tricked (issue 12): timelines replayed against the simulator in
which main misbehaved. Each test drives scans every 15 minutes at a frozen clock while the
simulator's WorkSpace behaves as the fault says."""

from datetime import UTC, datetime

import pytest

from tests.conftest import ACCOUNT, REGION
from tests.support import simulator
from tests.support.remediation import LIVE, MIN, alerts_of, calls, scan, set_unhealthy, state_of

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
SCAN = 15 * MIN


@pytest.fixture
def office(make_fleet):
    """A directory of 20 AVAILABLE WorkSpaces."""
    return make_fleet({f"u{i:02d}": {"mode": "AUTO_STOP"} for i in range(20)}, T0)


def test_a_flapping_workspace_goes_to_a_person_instead_of_being_rebooted_without_end(
    aws, deploy, office, alert_inbox
):
    """AVAILABLE for a moment after each reboot, then UNHEALTHY again: main rebooted it every
    75 minutes for the whole day and announced every reboot and every recovery."""
    stack = deploy(**LIVE)
    received = alert_inbox(stack)
    flapper = office.ids["u01"]
    set_unhealthy(office.directory_id, [flapper], T0)
    at = T0
    for _ in range(48):  # 12 hours
        if state_of(flapper) == "REBOOTING":
            simulator.set_state(ACCOUNT, REGION, flapper, "AVAILABLE")
        elif state_of(flapper) == "AVAILABLE":
            set_unhealthy(office.directory_id, [flapper], at)
        scan(stack, at)
        at += SCAN

    kinds = [a.kind for a in alerts_of(received, at)]
    assert kinds == ["remediation_reboot", "remediation_recovered", "remediation_needs_person"]
    assert calls("RebootWorkspaces") == 1
    assert state_of(flapper) == "UNHEALTHY"


def test_a_reboot_the_api_keeps_refusing_goes_to_a_person_once_then_stays_quiet(
    aws, deploy, office, alert_inbox
):
    """Main announced the refusal at every scan (about 96 alerts a day) and never escalated."""
    stack = deploy(**LIVE)
    received = alert_inbox(stack)
    stuck = office.ids["u02"]
    set_unhealthy(office.directory_id, [stuck], T0)
    simulator.refuse(ACCOUNT, REGION, stuck, "RebootWorkspaces", "InvalidResourceState.WorkspaceState")
    at = T0
    for _ in range(96):  # a day
        scan(stack, at)
        at += SCAN

    alerts = alerts_of(received, at)
    assert [a.kind for a in alerts] == ["remediation_failed", "remediation_needs_person"]
    assert "InvalidResourceState.WorkspaceState" in alerts[1].body["reason"]


def test_workspaces_held_back_by_the_reboot_cap_are_announced_in_one_message_per_scan(
    aws, deploy, office, alert_inbox
):
    """Main sent one `remediation_wait` per WorkSpace held back, a type the README did not list."""
    stack = deploy(**LIVE, MaxRebootsPerRun="1")
    received = alert_inbox(stack)
    names = ["u03", "u04", "u05"]  # 3 of 20: under the circuit breaker's 20%
    set_unhealthy(office.directory_id, [office.ids[n] for n in names], T0)
    scan(stack, T0)
    result = scan(stack, T0 + 30 * MIN)

    assert result["counts"] == {"reboot": 1, "wait": 2}
    alerts = alerts_of(received, T0 + 30 * MIN)
    assert [a.kind for a in alerts] == ["remediation_reboot", "remediation_reboot_limit"]
    held = [o["workspace_id"] for o in result["outcomes"] if o["action"] == "wait"]
    assert sorted(w["workspace_id"] for w in alerts[1].body["held_back"]) == sorted(held)


def test_the_grace_period_starts_again_when_maintenance_ends(aws, deploy, office):
    """UNHEALTHY, then two hours of MAINTENANCE, then UNHEALTHY again: main rebooted it at once
    because its grace period counted from before the maintenance."""
    stack = deploy(**LIVE)
    patient = office.ids["u06"]
    set_unhealthy(office.directory_id, [patient], T0)
    assert scan(stack, T0)["counts"] == {"observe": 1}
    simulator.set_state(ACCOUNT, REGION, patient, "MAINTENANCE")
    for minutes in range(15, 135, 15):
        assert scan(stack, T0 + minutes * MIN)["counts"] == {"wait": 1}
    set_unhealthy(office.directory_id, [patient], T0 + 135 * MIN)

    assert scan(stack, T0 + 135 * MIN)["counts"] == {"observe": 1}
    assert scan(stack, T0 + 150 * MIN)["counts"] == {"observe": 1}
    assert calls("RebootWorkspaces") == 0
    assert scan(stack, T0 + 165 * MIN)["counts"] == {"reboot": 1}


def test_a_refused_reboot_speaks_again_only_when_the_error_changes_or_the_reboot_goes_through(
    aws, deploy, office, alert_inbox
):
    stack = deploy(**LIVE)
    received = alert_inbox(stack)
    stuck = office.ids["u07"]
    set_unhealthy(office.directory_id, [stuck], T0)
    simulator.refuse(ACCOUNT, REGION, stuck, "RebootWorkspaces", "InvalidResourceState.WorkspaceState")
    tries = calls("RebootWorkspaces")
    at = T0
    while at <= T0 + 300 * MIN:
        if at == T0 + 105 * MIN:  # another error from now on
            simulator.refuse(ACCOUNT, REGION, stuck, "RebootWorkspaces", "ResourceUnavailable.Workspace")
        if at == T0 + 240 * MIN:  # the cause is gone
            simulator.allow(ACCOUNT, REGION, stuck, "RebootWorkspaces")
        scan(stack, at)
        at += SCAN

    alerts = alerts_of(received, at)
    assert [a.kind for a in alerts] == [
        "remediation_failed",
        "remediation_needs_person",
        "remediation_failed",
        "remediation_reboot",
    ]
    assert "ResourceUnavailable.Workspace" in alerts[2].body["reason"]
    # refused at 30, 45 and 60 min, then hourly: 120; the new error at 120, 135, 150 (a person
    # was alerted today already: quiet), then hourly: 210; the reboot at 270
    assert calls("RebootWorkspaces") - tries == 8
    assert state_of(stuck) == "REBOOTING"
