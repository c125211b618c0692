"""Faults injected into the simulator (served in each service's own protocol): botocore's retry
logic sees them as it would see AWS's, and the run must stay correct."""

from datetime import UTC, datetime

import pytest

from tests.conftest import ACCOUNT, REGION
from tests.integration.conftest import read_report
from tests.support import lambda_runtime, simulator
from tests.support.simulator import Fault, inject
from tools.local_run import execution_history, run_daily

NOW = datetime(2026, 11, 30, 21, 5, tzinfo=UTC)
FLEET = {
    **{f"busy{i}": {"mode": "AUTO_STOP", "profile": "office"} for i in range(30)},
    **{f"light{i}": {"mode": "ALWAYS_ON", "profile": "part_time"} for i in range(30)},
}


@pytest.fixture
def retry_sleeps(virtual_time):
    """Every wait botocore's retries made (on the virtual clock)."""
    return virtual_time.waits


def test_a_metrics_outage_yields_error_rows_and_no_conversion(aws, make_fleet, deploy, retry_sleeps):
    fleet = make_fleet(FLEET, NOW)
    stack = deploy(DryRun="false")

    with inject(Fault("cloudwatch", "GetMetricData", "ServiceUnavailable", status=503)) as outage:
        output, _ = run_daily(stack.state_machine, NOW)

    rows, summary = read_report(aws["s3"], output)
    assert len(rows) == 60
    assert {row["action"] for row in rows} == {"error"}
    assert all(
        row["reason"] == "metrics unavailable: GetMetricData failed: ServiceUnavailable" for row in rows
    )
    assert {fleet.mode(name) for name in FLEET if name.startswith("busy")} == {"AUTO_STOP"}
    assert {fleet.mode(name) for name in FLEET if name.startswith("light")} == {"ALWAYS_ON"}
    assert outage.injected >= 2 and retry_sleeps, "botocore retried before giving up"
    assert summary["actions"]["error"] == 60


def test_a_passing_metrics_fault_is_retried_and_the_run_is_correct(aws, make_fleet, deploy, retry_sleeps):
    fleet = make_fleet(FLEET, NOW)
    stack = deploy(DryRun="false")

    with inject(Fault("cloudwatch", "GetMetricData", "InternalServiceFault", status=500, limit=2)):
        output, _ = run_daily(stack.state_machine, NOW)

    rows, _ = read_report(aws["s3"], output)
    assert {row["action"] for row in rows} == {"to_always_on", "to_auto_stop"}
    assert {fleet.mode(name) for name in FLEET if name.startswith("busy")} == {"ALWAYS_ON"}


def test_throttled_workspaces_calls_are_retried_and_every_workspace_is_reported(
    aws, make_fleet, deploy, retry_sleeps
):
    fleet = make_fleet(FLEET, NOW)
    stack = deploy(DryRun="false")
    throttles = [
        Fault("workspaces", "DescribeWorkspaces", "ThrottlingException", every=2, limit=3),
        Fault("workspaces", "ModifyWorkspaceProperties", "ThrottlingException", every=3, limit=10),
        Fault("resourcegroupstaggingapi", "GetResources", "ThrottledException", limit=2),
    ]

    with inject(throttles[0]), inject(throttles[1]), inject(throttles[2]):
        output, _ = run_daily(stack.state_machine, NOW)

    rows, _ = read_report(aws["s3"], output)
    assert sorted(r["workspace_id"] for r in rows) == sorted(fleet.ids.values())
    assert all(fault.injected for fault in throttles)
    assert {fleet.mode(name) for name in FLEET if name.startswith("busy")} == {"ALWAYS_ON"}
    assert {fleet.mode(name) for name in FLEET if name.startswith("light")} == {"AUTO_STOP"}


def test_a_directory_that_cannot_be_listed_is_reported_and_the_others_complete(
    aws, make_fleet, deploy, retry_sleeps
):
    make_fleet({"a": {"mode": "AUTO_STOP", "profile": "office"}}, NOW)
    stack = deploy(DryRun="false")

    with inject(Fault("workspaces", "DescribeWorkspaces", "AccessDeniedException")):
        output, execution = run_daily(stack.state_machine, NOW)

    rows, summary = read_report(aws["s3"], output)
    assert len(summary["failed"]) == 1
    assert rows[-1]["action"] == "error"
    assert rows[-1]["reason"] == "directory not finished: PermanentAwsError"
    assert execution.invocations["OptimizeDirectoryFunctionArn"] == 1  # a permanent error is not retried


def test_a_directory_still_throttled_after_retries_is_retried_by_the_state_machine(
    aws, make_fleet, deploy, retry_sleeps
):
    make_fleet({"a": {"mode": "AUTO_STOP", "profile": "office"}}, NOW)
    stack = deploy(DryRun="false")

    # botocore makes 10 attempts per call; the 25 throttles outlast two invocations' worth
    with inject(Fault("workspaces", "DescribeWorkspaces", "ThrottlingException", limit=25)):
        output, execution = run_daily(stack.state_machine, NOW)

    rows, summary = read_report(aws["s3"], output)
    assert summary["failed"] == []
    assert [row["action"] for row in rows] == ["to_always_on"]
    assert execution.invocations["OptimizeDirectoryFunctionArn"] == 3


