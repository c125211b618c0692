"""Every AWS call a function makes is allowed by its own policy, in the deployment region and
in another region that `Regions` covers, and every call Step Functions makes for each state
machine is allowed by that state machine's policy: neither the simulator nor the Step Functions
engine evaluates IAM, so this reads the template's statements (Allow, Deny, Resource) the way IAM
would, with the template's Conditions evaluated for the parameters a test gives.
"""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase
from typing import Any

import pytest

from tests.template.test_template import RESOURCES, as_list
from tools.local_run import template
from ws_autopilot.aws.accounts import DRY_RUN_SESSION_POLICY

ACCOUNT, HOME, OTHER, STACK = "123456789012", "us-east-1", "eu-west-1", "autopilot"
MEMBER_ROLE = "arn:aws:iam::222222222222:role/WorkSpacesAutopilotMember"
STATES = f"arn:aws:states:{HOME}:{ACCOUNT}"
ATTRIBUTES = {
    "LedgerTable.Arn": f"arn:aws:dynamodb:{HOME}:{ACCOUNT}:table/autopilot-ledger",
    "ReportBucket.Arn": "arn:aws:s3:::autopilot-reports",
    "AppKey.Arn": f"arn:aws:kms:{HOME}:{ACCOUNT}:key/0000",
    "WorkspaceUserTable.Arn": f"arn:aws:dynamodb:{HOME}:{ACCOUNT}:table/autopilot-users",
    "LoginTable.Arn": f"arn:aws:dynamodb:{HOME}:{ACCOUNT}:table/autopilot-logins",
    "IdempotencyTable.Arn": f"arn:aws:dynamodb:{HOME}:{ACCOUNT}:table/autopilot-idempotency",
    "LoginDeadLetterQueue.Arn": f"arn:aws:sqs:{HOME}:{ACCOUNT}:autopilot-login-dlq",
    "RemediationTable.Arn": f"arn:aws:dynamodb:{HOME}:{ACCOUNT}:table/autopilot-remediation",
    **{
        f"{name}Function.Arn": f"arn:aws:lambda:{HOME}:{ACCOUNT}:function:{STACK}-{name}Function-0123"
        for name in ("ListTargets", "ListDirectories", "OptimizeDirectory", "WriteReport")
    },
}
REFS = {
    "AlertTopic": f"arn:aws:sns:{HOME}:{ACCOUNT}:autopilot-alerts",
    "OptimizeTargetStateMachine": f"{STATES}:stateMachine:{STACK}-optimize-target",
}
LEDGER, KEY, BUCKET = ATTRIBUTES["LedgerTable.Arn"], ATTRIBUTES["AppKey.Arn"], ATTRIBUTES["ReportBucket.Arn"]
LOGINS, TOPIC = ATTRIBUTES["LoginTable.Arn"], REFS["AlertTopic"]
USERS = ATTRIBUTES["WorkspaceUserTable.Arn"]
# Parameters the conditions of the unused WorkSpaces' statements read (template defaults otherwise).
STOPPING = {"UnusedAction": "stop"}
# RebuildPolicy: the remediation's rebuilds are allowed only under Auto.
REBUILDS, NO_REBUILDS = {"RebuildPolicy": "Auto"}, {"RebuildPolicy": "Never"}
TERMINATING = {"UnusedAction": "terminate", "ConfirmTerminateUnused": "yes-terminate-unused-workspaces"}


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
            ("dynamodb:BatchWriteItem", USERS),
            ("s3:PutObject", f"{BUCKET}/runs/run-1/parts/x.jsonl"),
            ("s3:GetObject", f"{BUCKET}/runs/run-1/targets.json"),
            ("pricing:GetProducts", "*"),
            ("s3:GetObject", f"{BUCKET}/pricing/2026/11/30/{region}.json"),
            ("s3:PutObject", f"{BUCKET}/pricing/2026/11/30/{region}.json"),
            ("kms:GenerateDataKey", KEY),
            ("kms:Decrypt", KEY),
            ("sts:AssumeRole", MEMBER_ROLE),
            ("workspaces:DescribeWorkspacesConnectionStatus", "*"),
            ("dynamodb:BatchGetItem", LOGINS),
            ("sns:Publish", TOPIC),
        ],
        "RemediateFunction": [
            ("workspaces:DescribeWorkspaceDirectories", "*"),
            ("workspaces:DescribeWorkspaces", "*"),
            ("workspaces:DescribeWorkspacesConnectionStatus", "*"),
            ("workspaces:DescribeTags", workspace(region)),
            ("workspaces:DescribeWorkspaceSnapshots", workspace(region)),
            ("workspaces:RebootWorkspaces", workspace(region)),
            ("workspaces:RebuildWorkspaces", workspace(region)),
            ("cloudwatch:GetMetricData", "*"),
            ("dynamodb:Scan", ATTRIBUTES["RemediationTable.Arn"]),
            ("dynamodb:PutItem", ATTRIBUTES["RemediationTable.Arn"]),
            ("dynamodb:UpdateItem", ATTRIBUTES["RemediationTable.Arn"]),
            ("dynamodb:DeleteItem", ATTRIBUTES["RemediationTable.Arn"]),
            ("sns:Publish", TOPIC),
            ("kms:GenerateDataKey", KEY),
            ("kms:Decrypt", KEY),
            ("sts:AssumeRole", MEMBER_ROLE),
            ("organizations:ListAccountsForParent", "*"),
            ("organizations:ListOrganizationalUnitsForParent", "*"),
        ],
        "WriteReportFunction": [
            ("s3:ListBucket", BUCKET),
            ("s3:GetObject", f"{BUCKET}/runs/run-1/parts/x.jsonl"),
            ("s3:PutObject", f"{BUCKET}/reports/2026/11/30/run-1.csv"),
            ("dynamodb:DeleteItem", LEDGER),
            ("kms:Decrypt", KEY),
        ],
        "MonthlyDigestFunction": [
            ("s3:ListBucket", BUCKET),
            ("s3:GetObject", f"{BUCKET}/reports/2026/11/30/run-1.csv"),
            ("s3:GetObject", f"{BUCKET}/digests/2026-10.json"),  # the chart's earlier months
            ("s3:PutObject", f"{BUCKET}/digests/2026-11.html"),
            ("s3:PutObject", f"{BUCKET}/digests/2026-11.json"),
            ("dynamodb:GetItem", LEDGER),
            ("dynamodb:PutItem", LEDGER),
            ("dynamodb:UpdateItem", LEDGER),
            ("dynamodb:DeleteItem", LEDGER),
            ("sns:Publish", TOPIC),
            ("kms:GenerateDataKey", KEY),
            ("kms:Decrypt", KEY),
        ],
        "LoginEventsFunction": [
            ("workspaces:DescribeWorkspaces", "*"),
            ("sts:AssumeRole", MEMBER_ROLE),
            ("organizations:ListAccountsForParent", "*"),
            ("organizations:ListOrganizationalUnitsForParent", "*"),
            *[(f"dynamodb:{a}", LOGINS) for a in ("GetItem", "PutItem", "UpdateItem")],
            *[
                (f"dynamodb:{a}", USERS)
                for a in ("GetItem", "BatchGetItem", "PutItem", "BatchWriteItem", "UpdateItem", "DeleteItem")
            ],
            ("dynamodb:Query", f"{USERS}/index/waiting"),
            *[
                (f"dynamodb:{a}", ATTRIBUTES["IdempotencyTable.Arn"])
                for a in ("GetItem", "PutItem", "UpdateItem", "DeleteItem")
            ],
            ("sns:Publish", REFS["AlertTopic"]),
            ("kms:GenerateDataKey", KEY),
            ("kms:Decrypt", KEY),
            ("sqs:SendMessage", ATTRIBUTES["LoginDeadLetterQueue.Arn"]),
        ],
    }


