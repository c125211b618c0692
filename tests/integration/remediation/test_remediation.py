"""Unhealthy-WorkSpace remediation end to end: scans at frozen, advancing clocks against the
simulator; the simulator's WorkSpaces change state as AWS's would between scans."""

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from tests.conftest import ACCOUNT, REGION
from tests.support import fleet as fleet_support
from tests.support import simulator
from tests.support.lambda_runtime import FakeContext
from tools.local_run import FREEZE_IGNORE
from ws_autopilot.aws.fleet import WorkspacesFleet
from ws_autopilot.aws.notifications import Notifier
from ws_autopilot.aws.usage import UsageMetrics
from ws_autopilot.core.models import Target
from ws_autopilot.remediation.remediator import Remediator
from ws_autopilot.remediation.settings import RemediationConfig
from ws_autopilot.remediation.store import RemediationStore

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


@pytest.fixture
def office(make_fleet):
    """A directory of 20 AVAILABLE WorkSpaces."""
    return make_fleet({f"u{i:02d}": {"mode": "AUTO_STOP"} for i in range(20)}, T0)


@pytest.fixture
def inbox(alert_inbox):
    """The alert types the alert topic delivered, in order, read at the scenario's last step."""

    def subscribe(stack):
        received = alert_inbox(stack)
        return lambda at: [m["MessageAttributes"]["alert_type"]["Value"] for m in received(at)]

    return subscribe


def unhealthy(fleet, *names, at=T0):
    for name in names:
        simulator.set_state(ACCOUNT, REGION, fleet.ids[name], "UNHEALTHY")
    fleet_support.report_unhealthy(ACCOUNT, REGION, fleet.directory_id, len(names), at - 5 * MIN)


def state(fleet, name):
    return simulator.workspace(ACCOUNT, REGION, fleet.ids[name]).state


def scan(stack, at):
    with freeze_time(at, ignore=FREEZE_IGNORE):
        return stack.handlers["RemediateFunction"]({}, FakeContext())


def calls(operation):
    return simulator.CALLS[("workspaces", operation)]


LIVE = {"DryRun": "false", "Remediation": "On"}  # remediation acts only when both say so


def test_a_workspace_that_recovers_after_a_reboot(aws, deploy, office, inbox):
    stack = deploy(**LIVE)
    notices = inbox(stack)
    unhealthy(office, "u01")

    assert scan(stack, T0)["counts"] == {"observe": 1}
    assert scan(stack, T0 + 29 * MIN)["counts"] == {"observe": 1}
    assert scan(stack, T0 + 30 * MIN)["counts"] == {"reboot": 1}
    assert state(office, "u01") == "REBOOTING"
    simulator.set_state(ACCOUNT, REGION, office.ids["u01"], "AVAILABLE")  # the reboot helped
    assert scan(stack, T0 + 45 * MIN)["counts"] == {"recovered": 1}
    assert scan(stack, T0 + 60 * MIN)["counts"] == {}
    assert notices(T0 + 60 * MIN) == ["remediation_reboot", "remediation_recovered"]


def test_a_workspace_that_stays_unhealthy_is_rebuilt_under_auto(aws, deploy, office, inbox):
    stack = deploy(**LIVE, RebuildPolicy="Auto", MaxReboots="1")
    notices = inbox(stack)
    unhealthy(office, "u02")
    simulator.add_snapshot(ACCOUNT, REGION, office.ids["u02"], "rebuild", T0 - timedelta(hours=3))

    scan(stack, T0)
    assert scan(stack, T0 + 30 * MIN)["counts"] == {"reboot": 1}
    unhealthy(office, "u02", at=T0 + 60 * MIN)  # the reboot did not help
    assert scan(stack, T0 + 60 * MIN)["counts"] == {"rebuild": 1}
    assert state(office, "u02") == "REBUILDING"
    unhealthy(office, "u02", at=T0 + 90 * MIN)
    assert scan(stack, T0 + 90 * MIN)["counts"] == {"needs_person": 1}
    assert scan(stack, T0 + 120 * MIN)["counts"] == {"wait": 1}
    assert notices(T0 + 120 * MIN) == [
        "remediation_reboot",
        "remediation_rebuild",
        "remediation_needs_person",
    ]


