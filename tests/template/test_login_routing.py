"""How login events reach the application from every covered account and region, read from the
two templates as CloudFormation and IAM would: member-account.yaml's forwarding rule and role,
the application's bus and its policy, and the rule from the bus to the login function."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from typing import Any

import pytest

from tests.support import cfn_template
from tests.support.lambda_runtime import ROOT
from tools.local_run import template

APP = template()
MEMBER_TEMPLATE = cfn_template.load(ROOT / "member-account.yaml")
APP_ACCOUNT, APP_REGION, MEMBER = "123456789012", "us-east-1", "222222222222"


def evaluate(value: Any, names: dict[str, Any], conditions: dict[str, Any]) -> Any:
    """The value with the intrinsic functions these templates use resolved for `names`."""
    if isinstance(value, list):
        return [evaluate(v, names, conditions) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) != 1 or not (
        next(iter(value)) in ("Ref", "Condition") or next(iter(value)).startswith("Fn::")
    ):
        return {k: evaluate(v, names, conditions) for k, v in value.items()}
    if "Ref" in value:
        return names[value["Ref"]]
    if "Condition" in value:
        return evaluate(conditions[value["Condition"]], names, conditions)
    if "Fn::Equals" in value:
        left, right = (evaluate(v, names, conditions) for v in value["Fn::Equals"])
        return left == right
    if "Fn::Not" in value:
        return not evaluate(value["Fn::Not"][0], names, conditions)
    if "Fn::And" in value:
        return all(evaluate(v, names, conditions) for v in value["Fn::And"])
    if "Fn::Or" in value:
        return any(evaluate(v, names, conditions) for v in value["Fn::Or"])
    if "Fn::If" in value:
        condition, when_true, when_false = value["Fn::If"]
        chosen = when_true if evaluate(conditions[condition], names, conditions) else when_false
        return evaluate(chosen, names, conditions)
    if "Fn::Split" in value:
        separator, text = value["Fn::Split"]
        return evaluate(text, names, conditions).split(separator)
    if "Fn::Join" in value:
        separator, items = value["Fn::Join"]
        return separator.join(evaluate(items, names, conditions))
    if "Fn::Sub" in value:
        text, local = (value["Fn::Sub"], {}) if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"]
        scope = {**names, **{k: evaluate(v, names, conditions) for k, v in local.items()}}
        return re.sub(r"\$\{([\w:.]+)\}", lambda m: str(scope[m.group(1)]), text)
    if "Fn::GetAtt" in value:
        return names[".".join(value["Fn::GetAtt"])]
    raise AssertionError(f"unexpected intrinsic {value}")


def app_names(**parameters: str) -> dict[str, Any]:
    defaults = {name: str(p.get("Default", "")) for name, p in APP["Parameters"].items()}
    bus = f"arn:aws:events:{APP_REGION}:{APP_ACCOUNT}:event-bus/ws-autopilot-logins"
    return {
        **defaults,
        **parameters,
        "AWS::AccountId": APP_ACCOUNT,
        "AWS::Region": APP_REGION,
        "AWS::Partition": "aws",
        "LoginEventBus": "ws-autopilot-logins",
        "LoginEventBus.Arn": bus,
    }


def bus_statements(**parameters: str) -> list[dict[str, Any]]:
    """The statements the bus's policy has for a deployment with these parameters."""
    names, conditions = app_names(**parameters), APP["Conditions"]
    found = []
    for resource in APP["Resources"].values():
        if resource["Type"] != "AWS::Events::EventBusPolicy":
            continue
        if "Condition" in resource and not evaluate(conditions[resource["Condition"]], names, conditions):
            continue
        assert resource["Properties"]["EventBusName"] == {"Ref": "LoginEventBus"}
        found.append(evaluate(resource["Properties"]["Statement"], names, conditions))
    return found