def condition_holds(name: str, dry_run: bool, parameters: dict[str, str]) -> bool:
    """One of the template's Conditions, for a deployment with these parameter values."""
    values = {n: str(p.get("Default", "")) for n, p in template()["Parameters"].items()}
    values.update(parameters, DryRun="true" if dry_run else "false")

    def holds(expression: Any) -> Any:
        if isinstance(expression, dict):
            (function, argument), *_ = expression.items()
            if function == "Ref":
                return values[argument]
            if function == "Condition":
                return holds(template()["Conditions"][argument])
            if function == "Fn::Equals":
                return holds(argument[0]) == holds(argument[1])
            if function == "Fn::Not":
                return not holds(argument[0])
            if function == "Fn::And":
                return all(holds(a) for a in argument)
            raise AssertionError(f"unexpected condition function {function}")
        return str(expression)

    return bool(holds(template()["Conditions"][name]))


def resolve(value: Any, dry_run: bool, parameters: dict[str, str] | None = None) -> Any:
    """A template value with the intrinsics the policies use resolved for a deployment in HOME."""
    parameters = parameters or {}
    if isinstance(value, list):
        return [resolve(v, dry_run, parameters) for v in value]
    if not isinstance(value, dict):
        return value
    if "Fn::If" in value:
        condition, when_true, when_false = value["Fn::If"]
        chosen = when_true if condition_holds(condition, dry_run, parameters) else when_false
        return resolve(chosen, dry_run, parameters)
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


