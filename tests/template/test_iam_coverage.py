"""Every AWS call a function makes is allowed by its own policy, in the deployment region and
in another region that `Regions` covers, and every call Step Functions makes for each state
machine is allowed by that state machine's policy: neither the simulator nor the Step Functions
engine evaluates IAM, so this reads the template's statements (Allow, Deny, Resource) the way IAM
would, with the template's Conditions evaluated for the parameters a test gives.

In a member account, a function's session gets the intersection of member-account.yaml's role
policy (with that stack's `Allow*` parameters) and the session policy the function passes to
AssumeRole (its `member_access()`, from its settings as the template sets them): the same
evaluator reads both, for every function, setting and account kind.
"""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase
from typing import Any

import pytest

from tests.support.cfn_template import evaluate_conditions
from tests.support.lambda_runtime import load_handler_module
from tests.template.test_template import MEMBER, RESOURCES, as_list
from tools.local_run import function_environment, template

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
# Remediation=On: remediation acts at all (its own dry run otherwise).
REBUILDS = {"RebuildPolicy": "Auto", "Remediation": "On"}
NO_REBUILDS = {"RebuildPolicy": "Never", "Remediation": "On"}
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


def condition_holds(
    name: str, dry_run: bool, parameters: dict[str, str], document: dict[str, Any] | None = None
) -> bool:
    """One of the template's (or member-account.yaml's) Conditions, for a deployment with these
    parameter values (in the application account's home region)."""
    document = document or template()
    values = {n: str(p.get("Default", "")) for n, p in document["Parameters"].items()}
    values.update(parameters, DryRun="true" if dry_run else "false")
    values.update({"AWS::AccountId": ACCOUNT, "AWS::Region": HOME, "AWS::Partition": "aws"})
    return evaluate_conditions(document, values)[name]


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


# --- member accounts: member-account.yaml's role intersected with each function's session policy


MEMBER_ACCOUNT = MEMBER_ROLE.split(":")[4]
MEMBER_FUNCTIONS = {  # the functions that assume the member role -> their folder
    "ListDirectoriesFunction": "list_directories",
    "OptimizeDirectoryFunction": "optimize_directory",
    "LoginEventsFunction": "login_events",
    "RemediateFunction": "remediate",
}
MEMBER_SERVICES = ("workspaces:", "tag:", "cloudwatch:")  # what a function calls in a member account
CHANGE_ACTIONS = (
    "workspaces:ModifyWorkspaceProperties",
    "workspaces:StopWorkspaces",
    "workspaces:TerminateWorkspaces",
    "workspaces:RebootWorkspaces",
    "workspaces:RebuildWorkspaces",
)
# member-account.yaml's second keys: its defaults (all false), or all given.
MEMBER_STACKS = {
    "member-defaults": {},
    "member-allows-all": {"AllowStopUnused": "true", "AllowRebuild": "true", "AllowTerminateUnused": "true"},
}
# Every setting that decides what a function may change.
SETTINGS = {
    "dry-run": (True, {"UnusedAction": "stop", "RebuildPolicy": "Auto"}),
    "live-defaults": (False, {}),  # UnusedAction=report, RebuildPolicy=Never
    "live-stop-never": (False, {**STOPPING, **NO_REBUILDS}),
    "live-terminate-auto": (False, {**TERMINATING, **REBUILDS}),
    "live-terminate-unconfirmed": (False, {"UnusedAction": "terminate", **REBUILDS}),
    "live-remediation-dry-run": (False, {**STOPPING, **REBUILDS, "Remediation": "DryRun"}),
    "live-unused-check-off": (False, {**TERMINATING, **REBUILDS, "EnableUnusedCheck": "false"}),
}


class _Refs(dict[str, str]):
    """The stack's values for a function's environment; any resource not listed gets a name."""

    def __missing__(self, key: str) -> str:
        return f"autopilot-{key.lower().replace('.', '-')}"


def member_access(function: str, dry_run: bool, parameters: dict[str, str], monkeypatch: Any) -> Any:
    """The function's own `member_access()`, under the environment the template gives it for
    these parameters: what its member sessions carry."""
    values = {n: str(p.get("Default", "")) for n, p in template()["Parameters"].items()}
    values.update(parameters, DryRun="true" if dry_run else "false")
    refs = _Refs(
        {
            **values,
            **ATTRIBUTES,
            **REFS,
            "AWS::Region": HOME,
            "AWS::AccountId": ACCOUNT,
            "AWS::StackName": STACK,
            "AWS::Partition": "aws",
            "AWS::StackId": f"arn:aws:cloudformation:{HOME}:{ACCOUNT}:stack/{STACK}/0000",
            "ReportBucket": "autopilot-reports",
        }
    )
    for name, value in function_environment(function, refs).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_REGION", HOME)
    return load_handler_module(MEMBER_FUNCTIONS[function]).member_access()


