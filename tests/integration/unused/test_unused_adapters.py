"""The adapters of the unused check and the monthly digest against the simulator, through real
boto3 clients."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import ACCOUNT, REGION
from tests.support import fleet, simulator
from ws_autopilot.aws.usage import UsageMetrics
from ws_autopilot.core.claims import LedgerStatus
from ws_autopilot.core.errors import AwsCallFailed
from ws_autopilot.core.models import DailyUsage, MetricsUnavailable, Target
from ws_autopilot.logins.policy import Login
from ws_autopilot.logins.store import LoginStore
from ws_autopilot.unused.api import UnusedWorkspacesApi
from ws_autopilot.unused.ledger_store import UnusedLedger
from ws_autopilot.unused.policy import ActionEntry, UnusedPolicy

TARGET = Target(ACCOUNT, REGION)
NOW = datetime(2026, 11, 30, 12, 5, tzinfo=UTC)
START = datetime(2026, 9, 29, tzinfo=UTC)
MONTH_START = datetime(2026, 11, 1, tzinfo=UTC)


def seeded(aws, count: int) -> list[str]:
    directory_id = fleet.create_directory(aws, "corp")
    return fleet.create_workspaces(
        aws,
        directory_id,
        [{"user": f"u{i}", "compute_type": "VALUE", "running_mode": "AUTO_STOP"} for i in range(count)],
    )


def table(aws, name: str) -> str:
    aws["dynamodb"].create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


# -- CloudWatch: the months before this one, daily ---------------------------------------------
def test_the_daily_history_is_read_for_as_many_workspaces_per_call_as_fit(aws):
    ids = [f"ws-{n:08d}" for n in range(600)]
    for n, workspace_id in enumerate(ids[:3]):
        simulator.put_hourly_series(
            ACCOUNT,
            REGION,
            "AWS/WorkSpaces",
            "UserConnected",
            [{"Name": "WorkspaceId", "Value": workspace_id}],
            [(START + timedelta(days=n, hours=9), float(n % 2)), (START + timedelta(days=n, hours=10), 0.0)],
        )
    before = simulator.CALLS[("cloudwatch", "GetMetricData")]

    history = UsageMetrics(aws["cloudwatch"]).daily_connected(ids, START, MONTH_START)

    assert simulator.CALLS[("cloudwatch", "GetMetricData")] - before == 2  # 500 + 100 queries
    assert history[ids[0]] == DailyUsage({START: 0.0})
    assert history[ids[1]] == DailyUsage({START + timedelta(days=1): 1.0})
    assert history[ids[599]] == DailyUsage({})


def test_a_long_window_is_split_so_each_call_stays_under_100800_datapoints(aws):
    start = datetime(2025, 11, 30, tzinfo=UTC)  # 12 months: 336 days
    before = simulator.CALLS[("cloudwatch", "GetMetricData")]
    UsageMetrics(aws["cloudwatch"]).daily_connected([f"ws-{n:08d}" for n in range(400)], start, MONTH_START)
    assert simulator.CALLS[("cloudwatch", "GetMetricData")] - before == 2  # 300 per call


def test_an_unreadable_history_is_named_never_taken_as_no_connection(aws):
    with simulator.inject(simulator.Fault("cloudwatch", "GetMetricData", "AccessDenied")):
        history = UsageMetrics(aws["cloudwatch"]).daily_connected(["ws-1", "ws-2"], START, MONTH_START)
    assert history == {w: MetricsUnavailable("GetMetricData failed: AccessDenied") for w in ("ws-1", "ws-2")}


# -- the login records --------------------------------------------------------------------------
def test_last_login_times_are_read_100_keys_per_call_without_personal_data(aws):
    name = "logins"
    aws["dynamodb"].create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "workspace_id", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "workspace_id", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    store = LoginStore(name, aws["dynamodb"])
    at = datetime(2026, 10, 2, 8, tzinfo=UTC)
    for n in (3, 150):
        login = Login(
            f"e{n}",
            ACCOUNT,
            REGION,
            f"ws-{n:08d}",
            "d-1",
            "alice",
            "198.51.100.7",
            "Windows",
            "WorkSpaces",
            None,
            at,
        )
        store.update_last_login(login, int(at.timestamp()) + 86400)
    before = simulator.CALLS[("dynamodb", "BatchGetItem")]

    times = store.last_login_times(Target(ACCOUNT, REGION), [f"ws-{n:08d}" for n in range(160)])

    assert times == {f"ws-{n:08d}": at.isoformat() for n in (3, 150)}
    assert simulator.CALLS[("dynamodb", "BatchGetItem")] - before == 2
    # the same WorkSpace ids in another account are other WorkSpaces
    assert store.last_login_times(Target("210987654321", REGION), ["ws-00000003"]) == {}


# -- the WorkSpaces API -------------------------------------------------------------------------
def test_connection_statuses_are_asked_25_per_call(aws):
    ids = seeded(aws, 30)
    seen = datetime(2026, 7, 1, 9, tzinfo=UTC)
    simulator.set_connection(ACCOUNT, REGION, ids[0], "CONNECTED", seen)
    before = simulator.CALLS[("workspaces", "DescribeWorkspacesConnectionStatus")]

    statuses = UnusedWorkspacesApi(aws["workspaces"]).connection_statuses(ids)

    assert simulator.CALLS[("workspaces", "DescribeWorkspacesConnectionStatus")] - before == 2
    assert (statuses[ids[0]].state, statuses[ids[0]].last_connection) == ("CONNECTED", seen)
    assert (statuses[ids[1]].state, statuses[ids[1]].last_connection) == ("DISCONNECTED", None)


def test_stop_and_terminate_report_each_refusal_and_a_whole_failed_call(aws):
    ids = seeded(aws, 27)
    simulator.set_state(ACCOUNT, REGION, ids[1], "SUSPENDED")
    api = UnusedWorkspacesApi(aws["workspaces"])

    failed = api.act(UnusedPolicy.TERMINATE, ids[:27])

    assert {w: f.error_code for w, f in failed.items()} == {ids[1]: "InvalidResourceState.WorkspaceState"}
    assert simulator.CALLS[("workspaces", "TerminateWorkspaces")] == 2  # 25 + 2
    with simulator.inject(simulator.Fault("workspaces", "StopWorkspaces", "ThrottlingException", status=400)):
        failed = api.act(UnusedPolicy.STOP, ids[2:4])
    assert {w: f.error_code for w, f in failed.items()} == {
        ids[2]: "ThrottlingException",
        ids[3]: "ThrottlingException",
    }
    with pytest.raises(ValueError):
        api.act(UnusedPolicy.REPORT, ids[:1])


# -- the ledger -----------------------------------------------------------------------------------
def entry(run_id: str, **changes) -> ActionEntry:
    return ActionEntry(
        "ws-1",
        "d-1",
        "2026-11",
        changes.pop("policy", UnusedPolicy.STOP),
        run_id,
        LedgerStatus.CLAIMED,
        NOW,
        **changes,
    )


def test_an_action_is_claimed_once_a_month_completed_or_released_only_by_its_run(aws):
    ledger = UnusedLedger(table(aws, "ledger"), aws["dynamodb"])
    assert ledger.claim(TARGET, entry("A", last_connection=datetime(2026, 7, 1, tzinfo=UTC)))
    assert not ledger.claim(TARGET, entry("B"))
    assert not ledger.complete(TARGET, entry("B"), NOW)
    assert not ledger.release(TARGET, entry("B"))
    assert ledger.take_over(TARGET, entry("B"), entry("A"))
    assert not ledger.take_over(TARGET, entry("C"), entry("A")), "it changed since it was read"
    assert ledger.complete(TARGET, entry("B"), NOW + timedelta(seconds=2))
    assert not ledger.release(TARGET, entry("B")), "a done action is never released"
    found = ledger.entries(TARGET, ["ws-1", "ws-2"], "2026-11")
    assert list(found) == ["ws-1"]
    assert (found["ws-1"].run_id, found["ws-1"].status, found["ws-1"].done_at) == (
        "B",
        LedgerStatus.DONE,
        NOW + timedelta(seconds=2),
    )
    assert ledger.entries(TARGET, ["ws-1"], "2026-12") == {}


def test_the_run_cap_counts_each_workspace_once_however_often_it_asks(aws):
    ledger = UnusedLedger(table(aws, "ledger"), aws["dynamodb"])
    taken = [ledger.take_slot("run-1", TARGET, f"ws-{n}", 2, NOW) for n in range(3)]
    assert taken == [True, True, False]
    assert ledger.take_slot("run-1", TARGET, "ws-0", 2, NOW), "a retried batch keeps its slot"
    assert ledger.take_slot("run-2", TARGET, "ws-2", 2, NOW), "each run has its own cap"


def test_unreadable_ledger_raises(aws):
    with pytest.raises(AwsCallFailed):
        UnusedLedger("missing", aws["dynamodb"]).entries(TARGET, ["ws-1"], "2026-11")
