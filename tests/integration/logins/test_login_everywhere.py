"""Login events from every covered account and region: forwarded events are recorded with their
account and region, user names come through the member role, and events from anywhere else are
refused in code as the bus policy refuses them."""

import json
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from freezegun import freeze_time
from moto.sts.models import sts_backends

from tests.conftest import ACCOUNT, REGION
from tests.support import fleet
from tests.support.lambda_runtime import FakeContext
from tests.support.logins import access_event
from tools.local_run import FREEZE_IGNORE
from ws_autopilot.aws.workspace_users import WorkspaceUserMap
from ws_autopilot.core.errors import UncoveredLoginEvent
from ws_autopilot.core.models import Target

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
MEMBER, OTHER_REGION, STRANGER = "222222222222", "eu-west-1", "999999999999"
SEEDING = ("workspaces", "ec2", "ds")


@pytest.fixture(autouse=True)
def clock():
    with freeze_time(NOW + timedelta(hours=1), ignore=FREEZE_IGNORE):
        yield


def workspace_in(account: str, region: str, user: str) -> tuple[str, str]:
    clients = fleet.clients_in(account, ACCOUNT, region, SEEDING)
    directory_id = fleet.create_directory(clients, f"corp-{account}-{region}")
    (workspace_id,) = fleet.create_workspaces(
        clients, directory_id, [{"user": user, "compute_type": "STANDARD", "running_mode": "AUTO_STOP"}]
    )
    return workspace_id, directory_id


def login(account, region, workspace_id, directory_id, event_id, ip="198.51.100.23", at=NOW):
    return access_event(
        workspace_id,
        directory_id,
        event_id,
        at,
        ip=ip,
        account=account,
        region=region,
        sample="login_forwarded",
    )


def items(aws, stack, table="LoginTable"):
    found = aws["dynamodb"].scan(TableName=stack.refs[table])["Items"]
    return [{k: next(iter(v.values())) for k, v in item.items()} for item in found]


def test_a_login_forwarded_from_a_member_account_is_recorded_with_its_account_region_and_user(
    aws, deploy, alert_inbox
):
    stack = deploy(
        MemberAccounts=MEMBER,
        Regions=f"{REGION},{OTHER_REGION}",
        AllowedClientNetworks="203.0.113.0/24",
        MemberRoleName="AutopilotMember",
    )
    inbox = alert_inbox(stack)
    workspace_id, directory_id = workspace_in(MEMBER, OTHER_REGION, "marie")

    out = stack.handlers["LoginEventsFunction"](
        login(MEMBER, OTHER_REGION, workspace_id, directory_id, "fw-1"), FakeContext()
    )

    assert (out["account_id"], out["region"], out["user_name_source"]) == (MEMBER, OTHER_REGION, "lookup")
    (record,) = [i for i in items(aws, stack) if i["sk"].startswith("LOGIN#")]
    assert (record["account_id"], record["region"], record["user_name"]) == (MEMBER, OTHER_REGION, "marie")
    assumed = [
        r for r in sts_backends[MEMBER]["aws"].assumed_roles if r.session_name.startswith("ws-autopilot-")
    ]
    assert {(r.role_arn, r.external_id, r.session_name) for r in assumed} == {
        (
            f"arn:aws:iam::{MEMBER}:role/AutopilotMember",
            stack.refs["AWS::StackId"],
            "ws-autopilot-login-events",
        )
    }
    # the login function's member session can only read, whatever DryRun says
    for session in assumed:
        assert json.loads(session.policy)["Statement"][0]["Action"] == ["workspaces:DescribeWorkspaces"]
    (alert,) = inbox(NOW + timedelta(hours=1))
    body = json.loads(alert["Message"])
    assert (body["account_id"], body["region"], body["user_name"]) == (MEMBER, OTHER_REGION, "marie")


