"""The state machine definitions: cfn-lint does not look inside a SAM state machine's definition
file, so its structure is checked here, and against what the engine the tests run it on can run."""

import json
import re

import pytest

from tests.support.lambda_runtime import ROOT
from tests.support.step_functions import unsupported
from tools.local_run import state_machine_functions, template
from ws_autopilot.cost.runs import RUN_TIMEOUT, RunStatus

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
VALID_TYPES = {"Task", "Map", "Choice", "Pass", "Succeed", "Fail", "Wait", "Parallel"}
MACHINES = {
    logical_id: resource["Properties"]
    for logical_id, resource in template()["Resources"].items()
    if resource["Type"] == "AWS::Serverless::StateMachine"
}
DEFINITIONS = {
    logical_id: json.loads((ROOT / properties["DefinitionUri"]).read_text())
    for logical_id, properties in MACHINES.items()
}
DEFINITION_JSON = DEFINITIONS["OptimizerStateMachine"]


def machines(machine):
    yield machine
    for state in machine["States"].values():
        if state["Type"] == "Map":
            yield from machines(state["ItemProcessor"])


def targets(state):
    yield from (state[k] for k in ("Next", "Default") if k in state)
    yield from (c["Next"] for c in state.get("Choices", []))
    yield from (c["Next"] for c in state.get("Catch", []))


def tasks(definition):
    for machine in machines(definition):
        for name, state in machine["States"].items():
            if state["Type"] == "Task":
                yield name, state


@pytest.mark.parametrize("logical_id", sorted(DEFINITIONS))
def test_every_transition_targets_a_state_of_the_same_machine(logical_id):
    for machine in machines(DEFINITIONS[logical_id]):
        assert machine["StartAt"] in machine["States"]
        for name, state in machine["States"].items():
            assert state["Type"] in VALID_TYPES, name
            for target in targets(state):
                assert target in machine["States"], f"{name} -> {target}"
            ends = state.get("End") or state["Type"] in ("Choice", "Succeed", "Fail")
            assert ends or "Next" in state, f"{name} neither ends nor continues"


@pytest.mark.parametrize("logical_id", sorted(DEFINITIONS))
def test_the_engine_the_tests_run_on_runs_every_state_field_and_integration_used(logical_id):
    # moto's engine refuses a state type or field it does not know when the definition is
    # parsed, and forwards integrations it does not implement; either would leave part of the
    # definition untested by the integration tests.
    assert unsupported(json.dumps(DEFINITIONS[logical_id])) == []


def test_the_engine_check_fails_on_what_the_engine_cannot_run():
    broken = json.loads(json.dumps(DEFINITION_JSON))
    broken["States"]["ListTargets"]["ResultWriter"] = {}  # a field of Map states only
    assert unsupported(json.dumps(broken))[0].startswith("the engine's parser refuses the definition")
    other = json.loads(json.dumps(DEFINITION_JSON))
    other["States"]["ListTargets"]["Resource"] = "arn:aws:states:::athena:startQueryExecution.sync"
    assert unsupported(json.dumps(other)) == [
        "ListTargets: the engine forwards athena without implementing it"
    ]
    other["States"]["ListTargets"]["Resource"] = "arn:aws:states:::lambda:invoke.sync"
    assert unsupported(json.dumps(other)) == [
        "ListTargets: integration pattern .sync of arn:aws:states:::lambda:invoke.sync"
    ]


def test_every_lambda_task_invokes_a_function_of_the_template():
    used = set()
    for definition in DEFINITIONS.values():
        for _name, state in tasks(definition):
            if state["Resource"] == LAMBDA_INVOKE:
                used.add(state["Parameters"]["FunctionName"].strip("${}"))
    assert used == set(state_machine_functions())
    for logical_id in state_machine_functions().values():
        assert template()["Resources"][logical_id]["Type"] == "AWS::Serverless::Function"
    for logical_id, properties in MACHINES.items():
        placeholders = set(re.findall(r"\$\{(\w+)\}", json.dumps(DEFINITIONS[logical_id])))
        assert placeholders == set(properties["DefinitionSubstitutions"]), logical_id


TARGET_JSON = DEFINITIONS["OptimizeTargetStateMachine"]
LAMBDA_SERVICE_ERRORS = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.TooManyRequestsException",
}
# A function stopped at its timeout: `Sandbox.Timedout` from the Lambda runtime, reported by Step
# Functions' Lambda integration as `Lambda.Unknown` in its documentation.
LAMBDA_TIMEOUTS = {"Sandbox.Timedout", "Lambda.Unknown"}


