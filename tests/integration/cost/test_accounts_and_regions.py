"""Several accounts and regions in one run: member roles, denied regions, expiring credentials,
and the WorkSpaces API budget of each account and region."""

import json
from collections import defaultdict
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time
from moto.sts.models import sts_backends

from tests.conftest import ACCOUNT
from tests.integration.conftest import read_report
from tests.support import fleet, simulator
from tools.local_run import FREEZE_IGNORE, run_daily
from ws_autopilot.aws import accounts
from ws_autopilot.aws.accounts import AccountSessions
from ws_autopilot.aws.clients import client, forget_clients
from ws_autopilot.core.member_access import MemberFunction, read_only
from ws_autopilot.core.models import Target

NOW = datetime(2026, 11, 30, 21, 5, tzinfo=UTC)
MEMBER = "222222222222"
REGIONS = ("us-east-1", "eu-west-1")
DENIED = "ap-southeast-2"
SERVICES = ("workspaces", "cloudwatch", "ec2", "ds")
FUNCTION_ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:autopilot-ListDirectoriesFunction-0123"
LISTING = read_only(MemberFunction.LIST_DIRECTORIES)
OPTIMIZER_SESSION = "ws-autopilot-optimize-directory"


def seed(account: str, region: str, busy: int, light: int) -> dict[str, str]:
    """`busy` AUTO_STOP office workers (to convert) and `light` part-timers (to leave) -> id: profile."""
    clients = fleet.clients_in(account, ACCOUNT, region, SERVICES)
    directory_id = fleet.create_directory(clients, f"corp-{region}")
    specs = [("busy", "office")] * busy + [("light", "part_time")] * light
    ids = fleet.create_workspaces(
        clients,
        directory_id,
        [
            {"user": f"{kind}{i}", "compute_type": "STANDARD", "running_mode": "AUTO_STOP"}
            for i, (kind, _) in enumerate(specs)
        ],
    )
    for workspace_id, (_, profile) in zip(ids, specs, strict=True):
        fleet.seed_usage(account, region, workspace_id, profile, "AUTO_STOP", NOW)
    return dict(zip(ids, [kind for kind, _ in specs], strict=True))


def mode(account: str, region: str, workspace_id: str) -> str:
    return simulator.workspace(account, region, workspace_id).workspace_properties["RunningMode"]


@pytest.fixture
def two_by_two(aws):
    return {
        (account, region): seed(account, region, busy=3, light=2)
        for account in (ACCOUNT, MEMBER)
        for region in REGIONS
    }


def test_two_accounts_and_two_regions_make_one_report_and_a_denied_region_is_skipped(aws, deploy, two_by_two):
    stack = deploy(DryRun="false", Regions=",".join([*REGIONS, DENIED]), MemberAccounts=MEMBER)

    denied = simulator.Fault(
        "workspaces", "DescribeWorkspaceDirectories", "AccessDeniedException", region=DENIED
    )
    with simulator.inject(denied):
        output, _ = run_daily(stack.state_machine, NOW)

    rows, summary = read_report(aws["s3"], output)
    workspace_rows = [r for r in rows if r["workspace_id"]]
    expected = {(a, r, ws) for (a, r), seeded in two_by_two.items() for ws in seeded}
    assert sorted((r["account_id"], r["region"], r["workspace_id"]) for r in workspace_rows) == sorted(
        expected
    )
    for (account, region), seeded in two_by_two.items():
        for workspace_id, kind in seeded.items():
            assert mode(account, region, workspace_id) == ("ALWAYS_ON" if kind == "busy" else "AUTO_STOP")
    assert sorted(summary["failed"]) == [f"{ACCOUNT}/{DENIED}", f"{MEMBER}/{DENIED}"]
    skipped = [r for r in rows if not r["workspace_id"]]
    assert {r["reason"] for r in skipped} == {
        "account/region not finished: DescribeWorkspaceDirectories failed: AccessDeniedException"
    }
    assert summary["targets"] == [f"{a}/{r}" for a in (ACCOUNT, MEMBER) for r in (*REGIONS, DENIED)]