def member_role_statements(member_parameters: dict[str, str]) -> list[dict[str, Any]]:
    """member-account.yaml's role policy, resolved for a member stack with these parameters."""
    names = {"AWS::Partition": "aws", "AWS::AccountId": MEMBER_ACCOUNT, "AWS::Region": OTHER}

    def resolve_member(value: Any) -> Any:
        if isinstance(value, list):
            return [resolve_member(v) for v in value]
        if isinstance(value, dict) and "Fn::If" in value:
            condition, when_true, when_false = value["Fn::If"]
            holds = condition_holds(condition, False, member_parameters, MEMBER)
            return resolve_member(when_true if holds else when_false)
        if isinstance(value, dict) and "Fn::Sub" in value:
            return re.sub(r"\$\{([\w:.]+)\}", lambda m: names[m.group(1)], value["Fn::Sub"])
        assert not isinstance(value, dict), f"unexpected intrinsic {value}"
        return value

    return [
        {k: resolve_member(v) for k, v in statement.items()}
        for policy in MEMBER["Resources"]["MemberRole"]["Properties"]["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def permits(policy: list[dict[str, Any]], action: str, resource: str) -> bool:
    """IAM's reading of one policy: an Allow matches and no Deny does."""
    applicable = [
        s
        for s in policy
        if any(fnmatchcase(action.lower(), a.lower()) for a in as_list(s["Action"]))
        and any(fnmatchcase(resource, r) for r in as_list(s["Resource"]))
    ]
    return any(s["Effect"] == "Allow" for s in applicable) and not any(
        s["Effect"] == "Deny" for s in applicable
    )


def member_allowed(access: Any, member_parameters: dict[str, str], action: str, resource: str) -> bool:
    """A member session's permission: the role's and the session policy's, both."""
    session = json.loads(access.session_policy())["Statement"]
    return permits(member_role_statements(member_parameters), action, resource) and permits(
        session, action, resource
    )


def member_workspace(region: str) -> str:
    return workspace(region).replace(ACCOUNT, MEMBER_ACCOUNT)


def expected_changes(
    function: str, dry_run: bool, parameters: dict[str, str], member: dict[str, str]
) -> set[str]:
    """What each function may change, written from the issue (not from the code under test):
    the second key of a member stack applies in member accounts only (`member` is None in the
    deployment account)."""
    settings = {n: str(p.get("Default", "")) for n, p in template()["Parameters"].items()} | parameters
    if dry_run or function in ("ListDirectoriesFunction", "LoginEventsFunction"):
        return set()

    def second_key(name: str) -> bool:
        return member is None or member.get(name) == "true"

    changes = set()
    if function == "OptimizeDirectoryFunction":
        changes.add("workspaces:ModifyWorkspaceProperties")
        unused_on = settings["EnableUnusedCheck"] == "true"
        if unused_on and settings["UnusedAction"] == "stop" and second_key("AllowStopUnused"):
            changes.add("workspaces:StopWorkspaces")
        confirmed = settings["ConfirmTerminateUnused"] == TERMINATING["ConfirmTerminateUnused"]
        terminating = settings["UnusedAction"] == "terminate" and confirmed
        if unused_on and terminating and second_key("AllowTerminateUnused"):
            changes.add("workspaces:TerminateWorkspaces")
    if function == "RemediateFunction" and settings["Remediation"] == "On":
        changes.add("workspaces:RebootWorkspaces")
        if settings["RebuildPolicy"] == "Auto" and second_key("AllowRebuild"):
            changes.add("workspaces:RebuildWorkspaces")
    return changes


@pytest.mark.parametrize("account", ["deployment", *MEMBER_STACKS])
@pytest.mark.parametrize("setting", sorted(SETTINGS))
@pytest.mark.parametrize("function", sorted(MEMBER_FUNCTIONS))
def test_each_function_can_change_only_what_its_settings_allow_in_every_account(
    function, setting, account, monkeypatch
):
    dry_run, parameters = SETTINGS[setting]
    if account == "deployment":
        member = None
        may = {a for a in CHANGE_ACTIONS if allowed(function, a, workspace(OTHER), dry_run, parameters)}
    else:
        member = MEMBER_STACKS[account]
        access = member_access(function, dry_run, parameters, monkeypatch)
        may = {a for a in CHANGE_ACTIONS if member_allowed(access, member, a, member_workspace(OTHER))}
    assert may == expected_changes(function, dry_run, parameters, member)


@pytest.mark.parametrize("member", sorted(MEMBER_STACKS))
@pytest.mark.parametrize("setting", sorted(SETTINGS))
@pytest.mark.parametrize("function", sorted(MEMBER_FUNCTIONS))
def test_every_read_a_function_makes_in_a_member_account_is_allowed_whatever_its_settings(
    function, setting, member, monkeypatch
):
    dry_run, parameters = SETTINGS[setting]
    access = member_access(function, dry_run, parameters, monkeypatch)
    reads = [
        (a, r.replace(ACCOUNT, MEMBER_ACCOUNT))
        for a, r in calls(OTHER)[function]
        if a.startswith(MEMBER_SERVICES) and a not in CHANGE_ACTIONS
    ]
    assert reads, "the function reads in member accounts"
    assert [(a, r) for a, r in reads if not member_allowed(access, MEMBER_STACKS[member], a, r)] == []


def test_live_with_rebuilds_never_and_unused_reported_no_member_session_rebuilds_stops_or_terminates(
    monkeypatch,
):
    """The issue's first "done when", with the member stacks allowing everything they can: only
    the application's settings hold the line."""
    live = {"UnusedAction": "report", **NO_REBUILDS}
    everything = MEMBER_STACKS["member-allows-all"]
    target = member_workspace(HOME)
    for function in MEMBER_FUNCTIONS:
        access = member_access(function, False, live, monkeypatch)
        for action in (
            "workspaces:RebuildWorkspaces",
            "workspaces:StopWorkspaces",
            "workspaces:TerminateWorkspaces",
        ):
            assert not member_allowed(access, everything, action, target), (function, action)
    login = member_access("LoginEventsFunction", False, {**TERMINATING, **REBUILDS}, monkeypatch)
    assert [a for a in CHANGE_ACTIONS if member_allowed(login, everything, a, target)] == []
    remediation = member_access("RemediateFunction", False, live, monkeypatch)
    assert member_allowed(remediation, everything, "workspaces:RebootWorkspaces", target)
    assert not member_allowed(
        remediation,
        everything,
        "workspaces:RebootWorkspaces",
        workspace(HOME).replace(ACCOUNT, "999999999999"),
    )