# ------------------------------------------------------------------------------------------------
# Lambda's own failures, as the state machine sees them
# ------------------------------------------------------------------------------------------------
def task_failures(history: list[dict]) -> list[str]:
    return [e["taskFailedEventDetails"]["error"] for e in history if e["type"] == "TaskFailed"]


def test_a_lambda_service_error_is_retried_by_the_state_machine(aws, make_fleet, deploy, retry_sleeps):
    fleet = make_fleet({"busy": {"mode": "AUTO_STOP", "profile": "office"}}, NOW)
    stack = deploy(DryRun="false")

    # Lambda's 500 before the function runs: Step Functions names it Lambda.ServiceException.
    with inject(Fault("awslambda", "Invoke", "ServiceException", status=500, limit=1)) as outage:
        output, execution = run_daily(stack.state_machine, NOW)

    assert outage.injected == 1
    assert task_failures(execution.history) == ["Lambda.ServiceException"]
    assert execution.invocations["ListTargetsFunctionArn"] == 1, "the refused invocation never ran"
    assert output["status"] == "completed" and fleet.mode("busy") == "ALWAYS_ON"


def test_a_directory_invocation_that_times_out_after_its_changes_is_retried_and_changes_nothing_twice(
    aws, make_fleet, deploy, retry_sleeps
):
    fleet = make_fleet(FLEET, NOW)
    stack = deploy(DryRun="false")
    lambda_runtime.RUNTIME.time_out("OptimizeDirectoryFunctionArn")  # its first invocation

    output, execution = run_daily(stack.state_machine, NOW)

    (child,) = aws["stepfunctions"].list_executions(
        stateMachineArn=stack.machines["OptimizeTargetStateMachine"].arn
    )["executions"]
    history = execution_history(aws["stepfunctions"], child["executionArn"])
    assert task_failures(history) == ["Sandbox.Timedout"]
    assert execution.invocations["OptimizeDirectoryFunctionArn"] == 2
    rows, summary = read_report(aws["s3"], output)
    assert summary["failed"] == [] and len(rows) == len(FLEET)
    assert {fleet.mode(name) for name in FLEET if name.startswith("busy")} == {"ALWAYS_ON"}
    assert all(
        len(simulator.modifications(ACCOUNT, REGION, i)) == 1
        for n, i in fleet.ids.items()
        if n.startswith("busy")
    )
    assert any("batch retried, not changed again" in row["reason"] for row in rows)


# ------------------------------------------------------------------------------------------------
# A running-mode change whose response is lost: the claim is kept, the next listing settles it
# ------------------------------------------------------------------------------------------------
MID_MONTH = datetime(2026, 11, 18, 21, 5, tzinfo=UTC)
NEXT_DAY = datetime(2026, 11, 19, 21, 5, tzinfo=UTC)


def ledger_item(aws, stack, workspace_id):
    key = {"pk": {"S": f"{ACCOUNT}#{REGION}#{workspace_id}"}, "sk": {"S": "2026-11"}}
    return aws["dynamodb"].get_item(TableName=stack.refs["LedgerTable"], Key=key).get("Item")


@pytest.mark.parametrize("lost", ["response", "request"])
def test_a_change_whose_response_is_lost_keeps_its_claim_and_the_next_run_settles_it(
    aws, make_fleet, deploy, retry_sleeps, lost
):
    fleet = make_fleet({"busy": {"mode": "AUTO_STOP", "profile": "office"}}, NEXT_DAY)
    stack = deploy(DryRun="false")
    busy = fleet.ids["busy"]

    with inject(Fault("workspaces", "ModifyWorkspaceProperties", "ReadTimeout", lost=lost)) as timeouts:
        output, _ = run_daily(stack.state_machine, MID_MONTH, run_id="first")
    (row,) = read_report(aws["s3"], output)[0]
    assert timeouts.injected > 1, "botocore retried the timeouts before giving up"
    modified = simulator.CALLS[("workspaces", "ModifyWorkspaceProperties")]
    assert (row["action"], row["error_code"], row["running_mode_after"]) == (
        "error",
        "ReadTimeoutError",
        "AUTO_STOP",
    )
    assert row["reason"] == (
        "ModifyWorkspaceProperties to ALWAYS_ON: outcome unknown, its response was lost (ReadTimeoutError);"
        " the claim is kept and the next listing settles it"
    )
    assert ledger_item(aws, stack, busy)["status"]["S"] == "unknown"
    assert fleet.mode("busy") == ("ALWAYS_ON" if lost == "response" else "AUTO_STOP")

    output, _ = run_daily(stack.state_machine, NEXT_DAY, run_id="second")
    (row,) = read_report(aws["s3"], output)[0]
    settled = ledger_item(aws, stack, busy)
    if lost == "response":  # made: recorded as done by the first run, not converted again
        assert (row["action"], row["running_mode_before"]) == ("none", "ALWAYS_ON")
        assert (settled["status"]["S"], settled["run_id"]["S"]) == ("done", "first")
        assert simulator.CALLS[("workspaces", "ModifyWorkspaceProperties")] == modified
    else:  # not made: released, and converted by this run
        assert (row["action"], row["running_mode_after"]) == ("to_always_on", "ALWAYS_ON")
        assert (settled["status"]["S"], settled["run_id"]["S"]) == ("done", "second")
        assert simulator.CALLS[("workspaces", "ModifyWorkspaceProperties")] == modified + 1
    assert fleet.mode("busy") == "ALWAYS_ON"