@pytest.mark.parametrize(
    ("account", "region", "reason"),
    [
        (STRANGER, REGION, f"account {STRANGER} is not covered"),
        (MEMBER, "ap-southeast-2", "region ap-southeast-2 is not covered"),
    ],
)
def test_an_event_from_an_account_or_region_not_covered_is_refused_and_leaves_no_trace(
    aws, deploy, account, region, reason
):
    stack = deploy(MemberAccounts=MEMBER, Regions=f"{REGION},{OTHER_REGION}")
    event = login(account, region, "ws-abcdef123", "d-0123456789", "stray-1")

    with pytest.raises(UncoveredLoginEvent, match=reason):
        stack.handlers["LoginEventsFunction"](event, FakeContext())

    assert items(aws, stack) == [] and items(aws, stack, "WorkspaceUserTable") == []
    # no idempotency record either: once the account is covered, the dead-lettered event can be
    # sent again and is recorded
    assert items(aws, stack, "IdempotencyTable") == []


def test_accounts_under_the_organization_parents_are_covered_and_others_refused(aws, deploy):
    org = boto3.client("organizations", region_name=REGION)
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    europe = org.create_organizational_unit(ParentId=root, Name="europe")["OrganizationalUnit"]["Id"]
    paris = org.create_organizational_unit(ParentId=europe, Name="paris")["OrganizationalUnit"]["Id"]

    def account(name, parent):
        created = org.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]
        org.move_account(AccountId=created["AccountId"], SourceParentId=root, DestinationParentId=parent)
        return created["AccountId"]

    lyon, elsewhere = account("lyon", paris), account("elsewhere", root)
    stack = deploy(OrganizationParentIds=europe)
    workspace_id, directory_id = workspace_in(lyon, REGION, "jeanne")
    handler = stack.handlers["LoginEventsFunction"]

    out = handler(login(lyon, REGION, workspace_id, directory_id, "org-1"), FakeContext())
    with pytest.raises(UncoveredLoginEvent, match=f"account {elsewhere} is not covered"):
        handler(login(elsewhere, REGION, workspace_id, directory_id, "org-2"), FakeContext())

    assert (out["account_id"], out["user_name_source"]) == (lyon, "lookup")
    assert [i["user_name"] for i in items(aws, stack) if i["sk"].startswith("LOGIN#")] == ["jeanne"]


def test_the_same_workspace_id_in_two_accounts_keeps_its_own_user_history_and_networks(
    aws, deploy, alert_inbox
):
    stack = deploy(MemberAccounts=MEMBER, NewNetworkAlerts="true")
    inbox = alert_inbox(stack)
    users = WorkspaceUserMap(stack.refs["WorkspaceUserTable"], aws["dynamodb"])
    shared = "ws-0a1b2c3d4"
    users.put(Target(ACCOUNT, REGION), {shared: "anna"})
    users.put(Target(MEMBER, REGION), {shared: "bert"})
    handler = stack.handlers["LoginEventsFunction"]

    handler(login(ACCOUNT, REGION, shared, "d-0123456789", "a-1", ip="198.51.100.7"), FakeContext())
    # bert's first login, from another network: his own first login teaches his network
    first_b = handler(
        login(MEMBER, REGION, shared, "d-9876543210", "b-1", ip="192.0.2.7", at=NOW + timedelta(minutes=1)),
        FakeContext(),
    )
    second_a = handler(
        login(ACCOUNT, REGION, shared, "d-0123456789", "a-2", ip="192.0.2.8", at=NOW + timedelta(minutes=2)),
        FakeContext(),
    )

    assert first_b["alerts"] == [] and second_a["alerts"] == ["new_network"]
    logins = {i["event_id"]: i for i in items(aws, stack) if i["sk"].startswith("LOGIN#")}
    assert {e: (i["account_id"], i["user_name"]) for e, i in logins.items()} == {
        "a-1": (ACCOUNT, "anna"),
        "b-1": (MEMBER, "bert"),
        "a-2": (ACCOUNT, "anna"),
    }
    last = {i["sk"]: i["user_name"] for i in items(aws, stack) if i["sk"].startswith("LAST#")}
    assert last == {f"LAST#{ACCOUNT}#{REGION}": "anna", f"LAST#{MEMBER}#{REGION}": "bert"}
    (alert,) = inbox(NOW + timedelta(hours=1))
    assert json.loads(alert["Message"])["user_name"] == "anna"
