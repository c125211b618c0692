"""Each feature on or off by itself, checked at deploy time, and the first deployment changing
nothing: template.yaml resolved as CloudFormation would deploy it for given parameter values
(conditions evaluated, Fn::If branches picked, Rules checked)."""

import ipaddress
from typing import Any

import botocore.session
import pytest

from tests.support import cfn_template
from tests.support.lambda_runtime import ROOT
from tests.unit.core.test_settings import REMEDIATION_ENV
from ws_autopilot.core.errors import ConfigurationError
from ws_autopilot.remediation.settings import RemediationConfig

TEMPLATE = cfn_template.load(ROOT / "template.yaml")
ALL = set(TEMPLATE["Resources"])
# What each feature deploys, and nothing else does.
FEATURES = {
    "EnableOptimizer": {
        "ListTargetsFunction",
        "ListDirectoriesFunction",
        "OptimizeDirectoryFunction",
        "WriteReportFunction",
        "ListTargetsLogGroup",
        "ListDirectoriesLogGroup",
        "OptimizeDirectoryLogGroup",
        "WriteReportLogGroup",
        "OptimizerStateMachine",
        "OptimizeTargetStateMachine",
        "OptimizeTargetLogGroup",
        "StateMachineLogGroup",
        "RunFailedAlarm",
        "MonthEndBehindScheduleAlarm",
        "LateMonthEndConversionsAlarm",
        "DirectoriesFailedAlarm",
        "RunMissingAlarm",
        "OptimizerErrorsAlarm",
    },
    "EnableLoginEvents": {
        "LoginEventsFunction",
        "LoginEventBus",
        "LoginEventBusFromCoveredAccounts",
        "LoginEventsLogGroup",
        "IdempotencyTable",
        "LoginDeadLetterQueue",
        "LoginDeadLetterQueuePolicy",
        "LoginDeadLetterAlarm",
    },
    "Remediation": {
        "RemediateFunction",
        "RemediateLogGroup",
        "RemediationTable",
        "RemediationTargetsFailedAlarm",
        "RemediationErrorsAlarm",
    },
    "EnableDigest": {"MonthlyDigestFunction", "MonthlyDigestLogGroup", "MonthlyDigestErrorsAlarm"},
}
OFF = {
    "EnableOptimizer": "false",
    "EnableLoginEvents": "false",
    "Remediation": "Off",
    "EnableDigest": "false",
}
# Calls that change a WorkSpace.
CHANGES = {
    "workspaces:ModifyWorkspaceProperties",
    "workspaces:RebootWorkspaces",
    "workspaces:RebuildWorkspaces",
    "workspaces:StopWorkspaces",
    "workspaces:TerminateWorkspaces",
}


def deployed(**overrides: str) -> dict[str, Any]:
    return cfn_template.resolve(TEMPLATE, overrides)


def dangling(resolved: dict[str, Any]) -> dict[str, set[str]]:
    """What a kept resource or output names that is neither a kept resource nor a parameter."""
    known = set(resolved["Resources"]) | set(TEMPLATE["Parameters"])
    return {
        name: missing
        for section in ("Resources", "Outputs")
        for name, body in resolved[section].items()
        if (missing := cfn_template.references({k: v for k, v in body.items() if k != "Condition"}) - known)
    }


def statements(resolved: dict[str, Any], logical_id: str) -> dict[str, dict[str, Any]]:
    properties = resolved["Resources"][logical_id]["Properties"]
    return {s["Sid"]: s for p in properties.get("Policies", []) for s in p["Statement"]}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_everything_is_deployed_by_default_and_nothing_dangles():
    resolved = deployed()
    assert set(resolved["Resources"]) == ALL - {"AlertEmailSubscription", "LoginEventBusFromOrganization"}
    assert dangling(resolved) == {}


