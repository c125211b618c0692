"""Every AWS call a function of the optimizer (or the login function) makes is allowed by its own
policy, in the deployment region and in another region that `Regions` covers: the simulator does
not evaluate IAM, so this reads the template's statements (Allow, Deny, Resource) the way IAM would.
Conditions are not evaluated here; the statements that have one are asserted in test_template.py.
"""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase
from typing import Any

import pytest

from tests.support.local_run import template
from tests.template.test_template import RESOURCES, as_list
from ws_autopilot.adapters.accounts import DRY_RUN_SESSION_POLICY

ACCOUNT, HOME, OTHER, STACK = "123456789012", "us-east-1", "eu-west-1", "autopilot"
MEMBER_ROLE = "arn:aws:iam::222222222222:role/WorkSpacesAutopilotMember"
ATTRIBUTES = {
    "LedgerTable.Arn": f"arn:aws:dynamodb:{HOME}:{ACCOUNT}:table/autopilot-ledger",
    "ReportBucket.Arn": "arn:aws:s3:::autopilot-reports",
    "AppKey.Arn": f"arn:aws:kms:{HOME}:{ACCOUNT}:key/0000",
    "WorkspaceUserTable.Arn": f"arn:aws:dynamodb:{HOME}:{ACCOUNT}:table/autopilot-users",
    "LoginTable.Arn": f"arn:aws:dynamodb:{HOME}:{ACCOUNT}:table/autopilot-logins",
    "IdempotencyTable.Arn": f"arn:aws:dynamodb:{HOME}:{ACCOUNT}:table/autopilot-idempotency",
    "LoginDeadLetterQueue.Arn": f"arn:aws:sqs:{HOME}:{ACCOUNT}:autopilot-login-dlq",
    "RemediationTable.Arn": f"arn:aws:dynamodb:{HOME}:{ACCOUNT}:table/autopilot-remediation",
}
REFS = {"AlertTopic": f"arn:aws:sns:{HOME}:{ACCOUNT}:autopilot-alerts"}
LEDGER, KEY, BUCKET = ATTRIBUTES["LedgerTable.Arn"], ATTRIBUTES["AppKey.Arn"], ATTRIBUTES["ReportBucket.Arn"]
LOGINS, TOPIC = ATTRIBUTES["LoginTable.Arn"], f"arn:aws:sns:{HOME}:{ACCOUNT}:autopilot-alerts"
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
            ("s3:PutObject", f"{BUCKET}/digests/2026-11.html"),
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
    if "Ref" in value:
        assert value["Ref"] == "AlertTopic", value
        return TOPIC
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
