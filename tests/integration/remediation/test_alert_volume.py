"""Alert volume (issue 12): under any single fault or guard, one WorkSpace produces at most a few
alerts a day. Each case runs a day of scans, every 15 minutes at a frozen clock, while one
UNHEALTHY WorkSpace meets the fault; a WorkSpace rebooted or rebuilt comes back UNHEALTHY
unless the case says otherwise. The alerts naming it are the case's expected ones, and never
more than MAX_A_DAY."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from tests.support import simulator
from tests.support.remediation import ACCOUNT, LIVE, MIN, REGION, alerts_of, scan, set_unhealthy, state_of

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
SCANS_A_DAY = 96
MAX_A_DAY = 3


@dataclass
class World:
    """The office directory, the WorkSpace the fault is about, and the scan's number."""

    directory_id: str
    ids: list[str]
    subject: str
    scan: int = 0

    def set(self, state: str, *workspace_ids: str) -> None:
        for workspace_id in workspace_ids or (self.subject,):
            simulator.set_state(ACCOUNT, REGION, workspace_id, state)


def back_unhealthy(world: World, at: datetime) -> None:
    """What a reboot or rebuild does to a WorkSpace that stays broken."""
    for workspace_id in world.ids:
        if state_of(workspace_id) in ("REBOOTING", "REBUILDING"):
            world.set("UNHEALTHY", workspace_id)


def flapping(world: World, at: datetime) -> None:
    """AVAILABLE for a moment after each reboot, then UNHEALTHY again."""
    if state_of(world.subject) == "REBOOTING":
        world.set("AVAILABLE")
    elif state_of(world.subject) == "AVAILABLE":
        world.set("UNHEALTHY")


def flickering(world: World, at: datetime) -> None:
    """UNHEALTHY and AVAILABLE by turns on its own, never for a whole grace period."""
    world.set("UNHEALTHY" if world.scan % 2 == 0 else "AVAILABLE")


def maintenance(world: World, at: datetime) -> None:
    """Four hours of MAINTENANCE after the first scan, then UNHEALTHY again."""
    back_unhealthy(world, at)
    if 1 <= world.scan <= 16:
        world.set("MAINTENANCE")
    elif world.scan == 17:
        world.set("UNHEALTHY")


def admin_maintenance(world: World, at: datetime) -> None:
    if world.scan >= 1:
        world.set("ADMIN_MAINTENANCE")


def snapshot(hours_old: float) -> Callable[[World], None]:
    def add(world: World) -> None:
        simulator.add_snapshot(ACCOUNT, REGION, world.subject, "rebuild", T0 - timedelta(hours=hours_old))

    return add


def refuse(operation: str) -> Callable[[World], None]:
    def setup(world: World) -> None:
        snapshot(1)(world)
        simulator.refuse(ACCOUNT, REGION, world.subject, operation, "InvalidResourceState.WorkspaceState")

    return setup


def tagged(world: World) -> None:
    simulator.workspace(ACCOUNT, REGION, world.subject).tags = [{"Key": "Skip_Remediation", "Value": ""}]


def connected(world: World) -> None:
    simulator.set_connection(ACCOUNT, REGION, world.subject, "CONNECTED", T0)


def modifying(world: World) -> None:
    simulator.workspace(ACCOUNT, REGION, world.subject).modification_states = [
        {"Resource": "COMPUTE_TYPE", "State": "UPDATE_IN_PROGRESS"}
    ]


def others(world: World) -> list[str]:
    return [i for i in world.ids if i != world.subject]


def two_older(world: World) -> None:
    """Two other WorkSpaces UNHEALTHY as long, listed first: the per-scan cap of 1 holds the
    subject back at first."""
    world.set("UNHEALTHY", *others(world)[:2])


def broken_directory(world: World) -> None:
    """Five of twenty UNHEALTHY: the circuit breaker opens."""
    world.set("UNHEALTHY", *others(world)[:4])


def fault(service: str, operation: str, code: str, status: int = 400) -> simulator.Fault:
    return simulator.Fault(service, operation, code, status=status)


@dataclass
class Case:
    name: str
    expected: list[str]
    parameters: dict[str, str] = field(default_factory=dict)
    setup: Callable[[World], None] = lambda world: None
    each_scan: Callable[[World, datetime], None] = back_unhealthy
    faults: list[simulator.Fault] = field(default_factory=list)
    others: list[str] = field(default_factory=list)  # alerts about no one WorkSpace (breaker)