def statements(
    function: str, dry_run: bool, parameters: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    found = []
    for policy in RESOURCES[function]["Properties"].get("Policies", []):
        for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
            found.append(
                {k: resolve(v, dry_run, parameters) for k, v in statement.items() if k != "Condition"}
            )
    return found


def allowed(
    function: str, action: str, resource: str, dry_run: bool = False, parameters: dict[str, str] | None = None
) -> bool:
    def matches(statement: dict[str, Any]) -> bool:
        return any(fnmatchcase(action.lower(), a.lower()) for a in as_list(statement["Action"])) and any(
            fnmatchcase(resource, r) for r in as_list(statement["Resource"])
        )

    applicable = [s for s in statements(function, dry_run, parameters) if matches(s)]
    return any(s["Effect"] == "Allow" for s in applicable) and not any(
        s["Effect"] == "Deny" for s in applicable
    )


@pytest.mark.parametrize("region", [HOME, OTHER])
@pytest.mark.parametrize("function", sorted(calls(HOME)))
def test_every_call_of_the_optimizer_is_allowed_in_every_covered_region(function, region):
    refused = [(a, r) for a, r in calls(region)[function] if not allowed(function, a, r, parameters=REBUILDS)]
    assert refused == []


@pytest.mark.parametrize("region", [HOME, OTHER])
def test_dry_run_denies_the_running_mode_change_in_every_region(region):
    assert not allowed(
        "OptimizeDirectoryFunction", "workspaces:ModifyWorkspaceProperties", workspace(region), True
    )
    assert allowed("OptimizeDirectoryFunction", "workspaces:DescribeWorkspaces", "*", dry_run=True)


def test_the_price_cache_grant_reaches_no_report():
    assert not allowed("OptimizeDirectoryFunction", "s3:PutObject", f"{BUCKET}/reports/2026/11/30/run-1.csv")
    assert not allowed("OptimizeDirectoryFunction", "s3:DeleteObject", f"{BUCKET}/pricing/2026/11/30/x.json")


@pytest.mark.parametrize("region", [HOME, OTHER])
def test_remediation_reboots_and_rebuilds_only_when_allowed_in_every_region(region):
    reboot, rebuild = "workspaces:RebootWorkspaces", "workspaces:RebuildWorkspaces"
    assert allowed("RemediateFunction", reboot, workspace(region), dry_run=False, parameters=NO_REBUILDS)
    assert not allowed("RemediateFunction", rebuild, workspace(region), dry_run=False, parameters=NO_REBUILDS)
    assert not allowed("RemediateFunction", reboot, workspace(region), dry_run=True)
    assert not allowed("RemediateFunction", rebuild, workspace(region), dry_run=True)
    other_account = workspace(region).replace(ACCOUNT, "999999999999")
    assert not allowed("RemediateFunction", reboot, other_account)


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


def test_member_sessions_in_dry_run_are_denied_stopping_and_terminating():
    deny, _keep = json.loads(DRY_RUN_SESSION_POLICY)["Statement"]
    assert deny["Effect"] == "Deny"
    assert {"workspaces:StopWorkspaces", "workspaces:TerminateWorkspaces"} <= set(deny["Action"])


@pytest.mark.parametrize("region", [HOME, OTHER])
def test_unused_workspaces_are_stopped_only_with_unused_action_stop_and_dry_run_off(region):
    stop = ("OptimizeDirectoryFunction", "workspaces:StopWorkspaces", workspace(region))
    assert allowed(*stop, parameters=STOPPING)
    assert not allowed(*stop)  # UnusedAction=report, the default
    assert not allowed(*stop, dry_run=True, parameters=STOPPING)
    assert not allowed(*stop, parameters=TERMINATING)


@pytest.mark.parametrize(
    ("parameters", "dry_run", "may"),
    [
        (TERMINATING, False, True),
        ({"UnusedAction": "terminate"}, False, False),  # no confirmation
        ({"ConfirmTerminateUnused": "yes-terminate-unused-workspaces"}, False, False),  # report
        (STOPPING, False, False),
        (TERMINATING, True, False),  # dry run
    ],
)
def test_terminating_is_allowed_only_with_both_parameters_and_dry_run_off(parameters, dry_run, may):
    terminate = ("OptimizeDirectoryFunction", "workspaces:TerminateWorkspaces", workspace(OTHER))
    assert allowed(*terminate, dry_run=dry_run, parameters=parameters) is may
    assert not allowed(
        "OptimizeDirectoryFunction",
        "workspaces:TerminateWorkspaces",
        workspace(OTHER).replace(ACCOUNT, "999999999999"),
        parameters=TERMINATING,
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