def may_put(statements: list[dict[str, Any]], account: str, org_path: str | None = None) -> bool:
    """Whether a principal of `account` (at `org_path` in the organization) may put events on
    the bus, as IAM evaluates these statements."""
    for s in statements:
        if s["Effect"] != "Allow" or s["Action"] != "events:PutEvents":
            continue
        principal = s["Principal"]
        if principal != "*" and account not in (
            principal["AWS"] if isinstance(principal["AWS"], list) else [principal["AWS"]]
        ):
            continue
        patterns = s.get("Condition", {}).get("ForAnyValue:StringLike", {}).get("aws:PrincipalOrgPaths")
        if patterns is not None and not (org_path and any(fnmatchcase(org_path, p) for p in patterns)):
            continue
        if principal == "*" and patterns is None:
            raise AssertionError(f"a statement lets anyone put events: {s}")
        return True
    return False


def test_the_bus_takes_events_from_the_deployment_account_and_the_member_accounts_only():
    alone = bus_statements()
    assert may_put(alone, APP_ACCOUNT) and not may_put(alone, MEMBER)
    listed = bus_statements(MemberAccounts=f"{MEMBER},333333333333")
    assert all(may_put(listed, a) for a in (APP_ACCOUNT, MEMBER, "333333333333"))
    assert not may_put(listed, "999999999999")
    assert all(s["Resource"] == app_names()["LoginEventBus.Arn"] for s in listed)


def test_the_bus_takes_events_from_accounts_anywhere_under_the_organization_parents():
    statements = bus_statements(OrganizationParentIds="r-ab12,ou-ab12-cd34ef56")
    assert may_put(statements, "444444444444", "o-a1b2c3d4e5/r-ab12/")
    assert may_put(statements, "555555555555", "o-a1b2c3d4e5/r-zz99/ou-ab12-cd34ef56/ou-ab12-99999999/")
    assert not may_put(statements, "666666666666", "o-a1b2c3d4e5/r-zz99/ou-zz99-00000000/")
    assert not may_put(statements, "666666666666")  # outside the organization
    assert len(bus_statements()) == 1  # no organization statement without OrganizationParentIds


