"""Every AWS call a function of the optimizer makes is allowed by its own policy, in the
deployment region and in another region that `Regions` covers: the simulator does not evaluate
IAM, so this reads the template's statements (Allow, Deny, Resource) the way IAM would.
Conditions are not evaluated here; the statements that have one are asserted in test_template.py.
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
ATTRIBUTES = {
    "LedgerTable.Arn": f"arn:aws:dynamodb:{HOME}:{ACCOUNT}:table/autopilot-ledger",
    "ReportBucket.Arn": "arn:aws:s3:::autopilot-reports",
    "AppKey.Arn": f"arn:aws:kms:{HOME}:{ACCOUNT}:key/0000",
    "RemediationTable.Arn": f"arn:aws:dynamodb:{HOME}:{ACCOUNT}:table/autopilot-remediation",
}
TOPIC = f"arn:aws:sns:{HOME}:{ACCOUNT}:autopilot-alerttopic"
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
    }


def resolve(value: Any, dry_run: bool, rebuilds: bool = True) -> Any:
    """A template value with the intrinsics the policies use resolved for a deployment in HOME
    (DryRun as given; RebuildPolicy Auto when `rebuilds`)."""
    if isinstance(value, list):
        return [resolve(v, dry_run, rebuilds) for v in value]
    if not isinstance(value, dict):
        return value
    if "Fn::If" in value:
        condition, when_true, when_false = value["Fn::If"]
        holds = {"IsDryRun": dry_run, "RebuildsAllowed": rebuilds and not dry_run}[condition]
        return resolve(when_true if holds else when_false, dry_run, rebuilds)
    if "Ref" in value:
        return {"AlertTopic": TOPIC}[value["Ref"]]
    if "Fn::GetAtt" in value:
        return ATTRIBUTES[".".join(value["Fn::GetAtt"])]
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


def statements(function: str, dry_run: bool, rebuilds: bool = True) -> list[dict[str, Any]]:
    found = []
    for policy in RESOURCES[function]["Properties"].get("Policies", []):
        for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
            found.append({k: resolve(v, dry_run, rebuilds) for k, v in statement.items() if k != "Condition"})
    return found


def allowed(function: str, action: str, resource: str, dry_run: bool = False, rebuilds: bool = True) -> bool:
    def matches(statement: dict[str, Any]) -> bool:
        return any(fnmatchcase(action.lower(), a.lower()) for a in as_list(statement["Action"])) and any(
            fnmatchcase(resource, r) for r in as_list(statement["Resource"])
        )

    applicable = [s for s in statements(function, dry_run, rebuilds) if matches(s)]
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


@pytest.mark.parametrize("region", [HOME, OTHER])
def test_remediation_reboots_and_rebuilds_only_when_allowed_in_every_region(region):
    reboot, rebuild = "workspaces:RebootWorkspaces", "workspaces:RebuildWorkspaces"
    assert allowed("RemediateFunction", reboot, workspace(region), dry_run=False, rebuilds=False)
    assert not allowed("RemediateFunction", rebuild, workspace(region), dry_run=False, rebuilds=False)
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