def test_under_never_a_workspace_that_stays_unhealthy_only_alerts(aws, deploy, office, inbox):
    stack = deploy(**LIVE, MaxReboots="1")
    notices = inbox(stack)
    unhealthy(office, "u03")
    simulator.add_snapshot(ACCOUNT, REGION, office.ids["u03"], "rebuild", T0)

    scan(stack, T0)
    scan(stack, T0 + 30 * MIN)
    unhealthy(office, "u03", at=T0 + 60 * MIN)
    result = scan(stack, T0 + 60 * MIN)

    assert result["counts"] == {"needs_person": 1}
    assert "rebuilds are not allowed" in result["outcomes"][0]["reason"]
    assert calls("RebuildWorkspaces") == 0
    assert notices(T0 + 60 * MIN) == ["remediation_reboot", "remediation_needs_person"]


def test_a_rebuild_without_a_fresh_snapshot_goes_to_a_person(aws, deploy, office):
    stack = deploy(**LIVE, RebuildPolicy="Auto", MaxReboots="1", MaxSnapshotAgeHours="12")
    unhealthy(office, "u04")
    simulator.add_snapshot(ACCOUNT, REGION, office.ids["u04"], "rebuild", T0 - timedelta(hours=13))
    scan(stack, T0)
    scan(stack, T0 + 30 * MIN)
    unhealthy(office, "u04", at=T0 + 60 * MIN)
    result = scan(stack, T0 + 60 * MIN)
    assert result["counts"] == {"needs_person": 1}
    assert "too old to rebuild" in result["outcomes"][0]["reason"]
    assert calls("RebuildWorkspaces") == 0


def test_a_tagged_workspace_is_left_alone_and_announced_once(aws, deploy, office, inbox):
    stack = deploy(**LIVE)
    notices = inbox(stack)
    aws["workspaces"].create_tags(
        ResourceId=office.ids["u05"], Tags=[{"Key": "skip_remediation", "Value": ""}]
    )
    unhealthy(office, "u05")

    for minutes in (0, 30, 60, 90):
        scan(stack, T0 + minutes * MIN)

    assert state(office, "u05") == "UNHEALTHY"
    assert calls("RebootWorkspaces") == 0
    assert notices(T0 + 90 * MIN) == ["remediation_skip"]


def test_a_directory_over_the_breaker_threshold_is_left_alone(aws, deploy, office, inbox):
    stack = deploy(**LIVE, BreakerPercent="20", BreakerMinimumUnhealthy="3")
    notices = inbox(stack)
    unhealthy(office, "u06", "u07", "u08", "u09", "u10")  # 5 of 20 = 25%

    for minutes in (0, 30, 60):
        result = scan(stack, T0 + minutes * MIN)
        assert result["counts"] == {"skip": 5}
    assert calls("RebootWorkspaces") == 0
    for name in ("u07", "u08", "u09", "u10"):
        simulator.set_state(ACCOUNT, REGION, office.ids[name], "AVAILABLE")
    assert scan(stack, T0 + 90 * MIN)["counts"] == {"close": 4, "reboot": 1}
    assert notices(T0 + 90 * MIN) == [
        "remediation_breaker_opened",
        "remediation_breaker_closed",
        "remediation_reboot",
    ]


def test_a_reboot_answered_with_failed_requests_is_retried_on_the_next_scan(aws, deploy, office, inbox):
    stack = deploy(**LIVE)
    notices = inbox(stack)
    unhealthy(office, "u11")
    simulator.refuse(
        ACCOUNT, REGION, office.ids["u11"], "RebootWorkspaces", "InvalidResourceState.WorkspaceState"
    )

    scan(stack, T0)
    failed = scan(stack, T0 + 30 * MIN)
    simulator.allow(ACCOUNT, REGION, office.ids["u11"], "RebootWorkspaces")
    retried = scan(stack, T0 + 45 * MIN)

    assert failed["counts"] == {"failed": 1}
    assert "InvalidResourceState.WorkspaceState" in failed["outcomes"][0]["reason"]
    assert retried["counts"] == {"reboot": 1}
    assert state(office, "u11") == "REBOOTING"
    assert notices(T0 + 45 * MIN) == ["remediation_failed", "remediation_reboot"]