REBUILD = {"RebuildPolicy": "Auto", "MaxReboots": "1"}
CASES = [
    Case("stays UNHEALTHY", ["remediation_reboot", "remediation_needs_person"]),
    Case(
        "flapping",
        ["remediation_reboot", "remediation_recovered", "remediation_needs_person"],
        each_scan=flapping,
    ),
    Case("flickering on its own", [], each_scan=flickering),
    Case(
        "reboot refused",
        ["remediation_failed", "remediation_needs_person"],
        setup=refuse("RebootWorkspaces"),
    ),
    Case(
        "reboot call fails outright",
        ["remediation_failed", "remediation_needs_person"],
        faults=[fault("workspaces", "RebootWorkspaces", "ServiceUnavailable", 503)],
    ),
    Case(
        "reboot cap",
        ["remediation_reboot_limit", "remediation_reboot", "remediation_needs_person"],
        parameters={"MaxRebootsPerRun": "1"},
        setup=two_older,
    ),
    Case("maintenance", ["remediation_reboot", "remediation_needs_person"], each_scan=maintenance),
    Case("admin maintenance", [], each_scan=admin_maintenance),
    Case("modification in flight", [], setup=modifying),
    Case(
        "circuit breaker",
        [],
        parameters={"BreakerPercent": "20", "BreakerMinimumUnhealthy": "3"},
        setup=broken_directory,
        others=["remediation_breaker_opened"],
    ),
    Case("Skip_Remediation tag", ["remediation_skip"], setup=tagged),
    Case("connected user", ["remediation_wait"], setup=connected),
    Case(
        "connection status unreadable",
        ["remediation_wait"],
        faults=[fault("workspaces", "DescribeWorkspacesConnectionStatus", "AccessDeniedException")],
    ),
    Case(
        "tags unreadable",
        ["remediation_wait"],
        faults=[fault("workspaces", "DescribeTags", "AccessDeniedException")],
    ),
    Case(
        "Unhealthy metric unreadable",
        ["remediation_reboot", "remediation_needs_person"],
        faults=[fault("cloudwatch", "GetMetricData", "AccessDenied")],
    ),
    Case(
        "rebuilt, still UNHEALTHY",
        ["remediation_reboot", "remediation_rebuild", "remediation_needs_person"],
        parameters=REBUILD,
        setup=snapshot(1),
    ),
    Case(
        "stale snapshot for a rebuild",
        ["remediation_reboot", "remediation_needs_person"],
        parameters=REBUILD,
        setup=snapshot(13),
    ),
    Case("no snapshot for a rebuild", ["remediation_reboot", "remediation_needs_person"], parameters=REBUILD),
    Case(
        "snapshots unreadable",
        ["remediation_reboot", "remediation_wait"],
        parameters=REBUILD,
        faults=[fault("workspaces", "DescribeWorkspaceSnapshots", "AccessDeniedException")],
    ),
    Case(  # held until the snapshot is too old to rebuild from: then a person decides
        "daily rebuild limit",
        ["remediation_reboot", "remediation_wait", "remediation_needs_person"],
        parameters={**REBUILD, "MaxRebuildsPerDay": "0"},
        setup=snapshot(1),
    ),
    Case(
        "rebuild refused",
        ["remediation_reboot", "remediation_needs_person"],
        parameters=REBUILD,
        setup=refuse("RebuildWorkspaces"),
    ),
    Case("dry run", ["remediation_reboot", "remediation_needs_person"], parameters={"DryRun": "true"}),
]


@pytest.fixture
def office(make_fleet):
    return make_fleet({f"u{i:02d}": {"mode": "AUTO_STOP"} for i in range(20)}, T0)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_one_workspace_makes_at_most_a_few_alerts_a_day_under_any_single_fault(
    aws, deploy, office, alert_inbox, case
):
    stack = deploy(**{**LIVE, **case.parameters})
    received = alert_inbox(stack)
    ids = sorted(office.ids.values())
    world = World(office.directory_id, ids, subject=ids[2])
    world.set("UNHEALTHY")
    case.setup(world)
    at = T0
    with ExitStack() as faults:
        for f in case.faults:
            faults.enter_context(simulator.inject(f))
        for world.scan in range(SCANS_A_DAY):
            case.each_scan(world, at)
            unhealthy = [i for i in ids if state_of(i) == "UNHEALTHY"]
            set_unhealthy(world.directory_id, unhealthy, at)
            scan(stack, at)
            at += 15 * MIN

    alerts = alerts_of(received, at)
    about = [a.kind for a in alerts if a.names(world.subject)]
    assert about == case.expected
    assert len(about) <= MAX_A_DAY
    assert [a.kind for a in alerts if not any(a.names(i) for i in ids)] == case.others
