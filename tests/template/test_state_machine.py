"""The state machine definition: cfn-lint does not look inside a SAM state machine's
definition file, so its structure is checked here, and its order against the handlers."""

import json

from tests.support.local_run import state_machine_functions, template
from tests.support.local_sfn import DEFINITION, LAMBDA_INVOKE, SUPPORTED_STATES
from ws_autopilot.runs import RUN_TIMEOUT, RunStatus

VALID_TYPES = {"Task", "Map", "Choice", "Pass", "Succeed", "Fail", "Wait", "Parallel"}


def machines(machine):
    yield machine
    for state in machine["States"].values():
        if state["Type"] == "Map":
            yield from machines(state["ItemProcessor"])


def targets(state):
    yield from (state[k] for k in ("Next", "Default") if k in state)
    yield from (c["Next"] for c in state.get("Choices", []))
    yield from (c["Next"] for c in state.get("Catch", []))


DEFINITION_JSON = json.loads(DEFINITION.read_text())


def test_every_transition_targets_a_state_of_the_same_machine():
    for machine in machines(DEFINITION_JSON):
        assert machine["StartAt"] in machine["States"]
        for name, state in machine["States"].items():
            assert state["Type"] in VALID_TYPES, name
            for target in targets(state):
                assert target in machine["States"], f"{name} -> {target}"
            ends = state.get("End") or state["Type"] in ("Choice", "Succeed", "Fail")
            assert ends or "Next" in state, f"{name} neither ends nor continues"


def test_only_states_the_local_runner_executes_are_used():
    for machine in machines(DEFINITION_JSON):
        assert {s["Type"] for s in machine["States"].values()} <= SUPPORTED_STATES


def test_every_task_invokes_a_function_of_the_template():
    substitutions = template()["Resources"]["OptimizerStateMachine"]["Properties"]["DefinitionSubstitutions"]
    used = set()
    for machine in machines(DEFINITION_JSON):
        for state in machine["States"].values():
            if state["Type"] == "Task":
                assert state["Resource"] == LAMBDA_INVOKE
                used.add(state["Parameters"]["FunctionName"].strip("${}"))
    assert used == set(substitutions) == set(state_machine_functions())
    for value in substitutions.values():
        assert template()["Resources"][value["Fn::GetAtt"][0]]["Type"] == "AWS::Serverless::Function"


def test_order_is_lock_and_targets_then_directories_then_each_directory_until_done_then_report():
    states = DEFINITION_JSON["States"]
    assert DEFINITION_JSON["StartAt"] == "ListTargets"
    assert states["ListTargets"]["Next"] == "Started"
    (not_started,) = states["Started"]["Choices"]
    assert (not_started["Variable"], not_started["StringEquals"]) == ("$.status", RunStatus.NOT_STARTED)
    assert states[not_started["Next"]].get("End") is True, "a run that is not started ends at once"
    assert states["Started"]["Default"] == "OptimizeTargets"
    assert states["OptimizeTargets"]["Next"] == "WriteReport"
    assert states["OptimizeTargets"]["MaxConcurrencyPath"] == "$.max_concurrency"
    assert states["WriteReport"]["End"] is True
    per_target = states["OptimizeTargets"]["ItemProcessor"]
    assert per_target["StartAt"] == "ListDirectories"
    assert per_target["States"]["ListDirectories"]["Next"] == "OptimizeDirectories"
    assert per_target["States"]["ListDirectories"]["Catch"][0]["Next"] == "TargetFailed"
    directories = per_target["States"]["OptimizeDirectories"]
    assert directories["MaxConcurrency"] == 1, "an account and region's directories share its API rate"
    inner = directories["ItemProcessor"]["States"]
    assert inner["OptimizeDirectory"]["Next"] == "MoreToDo"
    (loop,) = inner["MoreToDo"]["Choices"]
    assert (loop["Variable"], loop["BooleanEquals"], loop["Next"]) == ("$.done", False, "OptimizeDirectory")


def test_tasks_retry_transient_errors_with_backoff_and_directories_fail_alone():
    for machine in machines(DEFINITION_JSON):
        for state in machine["States"].values():
            if state["Type"] == "Task":
                (retry,) = state["Retry"]
                assert "TransientAwsError" in retry["ErrorEquals"]
                assert retry["BackoffRate"] > 1 and retry["MaxAttempts"] >= 3
    per_target = DEFINITION_JSON["States"]["OptimizeTargets"]["ItemProcessor"]["States"]
    inner = per_target["OptimizeDirectories"]["ItemProcessor"]["States"]
    assert inner["OptimizeDirectory"]["Catch"][0]["Next"] == "DirectoryFailed"


def test_the_run_lock_expires_with_the_state_machine_timeout():
    assert DEFINITION_JSON["TimeoutSeconds"] == RUN_TIMEOUT.total_seconds()