def test_the_run_takes_the_lock_lists_its_targets_into_s3_then_a_child_execution_per_target_then_the_report():
    states = DEFINITION_JSON["States"]
    assert DEFINITION_JSON["StartAt"] == "ListTargets"
    assert states["ListTargets"]["Next"] == "Started"
    (not_started,) = states["Started"]["Choices"]
    assert (not_started["Variable"], not_started["StringEquals"]) == ("$.status", RunStatus.NOT_STARTED)
    assert states[not_started["Next"]].get("End") is True, "a run that is not started ends at once"
    assert states["Started"]["Default"] == "OptimizeTargets"
    targets = states["OptimizeTargets"]
    assert targets["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    assert targets["ItemReader"]["Resource"] == "arn:aws:states:::s3:getObject"
    assert targets["ItemReader"]["Parameters"] == {"Bucket": "${ReportBucket}", "Key.$": "$.targets_key"}
    assert targets["ResultWriter"]["Parameters"] == {
        "Bucket": "${ReportBucket}",
        "Prefix.$": "$.results_prefix",
    }
    assert targets["MaxConcurrencyPath"] == "$.max_concurrency"
    assert targets["ToleratedFailurePercentage"] == 100, "one account or region never stops the others"
    assert targets["Next"] == "WriteReport"
    assert states["WriteReport"]["Parameters"]["Payload"]["results.$"] == "$.results"
    assert states["WriteReport"]["End"] is True
    child = targets["ItemProcessor"]["States"]["OptimizeTarget"]
    assert child["Resource"] == "arn:aws:states:::states:startExecution.sync:2"
    assert child["Parameters"]["StateMachineArn"] == "${OptimizeTargetStateMachineArn}"
    assert child["Catch"][0]["ErrorEquals"] == ["States.ALL"]
    assert targets["ItemProcessor"]["States"][child["Catch"][0]["Next"]]["End"] is True


def test_payloads_carry_no_list_that_grows_with_the_organization():
    listed = set(DEFINITION_JSON["States"]["ListTargets"]["ResultSelector"])
    assert listed.isdisjoint({"targets.$", "skipped.$"}), "the lists are in S3, the Map reads them there"
    assert "ResultWriter" in DEFINITION_JSON["States"]["OptimizeTargets"], "results to S3, not the payload"


def test_each_target_lists_its_directories_then_optimizes_them_one_at_a_time_each_until_done():
    states = TARGET_JSON["States"]
    assert TARGET_JSON["StartAt"] == "ListDirectories"
    assert states["ListDirectories"]["Next"] == "OptimizeDirectories"
    assert states["ListDirectories"]["Catch"][0]["Next"] == "TargetFailed"
    directories = states["OptimizeDirectories"]
    assert directories["MaxConcurrency"] == 1, "an account and region's directories share its API rate"
    inner = directories["ItemProcessor"]["States"]
    assert inner["OptimizeDirectory"]["Next"] == "MoreToDo"
    assert inner["OptimizeDirectory"]["Catch"][0]["Next"] == "DirectoryFailed"
    (loop,) = inner["MoreToDo"]["Choices"]
    assert (loop["Variable"], loop["BooleanEquals"], loop["Next"]) == ("$.done", False, "OptimizeDirectory")


@pytest.mark.parametrize("logical_id", sorted(DEFINITIONS))
def test_every_lambda_task_retries_service_errors_timeouts_and_transient_aws_errors_with_backoff(logical_id):
    for name, state in tasks(DEFINITIONS[logical_id]):
        if state["Resource"] != LAMBDA_INVOKE:
            continue
        retried = {error for retrier in state["Retry"] for error in retrier["ErrorEquals"]}
        assert LAMBDA_SERVICE_ERRORS | LAMBDA_TIMEOUTS | {"TransientAwsError"} <= retried, name
        assert all(r["BackoffRate"] > 1 and r["MaxAttempts"] >= 2 for r in state["Retry"]), name
        assert "States.ALL" not in retried, f"{name}: a permanent error is not retried"


def test_the_run_lock_expires_with_the_state_machine_timeout():
    assert DEFINITION_JSON["TimeoutSeconds"] == RUN_TIMEOUT.total_seconds()


def test_a_targets_execution_times_out_before_the_run_so_the_run_can_still_report_it():
    # The longest legitimate run of one account and region: the month-end run's 12 hours from
    # 12:00 UTC (docs/cost.md, "The month-end deadline"); the run's report needs minutes.
    assert 12 * 3600 <= TARGET_JSON["TimeoutSeconds"] <= DEFINITION_JSON["TimeoutSeconds"] - 3600
