"""Every AWS call a function of the optimizer makes is allowed by its own policy, in the
deployment region and in another region that `Regions` covers, and every call Step Functions makes
for each state machine is allowed by that state machine's policy: neither the simulator nor the
Step Functions engine evaluates IAM, so this reads the template's statements (Allow, Deny,
Resource) the way IAM would. Conditions are not evaluated here; the statements that have one are
asserted in test_template.py.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from typing import Any

import pytest

from tests.support.local_run import template
from tests.template.test_template import RESOURCES, as_list

ACCOUNT, HOME, OTHER, STACK = "123456789012", "us-east-1", "eu-west-1", "autopilot"
MEMBER_ROLE = "arn:aws:iam::222222222222:role/WorkSpacesAutopilotMember"
STATES = f"arn:aws:states:{HOME}:{ACCOUNT}"
ATTRIBUTES = {
    "LedgerTable.Arn": f"arn:aws:dynamodb:{HOME}:{ACCOUNT}:table/autopilot-ledger",
    "ReportBucket.Arn": "arn:aws:s3:::autopilot-reports",
    "AppKey.Arn": f"arn:aws:kms:{HOME}:{ACCOUNT}:key/0000",
    **{
        f"{name}Function.Arn": f"arn:aws:lambda:{HOME}:{ACCOUNT}:function:{STACK}-{name}Function-0123"
        for name in ("ListTargets", "ListDirectories", "OptimizeDirectory", "WriteReport")
    },
}
REFS = {"OptimizeTargetStateMachine": f"{STATES}:stateMachine:{STACK}-optimize-target"}
LEDGER, KEY, BUCKET = ATTRIBUTES["LedgerTable.Arn"], ATTRIBUTES["AppKey.Arn"], ATTRIBUTES["ReportBucket.Arn"]


def workspace(region: str) -> str:
    return f"arn:aws:workspaces:{region}:{ACCOUNT}:workspace/ws-0123456789"


def calls(region: str) -> dict[str, list[tuple[str, str]]]:
    """What each function calls (adapters/*.py), with the resource IAM sees, for WorkSpaces in `region`."""
    return {
        "ListTargetsFunction": [
            ("dynamodb:PutItem", LEDGER),
            ("dynamodb:GetItem", LEDGER),
            (
                "states:DescribeExecution",
                f"arn:aws:states:{HOME}:{ACCOUNT}:execution:{STACK}-optimizer:run-1",
            ),
            ("kms:GenerateDataKey", KEY),
            ("kms:Decrypt", KEY),
        ],
        "ListDirectoriesFunction": [
            ("workspaces:DescribeWorkspaceDirectories", "*"),
            ("s3:GetObject", f"{BUCKET}/runs/run-1/targets.json"),
            ("kms:Decrypt", KEY),
            ("sts:AssumeRole", MEMBER_ROLE),
        ],
        "OptimizeDirectoryFunction": [
            ("workspaces:DescribeWorkspaces", "*"),
            ("tag:GetResources", "*"),
            ("workspaces:DescribeTags", workspace(region)),
            ("workspaces:ModifyWorkspaceProperties", workspace(region)),
            ("cloudwatch:GetMetricData", "*"),
            ("dynamodb:BatchGetItem", LEDGER),
            ("dynamodb:GetItem", LEDGER),
            ("dynamodb:PutItem", LEDGER),
            ("dynamodb:UpdateItem", LEDGER),
            ("dynamodb:DeleteItem", LEDGER),
            ("s3:PutObject", f"{BUCKET}/runs/run-1/parts/x.jsonl"),
            ("s3:GetObject", f"{BUCKET}/runs/run-1/targets.json"),
            ("kms:GenerateDataKey", KEY),
            ("kms:Decrypt", KEY),
            ("sts:AssumeRole", MEMBER_ROLE),
        ],
        "WriteReportFunction": [
            ("s3:ListBucket", BUCKET),
            ("s3:GetObject", f"{BUCKET}/runs/run-1/parts/x.jsonl"),
            ("s3:PutObject", f"{BUCKET}/reports/2026/11/30/run-1.csv"),
            ("dynamodb:DeleteItem", LEDGER),
            ("kms:Decrypt", KEY),
        ],
    }


def resolve(value: Any, dry_run: bool) -> Any:
    """A template value with the intrinsics the policies use resolved for a deployment in HOME."""
    if isinstance(value, list):
        return [resolve(v, dry_run) for v in value]
    if not isinstance(value, dict):
        return value
    if "Fn::If" in value:
        condition, when_true, when_false = value["Fn::If"]
        assert condition == "IsDryRun", condition
        return resolve(when_true if dry_run else when_false, dry_run)
    if "Fn::GetAtt" in value:
        return ATTRIBUTES[".".join(value["Fn::GetAtt"])]
    if "Ref" in value:
        return REFS[value["Ref"]]
    if "Fn::Sub" in value:
        names = {
            "AWS::Partition": "aws",
            "AWS::Region": HOME,
            "AWS::AccountId": ACCOUNT,
            "AWS::StackName": STACK,
            "MemberRoleName": template()["Parameters"]["MemberRoleName"]["Default"],
            **ATTRIBUTES,
        }
        return re.sub(r"\$\{([\w:.]+)\}", lambda m: names[m.group(1)], value["Fn::Sub"])
    raise AssertionError(f"unexpected intrinsic {value}")


def function_arn(logical_id: str) -> str:
    return ATTRIBUTES[f"{logical_id}.Arn"]


def state_machine_calls() -> dict[str, list[tuple[str, str]]]:
    """What Step Functions calls for each state machine's definition (statemachine/*.asl.json), with
    the role of that state machine: its Lambda tasks, the Distributed Map (its child workflow
    executions, ItemReader, ResultWriter), the `.sync:2` start of a target's execution (and how
    Step Functions follows it: DescribeExecution, its managed EventBridge rule, StopExecution
    when the run stops)."""
    results = f"{BUCKET}/runs/run-1/results/0a1b2c3d"
    own_child = f"{STATES}:execution:{STACK}-optimizer/Targets:0a1b2c3d-0000-0000-0000-000000000000"
    target_execution = f"{STATES}:execution:{STACK}-optimize-target:4e5f6a7b"
    return {
        "OptimizerStateMachine": [
            ("lambda:InvokeFunction", function_arn("ListTargetsFunction")),
            ("lambda:InvokeFunction", function_arn("WriteReportFunction")),
            ("states:StartExecution", f"{STATES}:stateMachine:{STACK}-optimizer"),
            ("states:DescribeExecution", own_child),
            ("states:StopExecution", own_child),
            ("s3:GetObject", f"{BUCKET}/runs/run-1/targets.json"),
            ("s3:PutObject", f"{results}/manifest.json"),
            ("s3:PutObject", f"{results}/SUCCEEDED_0.json"),
            ("s3:GetObject", f"{results}/SUCCEEDED_0.json"),
            ("s3:ListMultipartUploadParts", f"{results}/SUCCEEDED_0.json"),
            ("s3:AbortMultipartUpload", f"{results}/SUCCEEDED_0.json"),
            ("kms:Decrypt", KEY),
            ("kms:GenerateDataKey", KEY),
            ("states:StartExecution", REFS["OptimizeTargetStateMachine"]),
            ("states:DescribeExecution", target_execution),
            ("states:StopExecution", target_execution),
            ("events:PutTargets", MANAGED_RULE),
            ("events:PutRule", MANAGED_RULE),
            ("events:DescribeRule", MANAGED_RULE),
        ],
        "OptimizeTargetStateMachine": [
            ("lambda:InvokeFunction", function_arn("ListDirectoriesFunction")),
            ("lambda:InvokeFunction", function_arn("OptimizeDirectoryFunction")),
        ],
    }


MANAGED_RULE = f"arn:aws:events:{HOME}:{ACCOUNT}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"
# The operations the Step Functions engine makes, as IAM actions; the organization-scale test
# asserts that the engine made no other (tests/support/step_functions.py counts them). The engine
# polls DescribeExecution for `.sync:2` where AWS follows the managed rule above: both are listed.
ENGINE_OPERATIONS = {
    ("lambda", "Invoke"): "lambda:InvokeFunction",
    ("s3", "GetObject"): "s3:GetObject",
    ("s3", "PutObject"): "s3:PutObject",
    ("sfn", "StartExecution"): "states:StartExecution",
    ("sfn", "DescribeExecution"): "states:DescribeExecution",
}


def statements(function: str, dry_run: bool) -> list[dict[str, Any]]:
    found = []
    for policy in RESOURCES[function]["Properties"].get("Policies", []):
        for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
            found.append({k: resolve(v, dry_run) for k, v in statement.items() if k != "Condition"})
    return found


def allowed(function: str, action: str, resource: str, dry_run: bool = False) -> bool:
    def matches(statement: dict[str, Any]) -> bool:
        return any(fnmatchcase(action.lower(), a.lower()) for a in as_list(statement["Action"])) and any(
            fnmatchcase(resource, r) for r in as_list(statement["Resource"])
        )

    applicable = [s for s in statements(function, dry_run) if matches(s)]
    return any(s["Effect"] == "Allow" for s in applicable) and not any(
        s["Effect"] == "Deny" for s in applicable
    )


@pytest.mark.parametrize("region", [HOME, OTHER])
@pytest.mark.parametrize("function", sorted(calls(HOME)))
def test_every_call_of_the_optimizer_is_allowed_in_every_covered_region(function, region):
    refused = [(a, r) for a, r in calls(region)[function] if not allowed(function, a, r)]
    assert refused == []


@pytest.mark.parametrize("region", [HOME, OTHER])
def test_dry_run_denies_the_running_mode_change_in_every_region(region):
    assert not allowed(
        "OptimizeDirectoryFunction", "workspaces:ModifyWorkspaceProperties", workspace(region), True
    )
    assert allowed("OptimizeDirectoryFunction", "workspaces:DescribeWorkspaces", "*", dry_run=True)


def test_the_change_is_scoped_to_this_accounts_workspaces():
    assert not allowed(
        "OptimizeDirectoryFunction",
        "workspaces:ModifyWorkspaceProperties",
        workspace(OTHER).replace(ACCOUNT, "999999999999"),
    )
    assert not allowed(
        "OptimizeDirectoryFunction",
        "workspaces:ModifyWorkspaceProperties",
        f"arn:aws:workspaces:{OTHER}:{ACCOUNT}:directory/d-0123456789",
    )


@pytest.mark.parametrize("machine", sorted(state_machine_calls()))
def test_every_call_step_functions_makes_for_a_state_machine_is_allowed_by_its_role(machine):
    refused = [(a, r) for a, r in state_machine_calls()[machine] if not allowed(machine, a, r)]
    assert refused == []


def test_each_state_machine_reaches_only_its_own_functions_objects_and_executions():
    parent, target = "OptimizerStateMachine", "OptimizeTargetStateMachine"
    assert not allowed(parent, "lambda:InvokeFunction", function_arn("OptimizeDirectoryFunction"))
    assert not allowed(target, "lambda:InvokeFunction", function_arn("WriteReportFunction"))
    assert not allowed(target, "states:StartExecution", REFS["OptimizeTargetStateMachine"])
    assert not allowed(parent, "s3:GetObject", f"{BUCKET}/reports/2026/11/30/run-1.csv")
    assert not allowed(parent, "s3:GetObject", f"{BUCKET}/runs/run-1/parts/x.jsonl")
    assert not allowed(parent, "s3:PutObject", f"{BUCKET}/runs/run-1/targets.json")
    assert not allowed(parent, "states:StartExecution", f"{STATES}:stateMachine:another-machine")
    assert not allowed(parent, "states:StopExecution", f"{STATES}:execution:another-machine:run-1")