@pytest.mark.parametrize("feature", sorted(FEATURES))
def test_each_feature_switched_off_removes_its_resources_and_only_them(feature):
    resolved = deployed(**{feature: OFF[feature]})
    removed = ALL - set(resolved["Resources"]) - {"AlertEmailSubscription", "LoginEventBusFromOrganization"}
    assert removed == FEATURES[feature]
    assert dangling(resolved) == {}, "a kept resource names one switched off"
    assert cfn_template.failed_rules(TEMPLATE, {feature: OFF[feature]}) == []


def test_every_feature_off_leaves_the_shared_parts_only():
    resolved = deployed(**OFF)
    assert set(resolved["Resources"]) == {
        "AppKey",
        "ReportBucket",
        "ReportBucketPolicy",
        "SharedLayer",
        "LedgerTable",
        "LoginTable",
        "AlertTopic",
        "Dashboard",
    }
    assert dangling(resolved) == {}


def test_the_user_map_stays_while_the_optimizer_or_the_login_function_uses_it():
    assert "WorkspaceUserTable" in deployed(EnableOptimizer="false")["Resources"]
    assert "WorkspaceUserTable" in deployed(EnableLoginEvents="false")["Resources"]
    assert (
        "WorkspaceUserTable" not in deployed(EnableOptimizer="false", EnableLoginEvents="false")["Resources"]
    )


def test_logins_from_the_organization_are_taken_only_while_login_events_are_on():
    parents = {"OrganizationParentIds": "ou-ab12-cd34ef56"}
    assert "LoginEventBusFromOrganization" in deployed(**parents)["Resources"]
    assert "LoginEventBusFromOrganization" not in deployed(**parents, EnableLoginEvents="false")["Resources"]