def test_a_reboot_call_that_fails_outright_is_not_assumed_done(aws, deploy, office, monkeypatch):
    stack = deploy(**LIVE)
    unhealthy(office, "u19")
    scan(stack, T0)
    with simulator.inject(
        simulator.Fault("workspaces", "RebootWorkspaces", "ServiceUnavailable", status=503)
    ):
        failed = scan(stack, T0 + 30 * MIN)
    assert failed["counts"] == {"failed": 1}
    assert scan(stack, T0 + 35 * MIN)["counts"] == {"reboot": 1}
    assert state(office, "u19") == "REBOOTING"


def test_two_overlapping_scans_act_once(aws, deploy, office):
    stack = deploy(**LIVE)
    unhealthy(office, "u12")
    scan(stack, T0)
    now = T0 + 30 * MIN
    config = RemediationConfig.from_env()
    first, second = (
        Remediator(
            config.policy,
            WorkspacesFleet(),
            UsageMetrics(),
            RemediationStore(config.table_name),
            Notifier(config.alert_topic_arn),
            Target(ACCOUNT, REGION),
        )
        for _ in range(2)
    )

    plan_a, plan_b = first.plan(now), second.plan(now)  # both read before either acts
    done_a, done_b = first.execute(plan_a, now), second.execute(plan_b, now)

    assert (dict(done_a.counts), dict(done_b.counts)) == ({"reboot": 1}, {"conflict": 1})
    assert calls("RebootWorkspaces") == 1


def test_throttling_is_survived(aws, deploy, office, monkeypatch):
    stack = deploy(**LIVE)
    unhealthy(office, "u13")
    scan(stack, T0)
    throttles = [
        simulator.Fault("workspaces", op, "ThrottlingException", limit=3)
        for op in ("DescribeWorkspaces", "RebootWorkspaces", "DescribeTags")
    ]
    with simulator.inject(throttles[0]), simulator.inject(throttles[1]), simulator.inject(throttles[2]):
        result = scan(stack, T0 + 30 * MIN)
    assert result["counts"] == {"reboot": 1}
    assert all(t.injected for t in throttles)
    assert state(office, "u13") == "REBOOTING"


def test_dry_run_decides_and_announces_but_never_reboots(aws, deploy, office, inbox):
    stack = deploy(DryRun="true")
    notices = inbox(stack)
    unhealthy(office, "u14")
    scan(stack, T0)
    assert scan(stack, T0 + 30 * MIN)["counts"] == {"reboot": 1}
    assert calls("RebootWorkspaces") == 0
    assert state(office, "u14") == "UNHEALTHY"
    assert notices(T0 + 30 * MIN) == ["remediation_reboot"]


def test_a_connected_user_holds_the_reboot(aws, deploy, office):
    stack = deploy(**LIVE)
    unhealthy(office, "u15")
    simulator.set_connection(ACCOUNT, REGION, office.ids["u15"], "CONNECTED", T0)
    scan(stack, T0)
    result = scan(stack, T0 + 30 * MIN)
    assert result["outcomes"][0]["reason"] == "a user is connected"
    assert calls("RebootWorkspaces") == 0


def test_only_directories_reporting_unhealthy_workspaces_are_listed(aws, deploy, make_fleet, office):
    quiet = make_fleet({"q1": {"mode": "AUTO_STOP"}}, T0)
    stack = deploy(**LIVE)
    unhealthy(office, "u16")
    before = calls("DescribeWorkspaces")
    scan(stack, T0)
    assert calls("DescribeWorkspaces") - before == 1  # one page of the flagged directory only
    assert quiet.directory_id != office.directory_id


