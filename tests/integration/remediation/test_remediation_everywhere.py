"""Remediation in every covered account and region (issue 12): the optimizer's accounts and
regions, each pair with its own WorkSpaces rate, member accounts through their role, one reboot
cap and one reboot-limit message per scan, and a pair that cannot be read never stopping the others."""

import json
import sys
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from freezegun import freeze_time
from moto.sts.models import sts_backends

from tests.conftest import ACCOUNT
from tests.integration.cost.test_accounts_and_regions import (
    SERVICES,
    max_rate_excess,
    workspaces_calls_by_target,
)
from tests.support import fleet, simulator
from tests.support.lambda_runtime import FakeContext
from tests.support.remediation import alerts_of
from tools.local_run import FREEZE_IGNORE
from ws_autopilot.aws.organization import OrganizationAccounts
from ws_autopilot.core.errors import PermanentAwsError
from ws_autopilot.core.models import Target
from ws_autopilot.core.settings import CoverageSettings
from ws_autopilot.remediation.scan import Coverage

T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
MEMBER = "222222222222"
REGIONS = ("us-east-1", "eu-west-1")
PAIRS = [(a, r) for a in (ACCOUNT, MEMBER) for r in REGIONS]
EVERYWHERE = {"DryRun": "false", "Remediation": "On", "Regions": ",".join(REGIONS), "MemberAccounts": MEMBER}


class Pair:
    """One account and region's directory of 20 WorkSpaces in the simulator."""

    def __init__(self, account: str, region: str) -> None:
        self.account, self.region = account, region
        clients = fleet.clients_in(account, ACCOUNT, region, SERVICES)
        self.directory_id = fleet.create_directory(clients, f"corp-{region}")
        self.ids = fleet.create_workspaces(
            clients,
            self.directory_id,
            [
                {"user": f"user{i}", "compute_type": "STANDARD", "running_mode": "AUTO_STOP"}
                for i in range(20)
            ],
        )

    def unhealthy(self, count: int, at: datetime) -> list[str]:
        for workspace_id in self.ids[:count]:
            simulator.set_state(self.account, self.region, workspace_id, "UNHEALTHY")
        fleet.report_unhealthy(self.account, self.region, self.directory_id, count, at - 5 * MIN)
        return self.ids[:count]

    def state(self, workspace_id: str) -> str:
        return str(simulator.workspace(self.account, self.region, workspace_id).state)


@pytest.fixture
def pairs(aws):
    return {(account, region): Pair(account, region) for account, region in PAIRS}


def scan(stack, at, context=None):
    with freeze_time(at, ignore=FREEZE_IGNORE):
        return stack.handlers["RemediateFunction"]({}, context or FakeContext())


def test_every_covered_account_and_region_is_remediated_and_says_where(aws, deploy, pairs, alert_inbox):
    stack = deploy(**EVERYWHERE)
    received = alert_inbox(stack)
    sick = {key: pair.unhealthy(1, T0)[0] for key, pair in pairs.items()}

    first = scan(stack, T0)
    assert first["targets"] == [f"{a}/{r}" for a, r in PAIRS]
    assert first["counts"] == {"observe": 4}
    done = scan(stack, T0 + 30 * MIN)

    assert done["counts"] == {"reboot": 4}
    assert sorted((o["account_id"], o["region"], o["workspace_id"]) for o in done["outcomes"]) == sorted(
        (a, r, w) for (a, r), w in sick.items()
    )
    for key, workspace_id in sick.items():
        assert pairs[key].state(workspace_id) == "REBOOTING"
    alerts = alerts_of(received, T0 + 30 * MIN)
    assert sorted((a.body["account_id"], a.body["region"], a.body["workspace_id"]) for a in alerts) == sorted(
        (a, r, w) for (a, r), w in sick.items()
    )
    assert all(f"{a.body['account_id']}/{a.body['region']}" in a.subject for a in alerts)
    items = aws["dynamodb"].scan(TableName=stack.refs["RemediationTable"])["Items"]
    assert sorted(i["pk"]["S"] for i in items if "workspace_id" in i) == sorted(
        f"{a}#{r}#{w}" for (a, r), w in sick.items()
    )


def test_an_unreachable_member_account_is_reported_and_the_others_are_remediated(aws, deploy, pairs):
    stack = deploy(**EVERYWHERE)
    for pair in pairs.values():
        pair.unhealthy(1, T0)
    with simulator.inject(simulator.Fault("sts", "AssumeRole", "AccessDenied")):
        scan(stack, T0)
        result = scan(stack, T0 + 30 * MIN)

    assert result["failed"] == {f"{MEMBER}/{r}": "AssumeRole failed: AccessDenied" for r in REGIONS}
    assert result["counts"] == {"reboot": 2}
    assert {o["account_id"] for o in result["outcomes"]} == {ACCOUNT}