def test_the_login_function_takes_events_from_its_default_bus_and_from_the_login_bus():
    function = APP["Resources"]["LoginEventsFunction"]["Properties"]
    events = function["Events"]
    assert "EventBusName" not in events["WorkSpacesAccess"]["Properties"]
    forwarded = events["ForwardedWorkSpacesAccess"]["Properties"]
    assert forwarded["EventBusName"] == {"Ref": "LoginEventBus"}
    for rule in (events["WorkSpacesAccess"]["Properties"], forwarded):
        assert rule["Pattern"] == {"source": ["aws.workspaces"], "detail-type": ["WorkSpaces Access"]}
        assert rule["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["LoginDeadLetterQueue", "Arn"]}
    assert APP["Resources"]["LoginEventBus"]["Properties"]["Name"] == {"Ref": "LoginEventBusName"}
    # the member roles trust only this stack's function roles, under its own path
    assert function["RolePath"] == {"Fn::Sub": "/ws-autopilot/${AWS::Region}/${AWS::StackName}/"}
    environment = function["Environment"]["Variables"]
    for variable, parameter in [
        ("REGIONS", "Regions"),
        ("MEMBER_ACCOUNTS", "MemberAccounts"),
        ("ORGANIZATION_PARENT_IDS", "OrganizationParentIds"),
        ("WORKSPACES_API_RATE", "WorkSpacesApiRate"),
        ("WORKSPACES_API_BURST", "WorkSpacesApiBurst"),
        ("LOGIN_LOOKUPS_PER_MINUTE", "LoginLookupsPerMinute"),
    ]:
        assert environment[variable] == {"Ref": parameter}


def test_the_user_table_is_encrypted_with_the_stack_key_expires_items_and_indexes_the_waiting():
    properties = APP["Resources"]["WorkspaceUserTable"]["Properties"]
    assert properties["SSESpecification"] == {
        "SSEEnabled": True,
        "SSEType": "KMS",
        "KMSMasterKeyId": {"Ref": "AppKey"},
    }
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    (index,) = properties["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "waiting"
    optimizer = APP["Resources"]["OptimizeDirectoryFunction"]["Properties"]
    assert optimizer["Environment"]["Variables"]["USER_TABLE"] == {"Ref": "WorkspaceUserTable"}


# ----------------------------------------------------------------------------------------------
# member-account.yaml
# ----------------------------------------------------------------------------------------------
def member_stack(account: str, region: str, **parameters: str) -> set[str]:
    """The resources a stack of member-account.yaml creates in `account` and `region`."""
    defaults = {name: str(p.get("Default", "")) for name, p in MEMBER_TEMPLATE["Parameters"].items()}
    names = {
        **defaults,
        "ApplicationAccountId": APP_ACCOUNT,
        "ApplicationRegion": APP_REGION,
        **parameters,
        "AWS::AccountId": account,
        "AWS::Region": region,
    }
    conditions = MEMBER_TEMPLATE["Conditions"]
    return {
        name
        for name, resource in MEMBER_TEMPLATE["Resources"].items()
        if "Condition" not in resource or evaluate(conditions[resource["Condition"]], names, conditions)
    }


FORWARDING = {"LoginForwardingRule", "LoginForwardingRole"}


@pytest.mark.parametrize(
    ("account", "region", "parameters", "created"),
    [
        # one stack in one region of a member account (as before): the role and the forwarding
        (MEMBER, APP_REGION, {}, {"MemberRole", *FORWARDING}),
        # a StackSet over several regions: the role once, the forwarding in every region
        (MEMBER, "eu-west-1", {"MemberRoleRegion": "us-east-1"}, FORWARDING),
        (MEMBER, "us-east-1", {"MemberRoleRegion": "us-east-1"}, {"MemberRole", *FORWARDING}),
        # the application account's other regions: forwarding only; its own region: nothing
        (APP_ACCOUNT, "eu-west-1", {}, FORWARDING),
        (APP_ACCOUNT, APP_REGION, {}, set()),
        # the application's login events off: its bus is gone, nothing forwards to it
        (MEMBER, APP_REGION, {"ForwardLoginEvents": "false"}, {"MemberRole"}),
        (APP_ACCOUNT, "eu-west-1", {"ForwardLoginEvents": "false"}, set()),
    ],
)
def test_the_member_template_creates_the_role_once_and_forwards_from_every_other_region(
    account, region, parameters, created
):
    assert member_stack(account, region, **parameters) == created


def test_the_forwarding_rule_sends_workspaces_access_events_to_the_application_bus_with_its_role():
    rule = MEMBER_TEMPLATE["Resources"]["LoginForwardingRule"]["Properties"]
    assert rule["EventPattern"] == {"source": ["aws.workspaces"], "detail-type": ["WorkSpaces Access"]}
    assert rule["EventBusName"] == "default"
    (target,) = rule["Targets"]
    bus = (
        "arn:${AWS::Partition}:events:${ApplicationRegion}:${ApplicationAccountId}"
        ":event-bus/${LoginEventBusName}"
    )
    assert target["Arn"] == {"Fn::Sub": bus}
    assert target["RoleArn"] == {"Fn::GetAtt": ["LoginForwardingRole", "Arn"]}
    role = MEMBER_TEMPLATE["Resources"]["LoginForwardingRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "events.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    (policy,) = role["Policies"]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert (statement["Action"], statement["Resource"]) == ("events:PutEvents", {"Fn::Sub": bus})
    assert "RoleName" not in role  # one per regional stack, named by CloudFormation


def test_the_application_tells_member_stacks_whether_to_forward_logins():
    output = APP["Outputs"]["MemberAccountParameters"]["Value"]["Fn::Sub"]
    assert "ForwardLoginEvents=${EnableLoginEvents}" in output.split()
    assert MEMBER_TEMPLATE["Parameters"]["ForwardLoginEvents"]["Default"] == "true"


def test_the_member_template_names_the_bus_the_application_creates():
    assert (
        MEMBER_TEMPLATE["Parameters"]["LoginEventBusName"]["Default"]
        == APP["Parameters"]["LoginEventBusName"]["Default"]
    )
    assert "Default" not in MEMBER_TEMPLATE["Parameters"]["ApplicationRegion"]