def test_when_the_metric_is_unreadable_every_directory_is_listed(
    aws, deploy, make_fleet, office, monkeypatch
):
    make_fleet({"q1": {"mode": "AUTO_STOP"}}, T0)
    stack = deploy(**LIVE)
    unhealthy(office, "u17")
    before = calls("DescribeWorkspaces")
    with simulator.inject(simulator.Fault("cloudwatch", "GetMetricData", "AccessDenied")):
        result = scan(stack, T0)
    assert result["counts"] == {"observe": 1}
    assert calls("DescribeWorkspaces") - before == 2


def test_the_daily_rebuild_limit_holds_a_rebuild(aws, deploy, office):
    stack = deploy(**LIVE, RebuildPolicy="Auto", MaxReboots="1", MaxRebuildsPerDay="0")
    unhealthy(office, "u18")
    simulator.add_snapshot(ACCOUNT, REGION, office.ids["u18"], "rebuild", T0)
    scan(stack, T0)
    scan(stack, T0 + 30 * MIN)
    unhealthy(office, "u18", at=T0 + 60 * MIN)
    result = scan(stack, T0 + 60 * MIN)
    assert result["outcomes"][0]["reason"] == "daily rebuild limit reached"
    assert calls("RebuildWorkspaces") == 0


@pytest.fixture
def kinds(make_fleet):
    """A directory with a standby WorkSpace (its primary in another region), an agentic one and
    eight of people."""
    specs = {f"p{i}": {"mode": "AUTO_STOP"} for i in range(8)} | {
        "standby": {"mode": "AUTO_STOP", "standby": True},
        "agent": {"mode": "AUTO_STOP", "agentic": True, "compute": "POWER", "os": "WINDOWS_SERVER_2025"},
    }
    return make_fleet(specs, T0)


def test_an_unhealthy_standby_workspace_is_left_alone_and_announced_once(aws, deploy, kinds, inbox):
    stack = deploy(**LIVE, RebuildPolicy="Auto", MaxReboots="1")
    notices = inbox(stack)
    unhealthy(kinds, "standby")
    simulator.add_snapshot(ACCOUNT, REGION, kinds.ids["standby"], "rebuild", T0)

    results = [scan(stack, T0 + minutes * MIN) for minutes in (0, 30, 60, 90)]

    assert [r["counts"] for r in results] == [{"skip": 1}] * 4
    assert results[0]["outcomes"][0]["reason"] == "standby WorkSpace (multi-region resilience)"
    assert simulator.actions(ACCOUNT, REGION, kinds.ids["standby"]) == []
    assert state(kinds, "standby") == "UNHEALTHY"
    assert notices(T0 + 90 * MIN) == ["remediation_skip"]


def test_an_unhealthy_agentic_workspace_is_rebooted_and_then_goes_to_a_person_not_rebuilt(
    aws, deploy, kinds, inbox
):
    stack = deploy(**LIVE, RebuildPolicy="Auto", MaxReboots="1")
    notices = inbox(stack)
    unhealthy(kinds, "agent")
    simulator.add_snapshot(ACCOUNT, REGION, kinds.ids["agent"], "rebuild", T0)  # a rebuild could be made

    scan(stack, T0)
    assert scan(stack, T0 + 30 * MIN)["counts"] == {"reboot": 1}
    unhealthy(kinds, "agent", at=T0 + 60 * MIN)  # the reboot did not help
    result = scan(stack, T0 + 60 * MIN)

    assert result["counts"] == {"needs_person": 1}
    assert result["outcomes"][0]["reason"] == (
        "still UNHEALTHY after 1 reboot(s); AGENTIC WorkSpace: not rebuilt automatically"
    )
    assert simulator.actions(ACCOUNT, REGION, kinds.ids["agent"]) == ["RebootWorkspaces"]
    assert calls("RebuildWorkspaces") == 0
    assert notices(T0 + 60 * MIN) == ["remediation_reboot", "remediation_needs_person"]