def test_a_denied_region_is_reported_and_the_others_are_remediated(aws, deploy, pairs):
    stack = deploy(**EVERYWHERE)
    for pair in pairs.values():
        pair.unhealthy(1, T0)
    denied = simulator.Fault(
        "workspaces", "DescribeWorkspaceDirectories", "AccessDeniedException", region="eu-west-1"
    )
    with simulator.inject(denied):
        scan(stack, T0)
        result = scan(stack, T0 + 30 * MIN)
    assert set(result["failed"]) == {f"{a}/eu-west-1" for a in (ACCOUNT, MEMBER)}
    assert set(result["failed"].values()) == {"DescribeWorkspaceDirectories failed: AccessDeniedException"}
    assert result["counts"] == {"reboot": 2}


def test_the_reboot_cap_holds_over_every_account_and_region_in_one_message(aws, deploy, pairs, alert_inbox):
    stack = deploy(**EVERYWHERE, MaxRebootsPerRun="2")
    received = alert_inbox(stack)
    early = [
        pairs[(MEMBER, "eu-west-1")].unhealthy(1, T0)[0],
        pairs[(ACCOUNT, "us-east-1")].unhealthy(1, T0)[0],
    ]
    scan(stack, T0)
    late = [pairs[(MEMBER, "us-east-1")].unhealthy(1, T0 + 15 * MIN)[0]]
    late += pairs[(ACCOUNT, "eu-west-1")].unhealthy(1, T0 + 15 * MIN)
    scan(stack, T0 + 15 * MIN)
    result = scan(stack, T0 + 45 * MIN)

    assert result["counts"] == {"reboot": 2, "wait": 2}
    assert sorted(o["workspace_id"] for o in result["outcomes"] if o["action"] == "reboot") == sorted(early)
    limit = [a for a in alerts_of(received, T0 + 45 * MIN) if a.kind == "remediation_reboot_limit"]
    assert len(limit) == 1
    assert sorted(w["workspace_id"] for w in limit[0].body["held_back"]) == sorted(late)
    assert {(w["account_id"], w["region"]) for w in limit[0].body["held_back"]} == {
        (MEMBER, "us-east-1"),
        (ACCOUNT, "eu-west-1"),
    }
    assert scan(stack, T0 + 60 * MIN)["counts"] == {"reboot": 2, "wait": 2}  # the two held back
    assert [a.kind for a in alerts_of(received, T0 + 60 * MIN)].count("remediation_reboot_limit") == 0


def test_each_account_and_region_keeps_to_the_remediation_rate(aws, deploy, pairs, virtual_time, monkeypatch):
    stack = deploy(**EVERYWHERE, RemediationApiRate="0.5", BreakerPercent="100", MaxRebootsPerRun="100")
    # One worker: the virtual clock is shared by every thread, so only then do the calls' times
    # show each pair's own waits.
    monkeypatch.setattr(sys.modules[stack.handlers["RemediateFunction"].__module__], "WORKERS", 1)
    virtual_time.stop_following_real_time()  # the calls' times are the limiter's alone
    for pair in pairs.values():
        pair.unhealthy(12, T0)  # pages, connection status, tags and a reboot call: more than the burst
    first_call = len(simulator.CALL_LOG)
    scan(stack, T0)
    scan(stack, T0 + 30 * MIN)

    by_target = workspaces_calls_by_target(since=first_call)
    assert set(by_target) == set(PAIRS)
    for calls in by_target.values():
        assert len(calls) > 10
        assert max_rate_excess(calls, rate=0.5, burst=2) <= 0.01


def test_dry_run_reaches_member_accounts_with_the_session_policy_and_reboots_nothing(aws, deploy, pairs):
    stack = deploy(**{**EVERYWHERE, "DryRun": "true"})
    for pair in pairs.values():
        pair.unhealthy(1, T0)
    scan(stack, T0)
    assert scan(stack, T0 + 30 * MIN)["counts"] == {"reboot": 4}
    assert simulator.CALLS[("workspaces", "RebootWorkspaces")] == 0
    assumed = [
        r for r in sts_backends[MEMBER]["aws"].assumed_roles if r.session_name == "ws-autopilot-remediate"
    ]
    assert len(assumed) == 1, "one session per member account, kept between scans"
    (allow,) = json.loads(assumed[0].policy)["Statement"]
    assert allow["Effect"] == "Allow"
    assert not {"workspaces:RebootWorkspaces", "workspaces:RebuildWorkspaces"} & set(allow["Action"])


