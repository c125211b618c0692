"""Login storms: user names come from the map the daily run keeps, the WorkSpaces API is called
only for WorkSpaces it has not listed, under one budget shared by every invocation, and a login
stored without a user name gets it later."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from tests.conftest import ACCOUNT, REGION
from tests.integration.conftest import read_report
from tests.support import fleet, simulator
from tests.support.lambda_runtime import FakeContext, load_handler_module
from tests.support.logins import access_event
from tools.local_run import FREEZE_IGNORE, run_daily
from ws_autopilot.aws.workspace_users import WorkspaceUserMap
from ws_autopilot.core.errors import TransientAwsError
from ws_autopilot.core.models import Target
from ws_autopilot.logins.events import parse_access_event
from ws_autopilot.logins.lookup_budget import LookupBudget
from ws_autopilot.logins.policy import Login
from ws_autopilot.logins.store import LoginStore
from ws_autopilot.logins.user_names import UserNameCache, UserNames

RUN = datetime(2026, 11, 29, 21, 5, tzinfo=UTC)  # the daily run before the storm
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)  # on a minute: the start of a budget slot
HOME = Target(ACCOUNT, REGION)
MEMBER = "222222222222"


@pytest.fixture(autouse=True)
def clock():
    # handlers are loaded under a frozen clock, so that every container reads the one it is given
    with freeze_time(NOW, ignore=FREEZE_IGNORE):
        yield


def login(workspace_id, directory_id, event_id, account=ACCOUNT):
    return access_event(workspace_id, directory_id, event_id, NOW, account=account)


def deliver(handler, event, at):
    with freeze_time(at, ignore=FREEZE_IGNORE):
        return handler(event, FakeContext())


def describe_calls():
    return simulator.CALLS[("workspaces", "DescribeWorkspaces")]


def table(aws, stack, name):
    found = aws["dynamodb"].scan(TableName=stack.refs[name])["Items"]
    return {
        i["sk"]["S"] if "sk" in i else i["id"]["S"]: {k: next(iter(v.values())) for k, v in i.items()}
        for i in found
    }


def logins(aws, stack):
    return {i["event_id"]: i for k, i in table(aws, stack, "LoginTable").items() if k.startswith("LOGIN#")}


def test_the_daily_run_maps_every_listed_workspace_and_their_logins_call_no_workspaces_api(
    aws, deploy, make_fleet
):
    workspaces = make_fleet({"alice": {"mode": "AUTO_STOP"}, "bob": {"mode": "ALWAYS_ON"}}, RUN)
    stack = deploy()
    run_daily(stack.state_machine, RUN)

    mapped = table(aws, stack, "WorkspaceUserTable")
    assert {k: i["user_name"] for k, i in mapped.items()} == {
        f"USER#{ACCOUNT}#{REGION}#{workspaces.ids['alice']}": "user-alice",
        f"USER#{ACCOUNT}#{REGION}#{workspaces.ids['bob']}": "user-bob",
    }
    assert {int(i["expires_at"]) for i in mapped.values()} == {int((RUN + timedelta(days=7)).timestamp())}
    before = describe_calls()
    out = deliver(
        stack.handlers["LoginEventsFunction"],
        login(workspaces.ids["alice"], workspaces.directory_id, "m-1"),
        NOW,
    )
    assert (out["user_name_source"], describe_calls() - before) == ("map", 0)
    assert logins(aws, stack)["m-1"]["user_name"] == "user-alice"


def test_lookups_share_one_budget_across_containers_and_take_waiting_workspaces_along(
    aws, deploy, make_fleet
):
    workspaces = make_fleet({name: {"mode": "AUTO_STOP"} for name in ("a", "b", "c")}, NOW)
    stack = deploy(LoginLookupsPerMinute="1")
    first = stack.handlers["LoginEventsFunction"]
    second = load_handler_module("login_events").handler  # another container: its own memory
    ids, directory = workspaces.ids, workspaces.directory_id
    before = describe_calls()

    out_a = deliver(first, login(ids["a"], directory, "e-a"), NOW)
    out_b = deliver(second, login(ids["b"], directory, "e-b"), NOW + timedelta(seconds=10))
    stored_b = dict(logins(aws, stack)["e-b"])
    out_c = deliver(second, login(ids["c"], directory, "e-c"), NOW + timedelta(seconds=70))

    assert [o["user_name_source"] for o in (out_a, out_b, out_c)] == ["lookup", "none", "lookup"]
    assert describe_calls() - before == 2  # the second call found c and the waiting b together
    assert "user_name" not in stored_b
    assert {e: i["user_name"] for e, i in logins(aws, stack).items()} == {
        "e-a": "user-a",
        "e-b": "user-b",
        "e-c": "user-c",
    }
    users = table(aws, stack, "WorkspaceUserTable")
    assert not [k for k in users if k.startswith("WAIT#")]
    assert table(aws, stack, "LoginTable")[f"LAST#{ACCOUNT}#{REGION}"]["user_name"] in {
        "user-a",
        "user-b",
        "user-c",
    }


def test_each_account_and_region_has_its_own_budget(aws, deploy, make_fleet):
    home = make_fleet({"a": {"mode": "AUTO_STOP"}}, NOW)
    clients = fleet.clients_in(MEMBER, ACCOUNT, REGION, ("workspaces", "ec2", "ds"))
    member_directory = fleet.create_directory(clients, "member")
    (member_ws,) = fleet.create_workspaces(
        clients, member_directory, [{"user": "m", "compute_type": "STANDARD", "running_mode": "AUTO_STOP"}]
    )
    stack = deploy(LoginLookupsPerMinute="1", MemberAccounts=MEMBER)
    handler = stack.handlers["LoginEventsFunction"]

    out_home = deliver(handler, login(home.ids["a"], home.directory_id, "h-1"), NOW)
    out_member = deliver(handler, login(member_ws, member_directory, "m-1", account=MEMBER), NOW)

    assert (out_home["user_name_source"], out_member["user_name_source"]) == ("lookup", "lookup")


def test_a_login_stored_without_a_user_name_gets_it_at_the_next_login_after_the_daily_run(
    aws, deploy, make_fleet
):
    workspaces = make_fleet({"alice": {"mode": "AUTO_STOP"}}, NOW)
    stack = deploy(LoginLookupsPerMinute="0")  # user names from the daily run only
    handler, alice = stack.handlers["LoginEventsFunction"], workspaces.ids["alice"]
    before = describe_calls()

    first = deliver(handler, login(alice, workspaces.directory_id, "n-1"), NOW)
    assert "user_name" not in logins(aws, stack)["n-1"]
    assert f"WAIT#{ACCOUNT}#{REGION}#{alice}" in table(aws, stack, "WorkspaceUserTable")
    login_calls = describe_calls() - before
    run_daily(stack.state_machine, NOW.replace(hour=21, minute=5))
    second = deliver(handler, login(alice, workspaces.directory_id, "n-2"), NOW + timedelta(days=1))

    assert (first["user_name_source"], second["user_name_source"], login_calls) == ("none", "map", 0)
    assert {e: i["user_name"] for e, i in logins(aws, stack).items()} == {
        "n-1": "user-alice",
        "n-2": "user-alice",
    }
    assert f"WAIT#{ACCOUNT}#{REGION}#{alice}" not in table(aws, stack, "WorkspaceUserTable")
    assert table(aws, stack, "LoginTable")[f"LAST#{ACCOUNT}#{REGION}"]["user_name"] == "user-alice"


def test_an_event_retried_after_a_failure_is_stored_once_with_the_user_name_found_meanwhile(
    aws, deploy, make_fleet, alert_inbox
):
    workspaces = make_fleet({"alice": {"mode": "AUTO_STOP"}}, NOW)
    stack = deploy(LoginLookupsPerMinute="0", AllowedClientNetworks="203.0.113.0/24")
    inbox = alert_inbox(stack)
    handler, alice = stack.handlers["LoginEventsFunction"], workspaces.ids["alice"]
    event = login(alice, workspaces.directory_id, "r-1")

    outage = simulator.Fault("sns", "Publish", "InternalError", status=500)
    with simulator.inject(outage), pytest.raises(TransientAwsError, match="Publish"):
        deliver(handler, event, NOW)
    # meanwhile another invocation's lookup maps the WorkSpace
    WorkspaceUserMap(stack.refs["WorkspaceUserTable"], aws["dynamodb"]).put(HOME, {alice: "user-alice"})
    retried = deliver(handler, json.loads(json.dumps(event)), NOW + timedelta(minutes=1))

    assert (retried["user_name_source"], retried["alerts"]) == ("map", ["outside_allowed_networks"])
    assert list(logins(aws, stack)) == ["r-1"] and logins(aws, stack)["r-1"]["user_name"] == "user-alice"
    assert f"WAIT#{ACCOUNT}#{REGION}#{alice}" not in table(aws, stack, "WorkspaceUserTable")
    (alert,) = inbox(NOW + timedelta(minutes=1))
    assert json.loads(alert["Message"])["user_name"] == "user-alice"


def test_a_waiting_workspace_that_no_longer_exists_leaves_the_waiting_list(aws, deploy, make_fleet):
    workspaces = make_fleet({"alice": {"mode": "AUTO_STOP"}}, NOW)
    stack = deploy(LoginLookupsPerMinute="1")
    handler, gone = stack.handlers["LoginEventsFunction"], "ws-gone00000"
    before = describe_calls()

    first = deliver(handler, login(gone, workspaces.directory_id, "g-1"), NOW)
    second = deliver(
        handler, login(workspaces.ids["alice"], workspaces.directory_id, "g-2"), NOW + timedelta(minutes=1)
    )

    assert (first["user_name_source"], second["user_name_source"]) == ("none", "lookup")
    assert describe_calls() - before == 2
    assert not [k for k in table(aws, stack, "WorkspaceUserTable") if k.startswith("WAIT#")]
    assert "user_name" not in logins(aws, stack)["g-1"]


def test_a_login_stored_while_a_lookup_maps_its_workspace_is_filled_in_at_once(aws, deploy):
    stack = deploy()
    store = LoginStore(stack.refs["LoginTable"], aws["dynamodb"])
    users = WorkspaceUserMap(stack.refs["WorkspaceUserTable"], aws["dynamodb"])

    def no_lookup(target):
        raise AssertionError("no WorkSpaces call expected")

    names = UserNames(
        users,
        LookupBudget(stack.refs["WorkspaceUserTable"], 0, aws["dynamodb"]),
        store,
        no_lookup,
        UserNameCache(),
    )
    event = login("ws-carol0000", "d-0123456789", "race-1")
    nameless = Login.from_event(parse_access_event(event), None)
    assert names.resolve(HOME, nameless.workspace_id, None).user_name is None
    store.put_login(nameless, [], int((NOW + timedelta(days=1)).timestamp()))
    store.update_last_login(nameless, int((NOW + timedelta(days=1)).timestamp()))
    # another invocation's lookup maps the WorkSpace and settles what it saw waiting: nothing yet
    users.put(HOME, {nameless.workspace_id: "carol"})
    assert names.settle(HOME, nameless.workspace_id, "carol") == 0

    late = names.wait(HOME, nameless.workspace_id, LoginStore.login_sort_key(nameless), NOW.isoformat())

    assert late == "carol"
    assert logins(aws, stack)["race-1"]["user_name"] == "carol"
    assert not [k for k in table(aws, stack, "WorkspaceUserTable") if k.startswith("WAIT#")]


def test_a_failing_map_write_does_not_stop_the_daily_run(aws, deploy, make_fleet):
    make_fleet({"alice": {"mode": "AUTO_STOP"}, "bob": {"mode": "AUTO_STOP"}}, RUN)
    stack = deploy()
    with simulator.inject(simulator.Fault("dynamodb", "BatchWriteItem", "InternalServerError", status=500)):
        output, _ = run_daily(stack.state_machine, RUN)

    rows, summary = read_report(aws["s3"], output)
    assert len([r for r in rows if r["workspace_id"]]) == 2 and summary["failed"] == []
    assert not [k for k in table(aws, stack, "WorkspaceUserTable") if k.startswith("USER#")]
