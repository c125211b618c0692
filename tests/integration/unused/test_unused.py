"""Unused WorkSpaces end to end: the state machine definition drives the real handlers against
the simulator; the evidence comes from CloudWatch, the login table and the connection status, the
actions go through StopWorkspaces and TerminateWorkspaces, the ledger and the alert topic."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from tests.conftest import ACCOUNT, REGION
from tests.integration.conftest import read_report
from tests.support import simulator
from tests.support.lambda_runtime import FakeContext
from tools.local_run import FREEZE_IGNORE, run_daily
from ws_autopilot.aws.clients import RETRY_CONFIG
from ws_autopilot.core.models import Target
from ws_autopilot.cost.report_store import ReportStore
from ws_autopilot.logins.policy import Login
from ws_autopilot.logins.store import LoginStore
from ws_autopilot.unused.policy import TERMINATE_CONFIRMATION

LAST_DAY = datetime(2026, 11, 30, 12, 5, tzinfo=UTC)  # the month-end run
MID_MONTH = datetime(2026, 11, 18, 21, 5, tzinfo=UTC)
JULY = datetime(2026, 7, 14, 9, 30, tzinfo=UTC)  # long before the window (from 2026-09-30)
OCTOBER = datetime(2026, 10, 20, 10, 0, tzinfo=UTC)  # inside it
LIVE = {"DryRun": "false"}
STOP = {**LIVE, "UnusedAction": "stop"}
TERMINATE = {**LIVE, "UnusedAction": "terminate", "ConfirmTerminateUnused": TERMINATE_CONFIRMATION}

IDLE = {"mode": "AUTO_STOP", "profile": "idle"}  # AVAILABLE, no connected hour this month
STOPPED = {"mode": "AUTO_STOP", "state": "STOPPED"}  # no datapoint at all this month


def connected_before(fleet, name: str, at: datetime = JULY, state: str = "DISCONNECTED") -> None:
    simulator.set_connection(ACCOUNT, REGION, fleet.ids[name], state, at)


def usage_points(fleet, name: str, *points: tuple[datetime, float]) -> None:
    simulator.put_hourly_series(
        ACCOUNT,
        REGION,
        "AWS/WorkSpaces",
        "UserConnected",
        [{"Name": "WorkspaceId", "Value": fleet.ids[name]}],
        list(points),
    )


def logged_in(stack, fleet, name: str, at: datetime) -> None:
    login = Login(
        f"event-{name}",
        ACCOUNT,
        REGION,
        fleet.ids[name],
        fleet.directory_id,
        "someone",
        "198.51.100.7",
        "Windows",
        "WorkSpaces",
        None,
        at,
    )
    LoginStore(stack.refs["LoginTable"]).update_last_login(login, int((at + timedelta(days=90)).timestamp()))


def rows_by_name(aws, fleet, output) -> dict[str, dict[str, str]]:
    names = {v: k for k, v in fleet.ids.items()}
    return {names[row["workspace_id"]]: row for row in read_report(aws["s3"], output)[0]}


def unused(aws, fleet, output) -> dict[str, str]:
    return {name: row["unused_action"] for name, row in rows_by_name(aws, fleet, output).items()}


def state(fleet, name: str) -> str:
    return simulator.workspace(ACCOUNT, REGION, fleet.ids[name]).state


def actions(fleet, name: str) -> list[str]:
    return simulator.actions(ACCOUNT, REGION, fleet.ids[name])


def ledger_items(aws, stack) -> list[dict]:
    items = aws["dynamodb"].scan(TableName=stack.refs["LedgerTable"])["Items"]
    return [i for i in items if i["sk"]["S"].startswith("UNUSED#")]


def test_the_report_lists_unused_workspaces_and_what_each_source_showed(aws, make_fleet, deploy):
    fleet = make_fleet(
        {
            "busy": {"mode": "AUTO_STOP", "profile": "office"},
            "idle_since_july": IDLE,
            "login_in_october": IDLE,
            "connected_in_october": STOPPED,
            "status_in_october": STOPPED,
            "connected_now": IDLE,
            "never_connected": STOPPED,
        },
        MID_MONTH,
    )
    stack = deploy()
    connected_before(fleet, "idle_since_july")
    logged_in(stack, fleet, "login_in_october", OCTOBER)
    usage_points(fleet, "connected_in_october", (OCTOBER, 1.0))
    connected_before(fleet, "status_in_october", OCTOBER)
    connected_before(fleet, "connected_now", JULY, state="CONNECTED")

    output, _ = run_daily(stack.state_machine, MID_MONTH)

    rows = rows_by_name(aws, fleet, output)
    assert {name: (row["unused_action"], row["last_connection"]) for name, row in rows.items()} == {
        "busy": ("", ""),  # connected this month: never looked up
        "idle_since_july": ("reported", JULY.isoformat()),
        "login_in_october": ("", OCTOBER.isoformat()),
        "connected_in_october": ("", "2026-10-20T00:00:00+00:00"),  # the day, from the daily series
        "status_in_october": ("", OCTOBER.isoformat()),
        "connected_now": ("", JULY.isoformat()),
        "never_connected": ("reported", ""),
    }
    assert output["actions"]["error"] == 0


def test_with_the_check_switched_off_nothing_is_looked_up_reported_or_stopped(aws, make_fleet, deploy):
    fleet = make_fleet({"idle_since_july": IDLE, "never_connected": STOPPED}, LAST_DAY)
    stack = deploy(**STOP, EnableUnusedCheck="false")
    connected_before(fleet, "idle_since_july")
    before = simulator.CALLS[("workspaces", "DescribeWorkspacesConnectionStatus")]

    output, _ = run_daily(stack.state_machine, LAST_DAY)

    assert unused(aws, fleet, output) == {"idle_since_july": "", "never_connected": ""}
    assert simulator.CALLS[("workspaces", "DescribeWorkspacesConnectionStatus")] == before
    assert simulator.CALLS[("workspaces", "StopWorkspaces")] == 0
    assert state(fleet, "idle_since_july") == "AVAILABLE"


def test_connection_status_is_asked_only_for_what_cheap_sources_leave_open_25_per_call(
    aws, make_fleet, deploy
):
    specs = {f"idle{n:02d}": IDLE for n in range(30)} | {
        f"busy{n:02d}": {"mode": "AUTO_STOP", "profile": "office"} for n in range(20)
    }
    fleet = make_fleet(specs, MID_MONTH)
    stack = deploy()
    for n in range(5):  # seen in October by CloudWatch or the login records: no status needed
        usage_points(fleet, f"idle{n:02d}", (OCTOBER, 1.0))
        logged_in(stack, fleet, f"idle{n + 5:02d}", OCTOBER)

    output, _ = run_daily(stack.state_machine, MID_MONTH)

    assert simulator.CALLS[("workspaces", "DescribeWorkspacesConnectionStatus")] == 1  # 20 ids
    found = unused(aws, fleet, output)
    assert sum(1 for text in found.values() if text == "reported") == 20


def test_no_candidate_no_extra_call(aws, make_fleet, deploy):
    make_fleet({f"busy{n}": {"mode": "AUTO_STOP", "profile": "office"} for n in range(3)}, MID_MONTH)
    stack = deploy()
    run_daily(stack.state_machine, MID_MONTH)
    assert simulator.CALLS[("workspaces", "DescribeWorkspacesConnectionStatus")] == 0
    assert simulator.CALLS[("dynamodb", "BatchGetItem")] == 1  # the conversion ledger only


def test_nothing_is_stopped_before_the_last_day(aws, make_fleet, deploy):
    fleet = make_fleet({"idle": IDLE}, MID_MONTH)
    stack = deploy(**STOP)
    connected_before(fleet, "idle")
    output, _ = run_daily(stack.state_machine, MID_MONTH)
    assert unused(aws, fleet, output) == {"idle": "reported"}
    assert actions(fleet, "idle") == []


@pytest.fixture
def inbox(alert_inbox):
    def subscribe(stack):
        received = alert_inbox(stack)
        return lambda at: [
            (m["MessageAttributes"]["alert_type"]["Value"], m["Subject"], json.loads(m["Message"]))
            for m in received(at)
        ]

    return subscribe


def test_on_the_last_day_unused_workspaces_are_stopped_announced_and_recorded(aws, make_fleet, deploy, inbox):
    fleet = make_fleet(
        {
            "idle": IDLE,
            "stopped": STOPPED,
            "skip_terminate": {**IDLE, "tags": {"skip_terminate": "false"}},
            "skip_convert": {**IDLE, "tags": {"Skip_Convert": ""}},
            "maybe_new": IDLE,  # never connected, no datapoint before the window
            "unhealthy": {**IDLE, "state": "UNHEALTHY"},
        },
        LAST_DAY,
    )
    stack = deploy(**STOP)
    for name in fleet.ids:
        if name != "maybe_new":
            connected_before(fleet, name)
    received = inbox(stack)

    output, _ = run_daily(stack.state_machine, LAST_DAY)

    assert unused(aws, fleet, output) == {
        "idle": "stopped",
        "stopped": "held: already STOPPED",
        "skip_terminate": "held: skip_terminate tag",
        "skip_convert": "held: Skip_Convert tag",
        "maybe_new": "held: creation time unknown: no connection or UserConnected datapoint before "
        "2026-09-30, so it may have been created since",
        "unhealthy": "held: state UNHEALTHY",
    }
    assert {name: actions(fleet, name) for name in fleet.ids if actions(fleet, name)} == {
        "idle": ["StopWorkspaces"]
    }
    assert state(fleet, "idle") == "STOPPING"
    ((item),) = ledger_items(aws, stack)
    assert (item["workspace_id"]["S"], item["action"]["S"], item["status"]["S"]) == (
        fleet.ids["idle"],
        "stop",
        "done",
    )
    (alert,) = received(LAST_DAY + timedelta(hours=1))
    assert alert[0] == "unused_stop"
    assert alert[1] == f"Unused WorkSpace {fleet.ids['idle']} stopped"
    assert alert[2]["last_connection"] == JULY.isoformat()
    assert alert[2]["no_connection_since"] == "2026-09-30T00:00:00+00:00"


@pytest.mark.parametrize(
    ("parameters", "done", "call"),
    [(STOP, "stopped", "StopWorkspaces"), (TERMINATE, "terminated", "TerminateWorkspaces")],
    ids=["stop", "terminate"],
)
def test_standby_and_agentic_workspaces_are_never_judged_unused_nor_acted_on(
    aws, make_fleet, deploy, inbox, parameters, done, call
):
    agent = {"agentic": True, "compute": "POWER", "os": "WINDOWS_SERVER_2025"}
    fleet = make_fleet(
        {"idle": IDLE, "standby": {**IDLE, "standby": True}, "agent": {**IDLE, **agent}}, LAST_DAY
    )
    stack = deploy(**parameters)
    for name in fleet.ids:  # each one proven older than the window, none connected since July
        connected_before(fleet, name)
    received = inbox(stack)

    output, _ = run_daily(stack.state_machine, LAST_DAY)

    rows = rows_by_name(aws, fleet, output)
    assert {name: (row["unused_action"], row["last_connection"]) for name, row in rows.items()} == {
        "idle": (done, JULY.isoformat()),
        "standby": ("", ""),  # not a candidate: never looked up
        "agent": ("", ""),
    }
    assert {name: actions(fleet, name) for name in fleet.ids} == {"idle": [call], "standby": [], "agent": []}
    assert [alert[2]["workspace_id"] for alert in received(LAST_DAY + timedelta(hours=1))] == [
        fleet.ids["idle"]
    ]
    assert [item["workspace_id"]["S"] for item in ledger_items(aws, stack)] == [fleet.ids["idle"]]


def test_a_second_run_on_the_last_day_acts_on_nothing_again(aws, make_fleet, deploy, inbox):
    fleet = make_fleet({"idle": IDLE, "other": IDLE}, LAST_DAY)
    stack = deploy(**STOP)
    connected_before(fleet, "idle")
    connected_before(fleet, "other")
    received = inbox(stack)
    run_daily(stack.state_machine, LAST_DAY, run_id="month-end")

    output, _ = run_daily(stack.state_machine, LAST_DAY.replace(hour=21), run_id="daily")

    assert unused(aws, fleet, output) == {
        "idle": "stopped by run month-end at 2026-11-30 12:05 UTC",
        "other": "stopped by run month-end at 2026-11-30 12:05 UTC",
    }
    assert actions(fleet, "idle") == actions(fleet, "other") == ["StopWorkspaces"]
    assert simulator.CALLS[("workspaces", "StopWorkspaces")] == 1, "both in one call, once"
    assert len(received(LAST_DAY.replace(hour=22))) == 2


def test_terminate_needs_both_parameters(aws, make_fleet, deploy):
    fleet = make_fleet({"idle": IDLE}, LAST_DAY)
    stack = deploy(**LIVE, UnusedAction="terminate")  # the template's Rules refuse this pair
    connected_before(fleet, "idle")
    output, _ = run_daily(stack.state_machine, LAST_DAY)
    assert unused(aws, fleet, output) == {
        "idle": f"held: terminating needs ConfirmTerminateUnused={TERMINATE_CONFIRMATION}"
    }
    assert simulator.CALLS[("workspaces", "TerminateWorkspaces")] == 0


def test_with_both_parameters_unused_workspaces_are_terminated(aws, make_fleet, deploy, inbox):
    fleet = make_fleet(
        {"idle": IDLE, "stopped": STOPPED, "suspended": {**STOPPED, "state": "SUSPENDED"}}, LAST_DAY
    )
    stack = deploy(**TERMINATE)
    for name in fleet.ids:
        connected_before(fleet, name)
    received = inbox(stack)

    output, _ = run_daily(stack.state_machine, LAST_DAY)

    assert unused(aws, fleet, output) == {
        "idle": "terminated",
        "stopped": "terminated",
        "suspended": "held: state SUSPENDED",
    }
    assert (state(fleet, "idle"), state(fleet, "stopped")) == ("TERMINATING", "TERMINATING")
    assert simulator.CALLS[("workspaces", "TerminateWorkspaces")] == 1
    assert sorted(a[0] for a in received(LAST_DAY + timedelta(hours=1))) == [
        "unused_terminate",
        "unused_terminate",
    ]


def test_a_terminated_workspace_is_reported_by_the_run_that_terminated_it_and_then_gone(
    aws, make_fleet, deploy
):
    fleet = make_fleet({"idle": IDLE, "busy": {"mode": "AUTO_STOP", "profile": "office"}}, LAST_DAY)
    stack = deploy(**TERMINATE)
    connected_before(fleet, "idle")
    run_daily(stack.state_machine, LAST_DAY, run_id="month-end")
    simulator.finish_terminations(ACCOUNT, REGION)

    output, _ = run_daily(stack.state_machine, LAST_DAY.replace(hour=21), run_id="daily")

    assert set(rows_by_name(aws, fleet, output)) == {"busy"}


def test_dry_run_reports_what_it_would_do_and_does_nothing(aws, make_fleet, deploy, inbox):
    fleet = make_fleet({"idle": IDLE, "stopped": STOPPED}, LAST_DAY)
    stack = deploy(**{**TERMINATE, "DryRun": "true"})
    connected_before(fleet, "idle")
    connected_before(fleet, "stopped")
    received = inbox(stack)

    output, _ = run_daily(stack.state_machine, LAST_DAY)

    assert unused(aws, fleet, output) == {
        "idle": "would terminate (dry run)",
        "stopped": "would terminate (dry run)",
    }
    assert simulator.CALLS[("workspaces", "TerminateWorkspaces")] == 0
    assert ledger_items(aws, stack) == []
    assert received(LAST_DAY + timedelta(hours=1)) == []


def test_the_cap_holds_the_rest_for_the_next_run(aws, make_fleet, deploy):
    fleet = make_fleet({f"idle{n}": IDLE for n in range(4)}, LAST_DAY)
    stack = deploy(**STOP, MaxUnusedActionsPerRun="2")
    for name in fleet.ids:
        connected_before(fleet, name)

    output, _ = run_daily(stack.state_machine, LAST_DAY, run_id="month-end")

    first = unused(aws, fleet, output)
    assert (
        sorted(first.values()) == ["held: at most 2 per run (MaxUnusedActionsPerRun)"] * 2 + ["stopped"] * 2
    )
    output, _ = run_daily(stack.state_machine, LAST_DAY.replace(hour=21), run_id="daily")
    second = unused(aws, fleet, output)
    assert all(text.startswith("stopped") for text in second.values())
    assert all(actions(fleet, name) == ["StopWorkspaces"] for name in fleet.ids)


def test_a_refused_stop_is_announced_released_and_made_by_a_later_run(aws, make_fleet, deploy, inbox):
    fleet = make_fleet({"idle": IDLE}, LAST_DAY)
    stack = deploy(**STOP)
    connected_before(fleet, "idle")
    simulator.refuse(ACCOUNT, REGION, fleet.ids["idle"], "StopWorkspaces", "OperationNotSupportedException")
    received = inbox(stack)

    output, _ = run_daily(stack.state_machine, LAST_DAY, run_id="month-end")

    assert unused(aws, fleet, output) == {"idle": "failed: OperationNotSupportedException"}
    assert ledger_items(aws, stack) == [], "the claim was released"
    ((kind, _, body),) = received(LAST_DAY + timedelta(hours=1))
    assert (kind, body["error_code"]) == ("unused_failed", "OperationNotSupportedException")
    simulator.allow(ACCOUNT, REGION, fleet.ids["idle"], "StopWorkspaces")
    output, _ = run_daily(stack.state_machine, LAST_DAY.replace(hour=21), run_id="daily")
    assert unused(aws, fleet, output) == {"idle": "stopped"}


def test_an_unreadable_source_makes_the_workspace_unknown_and_the_run_goes_on(aws, make_fleet, deploy):
    fleet = make_fleet({"idle": IDLE, "busy": {"mode": "AUTO_STOP", "profile": "office"}}, LAST_DAY)
    stack = deploy(**STOP)
    connected_before(fleet, "idle")
    denied = simulator.Fault("workspaces", "DescribeWorkspacesConnectionStatus", "AccessDeniedException")

    with simulator.inject(denied):
        output, _ = run_daily(stack.state_machine, LAST_DAY)

    assert unused(aws, fleet, output) == {
        "idle": "unknown: connection status unreadable (AccessDeniedException)",
        "busy": "",
    }
    assert actions(fleet, "idle") == []
    assert output["status"] == "completed"


def test_a_batch_retried_after_its_stops_stops_nothing_twice(aws, make_fleet, deploy):
    # 130 WorkSpaces: two batches (125 + 5) on the last day. The second batch's first page cannot
    # be listed, so the invocation fails after the first batch stopped its unused WorkSpaces;
    # Step Functions retries it from the same start.
    fleet = make_fleet({f"w{n:03d}": IDLE for n in range(130)}, LAST_DAY)
    stack = deploy(**STOP, MaxUnusedActionsPerRun="500")
    for name in fleet.ids:
        connected_before(fleet, name)
    retries = RETRY_CONFIG.retries
    attempts = retries.get("total_max_attempts", retries.get("max_attempts", 0) + 1)
    outage = simulator.Fault(
        "workspaces", "DescribeWorkspaces", "InternalFailure", status=500, after=5, limit=attempts
    )

    with simulator.inject(outage):
        output, execution = run_daily(stack.state_machine, LAST_DAY, run_id="month-end")

    assert execution.invocations["OptimizeDirectoryFunctionArn"] == 2
    assert all(actions(fleet, name) == ["StopWorkspaces"] for name in fleet.ids)
    found = unused(aws, fleet, output)
    retried = [name for name, text in found.items() if text.startswith("stopped by run month-end")]
    assert len(retried) == 125 and all(found[n] == "stopped" for n in set(found) - set(retried))


@pytest.mark.parametrize("order", ["AABB", "ABAB", "ABBA", "BAAB", "BABA", "BBAA"])
def test_two_runs_batches_interleaved_stop_each_workspace_once(aws, make_fleet, deploy, order):
    fleet = make_fleet({f"w{n:03d}": IDLE for n in range(130)}, LAST_DAY)
    stack = deploy(**STOP, MaxUnusedActionsPerRun="500")
    for name in fleet.ids:
        connected_before(fleet, name)
    optimize = stack.handlers["OptimizeDirectoryFunction"]
    for run in ("A", "B"):
        ReportStore(stack.refs["ReportBucket"]).write_targets(f"run-{run}", [Target(ACCOUNT, REGION)])
    position = {"A": None, "B": None}
    at = LAST_DAY
    for run in order:
        at += timedelta(minutes=1)
        event = {
            "run_id": f"run-{run}",
            "run_date": "2026-11-30",
            "account_id": ACCOUNT,
            "region": REGION,
            "directory_id": fleet.directory_id,
            "continuation": position[run],
        }
        with freeze_time(at, ignore=FREEZE_IGNORE):
            position[run] = optimize(event, FakeContext([60_000]))["continuation"]

    assert position == {"A": None, "B": None}
    assert all(actions(fleet, name) == ["StopWorkspaces"] for name in fleet.ids)
    assert len(ledger_items(aws, stack)) == 130


def test_a_month_end_run_still_going_after_midnight_acts_as_of_its_own_day(aws, make_fleet, deploy):
    # The run started on November 30th; its batch comes at 00:10 on December 1st. It is judged
    # and acted on as of the run's day: window from September 30th, ledger month November.
    fleet = make_fleet({"idle": IDLE}, LAST_DAY)
    stack = deploy(**STOP)
    simulator.set_connection(
        ACCOUNT, REGION, fleet.ids["idle"], "DISCONNECTED", datetime(2026, 9, 29, 8, tzinfo=UTC)
    )
    ReportStore(stack.refs["ReportBucket"]).write_targets("month-end", [Target(ACCOUNT, REGION)])
    event = {
        "run_id": "month-end",
        "run_date": "2026-11-30",
        "account_id": ACCOUNT,
        "region": REGION,
        "directory_id": fleet.directory_id,
    }

    with freeze_time(datetime(2026, 12, 1, 0, 10, tzinfo=UTC), ignore=FREEZE_IGNORE):
        stack.handlers["OptimizeDirectoryFunction"](event, FakeContext())

    assert actions(fleet, "idle") == ["StopWorkspaces"]
    (item,) = ledger_items(aws, stack)
    assert item["sk"]["S"] == "UNUSED#2026-11"