def test_the_member_role_is_assumed_with_its_name_the_functions_session_name_and_the_stack_id(
    aws, deploy, two_by_two
):
    stack = deploy(Regions="us-east-1", MemberAccounts=MEMBER, MemberRoleName="AutopilotMember")
    run_daily(stack.state_machine, NOW)

    assumed = [
        r for r in sts_backends[MEMBER]["aws"].assumed_roles if r.session_name.startswith("ws-autopilot-")
    ]
    assert assumed, "the member account was reached through its role"
    # each function under its own name: the member account's CloudTrail tells which one acted
    assert {(r.role_arn, r.external_id, r.session_name) for r in assumed} == {
        (f"arn:aws:iam::{MEMBER}:role/AutopilotMember", stack.refs["AWS::StackId"], session)
        for session in ("ws-autopilot-list-directories", OPTIMIZER_SESSION)
    }
    run_started = NOW.replace(tzinfo=None)  # moto stamps the expiry on the run's frozen clock
    assert all(r.expiration - run_started <= timedelta(hours=1, minutes=1) for r in assumed)


def test_an_unreachable_member_account_is_reported_and_the_others_complete(aws, deploy, two_by_two):
    stack = deploy(DryRun="false", Regions="us-east-1", MemberAccounts=MEMBER)
    with simulator.inject(simulator.Fault("sts", "AssumeRole", "AccessDenied")):
        output, _ = run_daily(stack.state_machine, NOW)
    rows, summary = read_report(aws["s3"], output)
    assert summary["failed"] == [f"{MEMBER}/us-east-1"]
    assert {r["account_id"] for r in rows if r["workspace_id"]} == {ACCOUNT}
    assert summary["actions"]["to_always_on"] == 3


def test_expiring_member_credentials_are_refreshed_during_a_long_run(aws, two_by_two):
    clock = [NOW]  # the frozen clock moto stamps the expiry with, and botocore's view of it
    sessions = AccountSessions(
        FUNCTION_ARN,
        "Member",
        "ext",
        api_rate=100,
        api_burst=100,
        access=LISTING,
        time_fetcher=lambda: clock[0],
    )
    target = Target(MEMBER, "us-east-1")
    with freeze_time(NOW, ignore=FREEZE_IGNORE):
        client = sessions.client("workspaces", target)
        assert len(client.describe_workspace_directories()["Directories"]) == 1
        clock[0] += timedelta(minutes=58)  # within botocore's refresh margin before the 1-hour expiry
        assert len(client.describe_workspace_directories()["Directories"]) == 1
    assumed = [
        r for r in sts_backends[MEMBER]["aws"].assumed_roles if r.session_name.startswith("ws-autopilot-")
    ]
    assert len(assumed) == 2, "the credentials were refreshed once, not per call"
    assert {r.session_name for r in assumed} == {"ws-autopilot-list-directories"}


def max_rate_excess(calls: list[float], rate: float, burst: int) -> float:
    """How far the busiest stretch of calls goes past what rate and burst allow (<= 0: within)."""
    calls = sorted(calls)
    return max(
        (j - i + 1) - (burst + rate * (calls[j] - calls[i]))
        for i in range(len(calls))
        for j in range(i, len(calls))
    )


def workspaces_calls_by_target(since: int) -> dict[tuple[str, str], list[float]]:
    by_target = defaultdict(list)
    for call in simulator.CALL_LOG[since:]:
        if call.service == "workspaces":
            by_target[(call.account, call.region)].append(call.at)
    return by_target


def test_a_throttling_storm_and_5xx_leave_every_workspace_reported_and_the_rate_under_budget(
    aws, deploy, two_by_two, virtual_time
):
    stack = deploy(
        DryRun="false",
        Regions=",".join(REGIONS),
        MemberAccounts=MEMBER,
        WorkSpacesApiRate="2",
        WorkSpacesApiBurst="5",
    )
    storm = [
        simulator.Fault("workspaces", op, "ThrottlingException", every=2, limit=40)
        for op in ("DescribeWorkspaces", "ModifyWorkspaceProperties", "DescribeWorkspaceDirectories")
    ]
    storm.append(
        simulator.Fault("resourcegroupstaggingapi", "GetResources", "ThrottledException", every=2, limit=40)
    )
    outage = simulator.Fault(
        "cloudwatch", "GetMetricData", "InternalServiceFault", status=500, every=3, limit=5
    )
    virtual_time.stop_following_real_time()  # the calls' times are the limiter's alone
    started, first_call = virtual_time.now(), len(simulator.CALL_LOG)
    with ExitStack() as faults:
        for fault in [*storm, outage]:
            faults.enter_context(simulator.inject(fault))
        output, _ = run_daily(stack.state_machine, NOW)

    rows, summary = read_report(aws["s3"], output)
    assert len([r for r in rows if r["workspace_id"]]) == 20 and summary["failed"] == []
    assert all(f.injected for f in storm)
    for (account, region), seeded in two_by_two.items():
        for workspace_id, kind in seeded.items():
            assert mode(account, region, workspace_id) == ("ALWAYS_ON" if kind == "busy" else "AUTO_STOP")
    by_target = workspaces_calls_by_target(since=first_call)
    assert set(by_target) == set(two_by_two)
    for calls in by_target.values():
        assert max_rate_excess(calls, rate=2, burst=5) <= 0.01
    assert virtual_time.now() - started >= min(len(c) for c in by_target.values()) / 2 - 5


