"""Login events end to end: the handler against the simulator's DynamoDB, SNS and WorkSpaces."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from tests.conftest import ACCOUNT, REGION
from tests.support import simulator
from tests.support.lambda_runtime import FakeContext, load_event
from tests.support.logins import access_event
from tools.local_run import FREEZE_IGNORE
from ws_autopilot.core.errors import InvalidLoginEvent

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
HANDLED = NOW + timedelta(hours=5)  # just after the latest login these tests send


@pytest.fixture(autouse=True)
def clock():
    """The handler runs, and the alert inbox is read, at HANDLED."""
    with freeze_time(HANDLED, ignore=FREEZE_IGNORE):
        yield


@pytest.fixture
def workspace(make_fleet):
    fleet = make_fleet({"alice": {"mode": "AUTO_STOP"}}, NOW)
    return fleet.ids["alice"], fleet.directory_id


def login(workspace, event_id="ev-1", ip="198.51.100.23", at=NOW, name="login_current"):
    workspace_id, directory_id = workspace
    return access_event(workspace_id, directory_id, event_id, at, ip=ip, sample=name)


def stored_logins(aws, stack, workspace_id):
    items = aws["dynamodb"].query(
        TableName=stack.refs["LoginTable"],
        KeyConditionExpression="workspace_id = :w AND begins_with(sk, :p)",
        ExpressionAttributeValues={":w": {"S": workspace_id}, ":p": {"S": "LOGIN#"}},
    )["Items"]
    return [{k: next(iter(v.values())) for k, v in item.items()} for item in items]


def test_a_login_is_stored_with_its_user_name_and_expiry(aws, deploy, workspace):
    stack = deploy(LoginRetentionDays="30")
    out = stack.handlers["LoginEventsFunction"](login(workspace), FakeContext())

    (item,) = stored_logins(aws, stack, workspace[0])
    assert out == {
        "event_id": "ev-1",
        "account_id": ACCOUNT,
        "region": REGION,
        "workspace_id": workspace[0],
        "user_name_resolved": True,
        "user_name_source": "lookup",
        "alerts": [],
        "alerts_held_back": [],
    }
    assert (item["user_name"], item["directory_id"], item["client_ip"]) == (
        "user-alice",
        workspace[1],
        "198.51.100.23",
    )
    assert (item["account_id"], item["region"]) == (ACCOUNT, REGION)
    assert (item["client_platform"], item["client_version"]) == ("Windows", "5.19.0.5010")
    assert int(item["expires_at"]) == int((NOW + timedelta(days=30)).timestamp())
    by_date = aws["dynamodb"].query(
        TableName=stack.refs["LoginTable"],
        IndexName="by-date",
        KeyConditionExpression="login_date = :d",
        ExpressionAttributeValues={":d": {"S": "2026-11-30"}},
    )["Items"]
    assert [i["event_id"]["S"] for i in by_date] == ["ev-1"]


def test_the_last_login_moves_forward_only(aws, deploy, workspace):
    stack = deploy()
    handler = stack.handlers["LoginEventsFunction"]
    handler(login(workspace, "late", at=NOW), FakeContext())
    handler(login(workspace, "early", at=NOW - timedelta(hours=5)), FakeContext())
    last = aws["dynamodb"].get_item(
        TableName=stack.refs["LoginTable"],
        Key={"workspace_id": {"S": workspace[0]}, "sk": {"S": f"LAST#{ACCOUNT}#{REGION}"}},
    )["Item"]
    assert last["login_time"]["S"] == NOW.isoformat()
    assert last["user_name"]["S"] == "user-alice"


def test_a_duplicate_delivery_is_stored_once_and_alerts_once(aws, deploy, workspace, alert_inbox):
    stack = deploy(AllowedClientNetworks="203.0.113.0/24")
    inbox = alert_inbox(stack)
    event = login(workspace, "dup-1")

    first = stack.handlers["LoginEventsFunction"](event, FakeContext())
    second = stack.handlers["LoginEventsFunction"](json.loads(json.dumps(event)), FakeContext())

    assert first == second
    assert len(stored_logins(aws, stack, workspace[0])) == 1
    assert len(inbox(HANDLED)) == 1


def test_a_login_from_outside_the_allow_list_alerts_with_who_where_and_how(
    aws, deploy, workspace, alert_inbox
):
    stack = deploy(AllowedClientNetworks="203.0.113.0/24, 2001:db8::/32")
    inbox = alert_inbox(stack)

    out = stack.handlers["LoginEventsFunction"](login(workspace, ip="198.51.100.23"), FakeContext())

    (message,) = inbox(HANDLED)
    body = json.loads(message["Message"])
    assert out["alerts"] == ["outside_allowed_networks"]
    assert message["Subject"] == "WorkSpaces login from outside the allowed networks"
    assert message["MessageAttributes"]["alert_type"]["Value"] == "outside_allowed_networks"
    assert (body["user_name"], body["workspace_id"], body["client_ip"]) == (
        "user-alice",
        workspace[0],
        "198.51.100.23",
    )
    assert (body["client_platform"], body["client_product"]) == ("Windows", "WorkSpaces Desktop client")
    assert stored_logins(aws, stack, workspace[0])[0]["alerts"] == ["outside_allowed_networks"]


@pytest.mark.parametrize("ip", ["203.0.113.200", "2001:db8:ffff::1"])
def test_a_login_from_inside_the_allow_list_does_not_alert(aws, deploy, workspace, alert_inbox, ip):
    stack = deploy(AllowedClientNetworks="203.0.113.0/24,2001:db8::/32")
    inbox = alert_inbox(stack)
    assert stack.handlers["LoginEventsFunction"](login(workspace, ip=ip), FakeContext())["alerts"] == []
    assert inbox(HANDLED) == []


def test_an_empty_ip_alerts_while_an_allow_list_is_set(aws, deploy, workspace, alert_inbox):
    stack = deploy(AllowedClientNetworks="203.0.113.0/24")
    inbox = alert_inbox(stack)
    out = stack.handlers["LoginEventsFunction"](login(workspace, ip="", name="login_empty_ip"), FakeContext())
    assert out["alerts"] == ["no_client_ip"]
    assert json.loads(inbox(HANDLED)[0]["Message"])["client_ip"] == "(empty)"


def test_a_describe_workspaces_failure_still_stores_the_login_and_sends_the_alert(
    aws, deploy, workspace, alert_inbox
):
    stack = deploy(AllowedClientNetworks="203.0.113.0/24")
    inbox = alert_inbox(stack)

    with simulator.inject(simulator.Fault("workspaces", "DescribeWorkspaces", "AccessDeniedException")):
        out = stack.handlers["LoginEventsFunction"](login(workspace), FakeContext())

    (item,) = stored_logins(aws, stack, workspace[0])
    assert out["user_name_resolved"] is False
    assert "user_name" not in item
    assert json.loads(inbox(HANDLED)[0]["Message"])["user_name"] == "(not resolved)"


def test_a_burst_of_logins_resolves_the_user_name_once(aws, deploy, workspace):
    stack = deploy()
    before = simulator.CALLS[("workspaces", "DescribeWorkspaces")]
    for i in range(5):
        stack.handlers["LoginEventsFunction"](
            login(workspace, f"burst-{i}", at=NOW + timedelta(minutes=i)), FakeContext()
        )
    assert simulator.CALLS[("workspaces", "DescribeWorkspaces")] - before == 1
    assert {i["user_name"] for i in stored_logins(aws, stack, workspace[0])} == {"user-alice"}


def test_a_malformed_event_goes_to_failure_handling_and_stores_nothing(aws, deploy, workspace):
    stack = deploy()
    with pytest.raises(InvalidLoginEvent, match=r"detail\.workspaceId"):
        stack.handlers["LoginEventsFunction"](load_event("login_malformed"), FakeContext())
    assert aws["dynamodb"].scan(TableName=stack.refs["LoginTable"])["Count"] == 0
    # and the next event is processed normally
    assert stack.handlers["LoginEventsFunction"](login(workspace), FakeContext())["alerts"] == []


def test_new_network_detector_learns_a_first_network_and_alerts_on_the_next(
    aws, deploy, workspace, alert_inbox
):
    stack = deploy(NewNetworkAlerts="true")
    inbox = alert_inbox(stack)
    handler = stack.handlers["LoginEventsFunction"]

    first = handler(login(workspace, "n1", ip="198.51.100.23", at=NOW), FakeContext())
    same_net = handler(login(workspace, "n2", ip="198.51.100.99", at=NOW + timedelta(hours=1)), FakeContext())
    other_net = handler(login(workspace, "n3", ip="192.0.2.10", at=NOW + timedelta(hours=2)), FakeContext())
    v6 = handler(login(workspace, "n4", ip="2001:db8:1::1", at=NOW + timedelta(hours=3)), FakeContext())
    v6_same = handler(
        login(workspace, "n5", ip="2001:db8:1:ff::2", at=NOW + timedelta(hours=4)), FakeContext()
    )

    assert [first["alerts"], same_net["alerts"], other_net["alerts"], v6["alerts"], v6_same["alerts"]] == [
        [],
        [],
        ["new_network"],
        ["new_network"],
        [],
    ]
    assert [json.loads(m["Message"])["client_network"] for m in inbox(HANDLED)] == [
        "192.0.2.0/24",
        "2001:db8:1::/48",
    ]


def test_new_network_detector_is_off_by_default(aws, deploy, workspace):
    stack = deploy()
    handler = stack.handlers["LoginEventsFunction"]
    handler(login(workspace, "a", ip="198.51.100.23"), FakeContext())
    assert (
        handler(login(workspace, "b", ip="192.0.2.10", at=NOW + timedelta(hours=1)), FakeContext())["alerts"]
        == []
    )