def workspace_changes(resolved: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(function, Sid) -> Effect of every statement naming a call that changes a WorkSpace."""
    return {
        (name, sid): s["Effect"]
        for name, r in resolved["Resources"].items()
        if r["Type"] == "AWS::Serverless::Function"
        for sid, s in statements(resolved, name).items()
        if CHANGES & set(as_list(s["Action"]))
    }


def test_the_first_deployment_changes_nothing_anywhere():
    resolved = deployed()
    effects = workspace_changes(resolved)
    assert set(effects.values()) == {"Deny"} and len(effects) == 5
    for name, r in resolved["Resources"].items():
        if (
            r["Type"] == "AWS::Serverless::Function"
            and "DRY_RUN" in r["Properties"]["Environment"]["Variables"]
        ):
            assert r["Properties"]["Environment"]["Variables"]["DRY_RUN"] == {"Ref": "DryRun"}, name
    assert TEMPLATE["Parameters"]["DryRun"]["Default"] == "true"


@pytest.mark.parametrize(
    ("remediation", "rebuild", "reboot_effect", "rebuild_effect", "dry_run"),
    [
        ("DryRun", "Auto", "Deny", "Deny", "true"),
        ("On", "Never", "Allow", "Deny", "false"),
        ("On", "Auto", "Allow", "Allow", "false"),
    ],
)
def test_remediation_has_its_own_dry_run_so_a_live_optimizer_does_not_start_reboots(
    remediation, rebuild, reboot_effect, rebuild_effect, dry_run
):
    live = {"DryRun": "false", "NotificationEmail": "ops@example.com"}
    resolved = deployed(**live, Remediation=remediation, RebuildPolicy=rebuild)
    by_sid = statements(resolved, "RemediateFunction")
    assert (by_sid["Reboot"]["Effect"], by_sid["Rebuild"]["Effect"]) == (reboot_effect, rebuild_effect)
    variables = resolved["Resources"]["RemediateFunction"]["Properties"]["Environment"]["Variables"]
    env = {
        name: live.get(value["Ref"], remediation)
        for name, value in variables.items()
        if name in ("DRY_RUN", "REMEDIATION")
    }
    assert RemediationConfig.from_env({**REMEDIATION_ENV, **env}).dry_run is (dry_run == "true")
    alarm = resolved["Resources"]["RemediationTargetsFailedAlarm"]["Properties"]
    assert {"Name": "DryRun", "Value": dry_run} in alarm["Dimensions"]  # the metric's own dimension
    # the optimizer is live all the same
    assert statements(resolved, "OptimizeDirectoryFunction")["SwitchRunningMode"]["Effect"] == "Allow"


def test_a_misspelt_remediation_setting_is_named():
    with pytest.raises(ConfigurationError) as refused:
        RemediationConfig.from_env({**REMEDIATION_ENV, "REMEDIATION": "on"})
    assert "REMEDIATION (template parameter Remediation): must be Off, DryRun or On, got 'on'" in str(
        refused.value
    )


def test_the_unused_check_switched_off_stops_and_terminates_nothing_whatever_unused_action_says():
    live = {"DryRun": "false", "NotificationEmail": "ops@example.com"}
    terminate = {"UnusedAction": "terminate", "ConfirmTerminateUnused": "yes-terminate-unused-workspaces"}
    for action in ({"UnusedAction": "stop"}, terminate):
        on = statements(deployed(**live, **action), "OptimizeDirectoryFunction")
        off = statements(deployed(**live, **action, EnableUnusedCheck="false"), "OptimizeDirectoryFunction")
        sid = "StopUnusedWorkSpaces" if action["UnusedAction"] == "stop" else "TerminateUnusedWorkSpaces"
        assert (on[sid]["Effect"], off[sid]["Effect"]) == ("Allow", "Deny")
    function = deployed(EnableUnusedCheck="false")["Resources"]["OptimizeDirectoryFunction"]["Properties"]
    assert function["Environment"]["Variables"]["UNUSED_CHECK"] == {"Ref": "EnableUnusedCheck"}


def test_a_live_deployment_without_an_alert_destination_is_refused():
    (refused,) = cfn_template.failed_rules(TEMPLATE, {"DryRun": "false"})
    assert refused.startswith("LiveDeploymentsNeedAnAlertDestination: DryRun=false needs NotificationEmail")
    assert (
        cfn_template.failed_rules(TEMPLATE, {"DryRun": "false", "NotificationEmail": "ops@example.com"}) == []
    )
    assert cfn_template.failed_rules(TEMPLATE, {}) == []  # the dry run needs none


# -- deploy-time validation -----------------------------------------------------------------------
def accepts(parameter: str, value: str) -> bool:
    """What CloudFormation checks of a parameter's value: AllowedValues and AllowedPattern
    (which must match the whole value), MinValue and MaxValue."""
    return cfn_template.parameter_error(TEMPLATE, parameter, value) is None


def test_a_refused_value_is_named_with_what_the_parameter_takes():
    assert cfn_template.parameter_error(TEMPLATE, "Remediation", "on") == (
        "Remediation='on' is not one of its allowed values (Off, DryRun, On)"
    )
    assert cfn_template.parameter_error(TEMPLATE, "MaxReboots", "9") == "MaxReboots=9: 1 to 5"
    assert cfn_template.parameter_error(TEMPLATE, "NoSuch", "1") == "the template has no parameter NoSuch"


def test_the_autostop_timeout_takes_60_minute_steps_only():
    assert [accepts("AutoStopTimeoutMinutes", str(m)) for m in (60, 90, 120, 2880, 2940, 0)] == [
        True,
        False,
        True,
        True,
        False,
        False,
    ]
    assert TEMPLATE["Parameters"]["AutoStopTimeoutMinutes"]["Default"] == 60


def test_extra_thresholds_name_the_api_compute_types_beyond_the_nine():
    compute = botocore.session.get_session().get_service_model("workspaces").shape_for("Compute").enum
    own = {"VALUE", "STANDARD", "PERFORMANCE", "POWER", "POWERPRO", "GRAPHICS", "GRAPHICSPRO"}
    own |= {"GRAPHICS_G4DN", "GRAPHICSPRO_G4DN"}
    for name in compute:
        assert accepts("ExtraThresholds", f"{name}=120") is (name not in own), name
    assert accepts("ExtraThresholds", "GENERALPURPOSE_4XLARGE=120,GRAPHICS_G6_XLARGE=300")
    assert accepts("ExtraThresholds", "GRAPHICS_G7_12XLARGE=744") and accepts("ExtraThresholds", "")
    for wrong in ("GRAPHICS_G9_XLARGE=120", "GENERALPURPOSE_4XLARGE=745", "GENERALPURPOSE_4XLARGE=", "a=1,"):
        assert not accepts("ExtraThresholds", wrong), wrong


@pytest.mark.parametrize(
    "value",
    [
        "",
        "203.0.113.0/24",
        "203.0.113.0/24, 2001:db8::/32",
        "198.51.100.7",
        "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16",
        "2001:db8:85a3::8a2e:370:7334/128",
        "::1",
        "10.0.0.7/8",  # host bits: the login function's own check (a pattern cannot tell)
    ],
)
def test_the_allow_list_pattern_takes_ip_networks(value):
    assert accepts("AllowedClientNetworks", value)
    for entry in filter(None, (e.strip() for e in value.split(","))):
        ipaddress.ip_network(entry, strict=False)


@pytest.mark.parametrize(
    "value",
    [
        "203.0.113.0/33",
        "256.1.1.1/24",
        "203.0.113/24",
        "0.0.0.0/0",
        "::/0",
        "2001:db8::/129",
        "203.0.113.0/24,",
        "203.0.113.0/24;10.0.0.0/8",
        "example.com",
        "1.2.3.4.5",
    ],
)
def test_the_allow_list_pattern_refuses_what_is_no_network_or_allows_everything(value):
    assert not accepts("AllowedClientNetworks", value)


# -- alarms and overlaps --------------------------------------------------------------------------
def test_the_run_missing_alarm_notifies_a_day_without_a_run_and_a_schedule_that_stopped():
    """A day without a run: FILL makes its 6-hour periods zeros, and 4 of 4 below 1 alarm. A
    window with no datapoint at all (the schedule stopped for days, or FILL gives nothing on an
    empty window): missing data stays missing, the alarm goes to INSUFFICIENT_DATA, and that
    transition notifies. A fresh stack starts in INSUFFICIENT_DATA: no transition, no message."""
    alarm = TEMPLATE["Resources"]["RunMissingAlarm"]["Properties"]
    assert alarm["TreatMissingData"] == "missing"
    assert alarm["AlarmActions"] == alarm["InsufficientDataActions"] == [{"Ref": "AlertTopic"}]
    (expression,) = [m for m in alarm["Metrics"] if "Expression" in m]
    assert expression["Expression"] == "FILL(completed, 0)"
    (completed,) = [m for m in alarm["Metrics"] if m["Id"] == "completed"]
    assert completed["MetricStat"]["Metric"]["MetricName"] == "RunsCompleted"
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"], completed["MetricStat"]["Period"]) == (
        4,
        4,
        21600,
    )


def test_a_long_remediation_scan_does_not_queue_the_next_ones():
    function = TEMPLATE["Resources"]["RemediateFunction"]["Properties"]
    assert function["ReservedConcurrentExecutions"] == 1
    assert function["EventInvokeConfig"] == {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60}
    assert function["Events"]["Scan"]["Properties"]["RetryPolicy"] == {"MaximumRetryAttempts": 0}


def test_threshold_hours_say_they_are_fallbacks_under_the_price_list():
    for name, parameter in TEMPLATE["Parameters"].items():
        if name.startswith("Threshold") and name != "ThresholdSource":
            text = " ".join(parameter["Description"].split())
            assert "Under PriceList (the default): only a fallback" in text, name
    groups = TEMPLATE["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    grouped = [p for g in groups for p in g["Parameters"]]
    assert sorted(grouped) == sorted(TEMPLATE["Parameters"]), "every parameter in exactly one group"