@pytest.mark.parametrize(
    ("parameters", "changes"),
    [
        ({"DryRun": "true", "UnusedAction": "stop"}, set()),
        ({"DryRun": "false"}, {"workspaces:ModifyWorkspaceProperties"}),
        (
            {"DryRun": "false", "UnusedAction": "stop"},
            {"workspaces:ModifyWorkspaceProperties", "workspaces:StopWorkspaces"},
        ),
    ],
)
def test_every_member_session_carries_the_session_policy_of_its_function_and_settings(
    aws, deploy, two_by_two, parameters, changes
):
    stack = deploy(Regions="us-east-1", MemberAccounts=MEMBER, **parameters)
    run_daily(stack.state_machine, NOW)

    assumed = [
        r for r in sts_backends[MEMBER]["aws"].assumed_roles if r.session_name.startswith("ws-autopilot-")
    ]
    by_session = {r.session_name: set(json.loads(r.policy)["Statement"][0]["Action"]) for r in assumed}
    assert by_session["ws-autopilot-list-directories"] == {"workspaces:DescribeWorkspaceDirectories"}
    optimizer = by_session[OPTIMIZER_SESSION]
    assert {a for a in optimizer if not a.split(":")[1].startswith(("Describe", "Get"))} == changes


def test_clients_are_made_once_per_account_region_and_a_remade_one_keeps_its_rate_limit(
    aws, two_by_two, monkeypatch, virtual_time
):
    monkeypatch.setattr(accounts, "CLIENTS_KEPT", 2)
    # 0.01 requests/s: a token takes 100 s (virtual) to come back, whatever real time the test takes
    sessions = AccountSessions(FUNCTION_ARN, "Member", "ext", api_rate=0.01, api_burst=1, access=LISTING)
    first, other = Target(MEMBER, "us-east-1"), Target(MEMBER, "eu-west-1")
    made = sessions.client("workspaces", first)
    assert sessions.client("workspaces", first) is made, "a warm container reuses its clients"
    made.describe_workspace_directories()  # takes the pair's only token
    sessions.client("workspaces", other)
    sessions.client("cloudwatch", other)  # a third client: the least recently used one goes
    remade = sessions.client("workspaces", first)
    assert remade is not made
    started = virtual_time.now()
    remade.describe_workspace_directories()
    assert virtual_time.now() - started >= 50, "the pair's token bucket outlived its client"


def test_the_products_own_clients_are_shared_until_a_cold_start(aws):
    assert client("s3") is client("s3", region_name=None)
    assert client("s3", region_name="eu-west-1") is not client("s3")
    assert client("s3", own=True) is not client("s3")
    kept = client("s3")
    forget_clients()
    assert client("s3") is not kept


@pytest.mark.parametrize(("partition", "region"), [("aws-us-gov", "us-gov-west-1"), ("aws-cn", "cn-north-1")])
def test_a_member_session_in_another_partition_assumes_that_partitions_role_under_the_functions_name(
    aws, partition, region
):
    function_arn = f"arn:{partition}:lambda:{region}:{ACCOUNT}:function:autopilot-LoginEventsFunction-0123"
    access = read_only(MemberFunction.LOGIN_EVENTS)
    sts = client("sts", region_name=region)
    sessions = AccountSessions(
        function_arn, "Member", "ext", api_rate=100, api_burst=100, access=access, sts_client=sts
    )
    sessions.client("workspaces", Target(MEMBER, region))  # the role is assumed when the client is made
    (assumed,) = [
        r for r in sts_backends[MEMBER][partition].assumed_roles if r.session_name.startswith("ws-autopilot-")
    ]
    assert (assumed.role_arn, assumed.session_name) == (
        f"arn:{partition}:iam::{MEMBER}:role/Member",
        "ws-autopilot-login-events",
    )
    assert json.loads(assumed.policy)["Statement"][0]["Action"] == ["workspaces:DescribeWorkspaces"]