def test_a_scan_short_of_time_starts_no_pair_and_says_so(aws, deploy, pairs):
    stack = deploy(**EVERYWHERE)
    for pair in pairs.values():
        pair.unhealthy(1, T0)
    result = scan(stack, T0, FakeContext(remaining_ms=[59_000]))
    assert result["counts"] == {}
    assert set(result["failed"].values()) == {"not scanned: the scan ran short of time"}
    assert len(result["failed"]) == 4


def test_regions_where_workspaces_is_not_offered_are_skipped_without_a_call(aws, deploy):
    stack = deploy(Regions="us-east-1,xx-nowhere-1")
    result = scan(stack, T0)
    assert result["targets"] == [f"{ACCOUNT}/us-east-1"]
    assert result["skipped"] == {f"{ACCOUNT}/xx-nowhere-1": "WorkSpaces is not offered in this region"}
    assert {c.region for c in simulator.CALL_LOG if c.service == "workspaces"} <= {"us-east-1"}


def test_accounts_found_in_the_organization_are_covered_and_looked_up_hourly(aws):
    org = boto3.client("organizations", region_name="us-east-1")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    found = org.create_account(AccountName="branch", Email="branch@example.com")["CreateAccountStatus"]
    settings = CoverageSettings(("us-east-1",), (), (root,), "Member", "ext")
    coverage = Coverage(ACCOUNT, settings, ["us-east-1"], lambda: OrganizationAccounts(org))
    before = simulator.CALLS[("organizations", "ListAccountsForParent")]

    targets, _ = coverage.targets(T0)
    assert Target(found["AccountId"], "us-east-1") in targets and targets[0] == Target(ACCOUNT, "us-east-1")
    coverage.targets(T0 + 59 * MIN)
    assert simulator.CALLS[("organizations", "ListAccountsForParent")] - before == 1
    with simulator.inject(
        simulator.Fault("organizations", "ListAccountsForParent", "TooManyRequestsException")
    ):
        kept, _ = coverage.targets(T0 + 61 * MIN)
    assert kept == targets, "the last accounts found are kept while the organization cannot be read"


def test_an_unreadable_organization_at_cold_start_still_covers_the_listed_accounts(aws):
    settings = CoverageSettings(("us-east-1",), (MEMBER,), ("r-abcd",), "Member", "ext")

    def unreadable() -> OrganizationAccounts:
        raise PermanentAwsError("ListAccountsForParent", "AccessDeniedException")

    targets, _ = Coverage(ACCOUNT, settings, ["us-east-1"], unreadable).targets(T0)
    assert targets == [Target(ACCOUNT, "us-east-1"), Target(MEMBER, "us-east-1")]


def test_a_directory_whose_listing_runs_short_of_time_is_left_whole_for_the_next_scan(
    aws, deploy, make_fleet
):
    from ws_autopilot.aws.fleet import WorkspacesFleet
    from ws_autopilot.aws.notifications import Notifier
    from ws_autopilot.aws.usage import UsageMetrics
    from ws_autopilot.remediation.remediator import Remediator
    from ws_autopilot.remediation.settings import RemediationConfig
    from ws_autopilot.remediation.store import RemediationStore

    office = make_fleet({f"u{i:02d}": {"mode": "AUTO_STOP"} for i in range(60)}, T0)  # 3 pages
    stack = deploy(DryRun="false")
    first = sorted(office.ids.values())[0]
    simulator.set_state(ACCOUNT, "us-east-1", first, "UNHEALTHY")
    fleet.report_unhealthy(ACCOUNT, "us-east-1", office.directory_id, 1, T0 - 5 * MIN)
    assert scan(stack, T0)["counts"] == {"observe": 1}
    config = RemediationConfig.from_env()
    remediator = Remediator(
        config.policy,
        WorkspacesFleet(),
        UsageMetrics(),
        RemediationStore(config.table_name),
        Notifier(config.alert_topic_arn),
        Target(ACCOUNT, "us-east-1"),
    )
    answers = iter([True, True, False])  # before the listing, after page 1, after page 2
    with freeze_time(T0 + 30 * MIN, ignore=FREEZE_IGNORE):
        plan = remediator.plan(T0 + 30 * MIN, time_left=lambda: next(answers))

    assert plan.unfinished == [office.directory_id]
    assert (plan.items, plan.vanished, plan.directories) == ([], [], {})
    assert scan(stack, T0 + 30 * MIN)["counts"] == {"reboot": 1}  # the next scan, with time, acts
