"""Assertions on template.yaml as CloudFormation will see it."""

import re
import tomllib
from fnmatch import fnmatchcase
from typing import Any

import pytest

from tests.support import cfn_template
from tests.support.lambda_runtime import ROOT
from tools.local_run import template

RESOURCES = template()["Resources"]
FUNCTIONS = {k: v for k, v in RESOURCES.items() if v["Type"] == "AWS::Serverless::Function"}


def iam_statements() -> list[tuple[str, dict[str, Any]]]:
    """Every inline IAM statement of the functions and the state machine."""
    found = []
    for name, resource in RESOURCES.items():
        if resource["Type"] not in ("AWS::Serverless::Function", "AWS::Serverless::StateMachine"):
            continue
        for policy in resource["Properties"].get("Policies", []):
            for statement in policy.get("Statement", []) if isinstance(policy, dict) else []:
                found.append((name, statement))
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_every_function_logs_to_its_own_log_group_with_retention(function):
    log_group_ref = FUNCTIONS[function]["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    log_group = RESOURCES[log_group_ref]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


@pytest.mark.parametrize("machine", ["OptimizerStateMachine", "OptimizeTargetStateMachine"])
def test_each_state_machine_logs_to_a_log_group_with_retention(machine):
    machine = RESOURCES[machine]["Properties"]
    arn = machine["Logging"]["Destinations"][0]["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"]
    assert RESOURCES[arn[0]]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_no_iam_statement_grants_wildcard_actions():
    for name, statement in iam_statements():
        for action in as_list(statement["Action"]):
            assert "*" not in action, f"{name} {statement.get('Sid')} grants {action}"


def test_every_iam_statement_has_a_sid():
    assert all("Sid" in statement for _, statement in iam_statements())


def test_running_mode_changes_are_scoped_to_workspaces_and_denied_in_dry_run():
    (statement,) = [s for _, s in iam_statements() if s.get("Sid") == "SwitchRunningMode"]
    assert statement["Action"] == "workspaces:ModifyWorkspaceProperties"
    assert statement["Effect"] == {"Fn::If": ["IsDryRun", "Deny", "Allow"]}
    assert ":workspace/*" in statement["Resource"]["Fn::Sub"]


def test_only_the_account_administers_the_key():
    statements = RESOURCES["AppKey"]["Properties"]["KeyPolicy"]["Statement"]
    for statement in statements:
        if "kms:*" in as_list(statement["Action"]):
            assert statement["Principal"] == {
                "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
            }
    assert RESOURCES["AppKey"]["Properties"]["EnableKeyRotation"] is True


def test_report_bucket_is_encrypted_private_tls_only_and_expires_reports():
    bucket = RESOURCES["ReportBucket"]["Properties"]
    (rule,) = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    expiry = {r["Id"]: r for r in bucket["LifecycleConfiguration"]["Rules"]}
    assert expiry["ExpireReports"]["ExpirationInDays"] == {"Ref": "ReportRetentionDays"}
    (deny,) = RESOURCES["ReportBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert (deny["Effect"], deny["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})


def test_alert_topic_is_encrypted():
    assert RESOURCES["AlertTopic"]["Properties"]["KmsMasterKeyId"] == {"Ref": "AppKey"}


def test_every_parameter_is_described_and_constrained():
    for name, parameter in template()["Parameters"].items():
        assert parameter.get("Description"), name
        constrained = {"AllowedValues", "AllowedPattern", "MinValue"} & set(parameter)
        assert constrained, f"{name} accepts anything"


def test_the_nine_thresholds_default_to_the_rules_page():
    defaults = {
        n: p["Default"]
        for n, p in template()["Parameters"].items()
        if n.startswith("Threshold") and n != "ThresholdSource"
    }
    assert defaults == {
        "ThresholdValue": 81,
        "ThresholdStandard": 85,
        "ThresholdPerformance": 80,
        "ThresholdPower": 92,
        "ThresholdPowerPro": 78,
        "ThresholdGraphics": 217,
        "ThresholdGraphicsPro": 80,
        "ThresholdGraphicsG4dn": 334,
        "ThresholdGraphicsProG4dn": 80,
    }


def test_thresholds_come_from_prices_by_default_with_the_hours_as_fallback():
    parameter = template()["Parameters"]["ThresholdSource"]
    assert (parameter["Default"], parameter["AllowedValues"]) == ("PriceList", ["PriceList", "Parameters"])
    variables = RESOURCES["OptimizeDirectoryFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["THRESHOLD_SOURCE"] == {"Ref": "ThresholdSource"}


def test_types_that_do_not_hibernate_are_kept_always_on_unless_the_operator_says_otherwise():
    parameter = template()["Parameters"]["NoHibernationTypes"]
    assert (parameter["Default"], parameter["AllowedValues"]) == (
        "KeepAlwaysOn",
        ["KeepAlwaysOn", "ConvertToAutoStop"],
    )
    variables = RESOURCES["OptimizeDirectoryFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["NO_HIBERNATION_TYPES"] == {"Ref": "NoHibernationTypes"}
    groups = template()["Metadata"]["AWS::CloudFormation::Interface"]["ParameterGroups"]
    (group,) = [g["Parameters"] for g in groups if "ConversionTiming" in g["Parameters"]]
    assert "NoHibernationTypes" in group


def test_the_price_cache_is_its_own_prefix_that_expires():
    rules = {r["Id"]: r for r in RESOURCES["ReportBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert (rules["ExpirePriceCache"]["Prefix"], rules["ExpirePriceCache"]["ExpirationInDays"]) == (
        "pricing/",
        7,
    )
    statements = {s["Sid"]: s for name, s in iam_statements() if name == "OptimizeDirectoryFunction"}
    assert statements["ReadWorkSpacesPrices"]["Action"] == "pricing:GetProducts"
    assert statements["CachePrices"]["Resource"] == {"Fn::Sub": "${ReportBucket.Arn}/pricing/*"}


def test_dry_run_is_the_default():
    assert template()["Parameters"]["DryRun"]["Default"] == "true"


def test_the_schedule_starts_the_state_machine_in_utc():
    event = RESOURCES["OptimizerStateMachine"]["Properties"]["Events"]["Daily"]
    assert event["Type"] == "ScheduleV2"
    assert event["Properties"]["ScheduleExpressionTimezone"] == "UTC"
    assert event["Properties"]["ScheduleExpression"] == {"Ref": "ScheduleExpression"}


def test_a_month_end_run_starts_early_on_the_last_day_in_utc():
    event = RESOURCES["OptimizerStateMachine"]["Properties"]["Events"]["MonthEnd"]
    assert event["Type"] == "ScheduleV2"
    assert event["Properties"]["ScheduleExpressionTimezone"] == "UTC"
    assert event["Properties"]["ScheduleExpression"] == {"Ref": "MonthEndScheduleExpression"}
    assert template()["Parameters"]["MonthEndScheduleExpression"]["Default"] == "cron(0 12 L * ? *)"


def test_late_and_behind_schedule_month_end_resets_alarm_to_the_alert_topic():
    for alarm, metric in [
        ("LateMonthEndConversionsAlarm", "LateMonthEndConversions"),
        ("MonthEndBehindScheduleAlarm", "MonthEndBehindSchedule"),
    ]:
        properties = RESOURCES[alarm]["Properties"]
        assert (properties["Namespace"], properties["MetricName"]) == ("WorkSpacesAutopilot", metric)
        assert properties["AlarmActions"] == [{"Ref": "AlertTopic"}]


def test_the_ledger_is_recoverable_and_the_run_lock_is_all_that_start_and_end_touch():
    assert RESOURCES["LedgerTable"]["Properties"]["PointInTimeRecoverySpecification"] == {
        "PointInTimeRecoveryEnabled": True
    }
    for sid in ("TakeRunLock", "ReleaseRunLock"):
        (statement,) = [s for _, s in iam_statements() if s.get("Sid") == sid]
        assert statement["Condition"] == {
            "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["RUN#optimizer"]}
        }


def test_directory_optimization_runs_at_most_one_invocation_per_account_and_region():
    properties = RESOURCES["OptimizeDirectoryFunction"]["Properties"]
    assert properties["ReservedConcurrentExecutions"] == {"Ref": "MapConcurrency"}


def test_conversions_to_auto_stop_set_the_timeout_parameter_in_hour_steps():
    parameter = template()["Parameters"]["AutoStopTimeoutMinutes"]
    assert parameter["Default"] == 60
    assert parameter["AllowedValues"] == list(range(60, 2881, 60))
    environment = RESOURCES["OptimizeDirectoryFunction"]["Properties"]["Environment"]["Variables"]
    assert environment["AUTO_STOP_TIMEOUT_MINUTES"] == {"Ref": "AutoStopTimeoutMinutes"}


def test_login_events_come_from_the_workspaces_access_rule_and_failures_are_dead_lettered():
    function = RESOURCES["LoginEventsFunction"]["Properties"]
    rule = function["Events"]["WorkSpacesAccess"]
    assert rule["Type"] == "EventBridgeRule"
    assert rule["Properties"]["Pattern"] == {
        "source": ["aws.workspaces"],
        "detail-type": ["WorkSpaces Access"],
    }
    assert rule["Properties"]["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": ["LoginDeadLetterQueue", "Arn"]}
    on_failure = function["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
    assert on_failure == {"Type": "SQS", "Destination": {"Fn::GetAtt": ["LoginDeadLetterQueue", "Arn"]}}
    alarm = RESOURCES["LoginDeadLetterAlarm"]["Properties"]
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["LoginDeadLetterQueue", "QueueName"]}}
    ]
    assert alarm["AlarmActions"] == [{"Ref": "AlertTopic"}]


@pytest.mark.parametrize("table", ["LoginTable", "IdempotencyTable", "RemediationTable", "LedgerTable"])
def test_tables_are_encrypted_with_the_stack_key_and_expire_items(table):
    properties = RESOURCES[table]["Properties"]
    assert properties["SSESpecification"] == {
        "SSEEnabled": True,
        "SSEType": "KMS",
        "KMSMasterKeyId": {"Ref": "AppKey"},
    }
    assert properties["TimeToLiveSpecification"]["Enabled"] is True


def test_login_records_have_point_in_time_recovery_and_a_retention_parameter():
    properties = RESOURCES["LoginTable"]["Properties"]
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    variables = RESOURCES["LoginEventsFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["LOGIN_RETENTION_DAYS"] == {"Ref": "LoginRetentionDays"}


def test_login_function_reaches_only_its_table_topic_and_queue():
    statements = {s["Sid"]: s for name, s in iam_statements() if name == "LoginEventsFunction"}
    assert statements["RecordLogins"]["Resource"] == {"Fn::GetAtt": ["LoginTable", "Arn"]}
    assert statements["DeduplicateEvents"]["Resource"] == {"Fn::GetAtt": ["IdempotencyTable", "Arn"]}
    assert statements["PublishLoginAlerts"]["Resource"] == {"Ref": "AlertTopic"}
    assert statements["DeadLetterFailedEvents"]["Resource"] == {"Fn::GetAtt": ["LoginDeadLetterQueue", "Arn"]}
    assert "dynamodb:Scan" not in str(statements)


def test_remediation_runs_one_scan_at_a_time_on_a_schedule():
    function = RESOURCES["RemediateFunction"]["Properties"]
    assert function["ReservedConcurrentExecutions"] == 1
    assert function["Events"]["Scan"]["Properties"]["ScheduleExpression"] == {"Ref": "RemediationSchedule"}


def test_reboots_and_rebuilds_are_scoped_to_workspaces_and_denied_in_dry_run():
    statements = {s["Sid"]: s for name, s in iam_statements() if name == "RemediateFunction"}
    assert statements["Reboot"]["Action"] == "workspaces:RebootWorkspaces"
    assert statements["Reboot"]["Effect"] == {"Fn::If": ["RebootsAllowed", "Allow", "Deny"]}
    assert statements["Rebuild"]["Action"] == "workspaces:RebuildWorkspaces"
    assert statements["Rebuild"]["Effect"] == {"Fn::If": ["RebuildsAllowed", "Allow", "Deny"]}
    # (remediation's own dry run: tests/template/test_features.py)
    assert template()["Conditions"]["RemediationActs"] == {
        "Fn::And": [
            {"Fn::Not": [{"Condition": "IsDryRun"}]},
            {"Fn::Equals": [{"Ref": "Remediation"}, "On"]},
        ]
    }
    assert template()["Conditions"]["RebootsAllowed"] == {"Condition": "RemediationActs"}
    assert template()["Conditions"]["RebuildsAllowed"] == {
        "Fn::And": [
            {"Condition": "RemediationActs"},
            {"Fn::Equals": [{"Ref": "RebuildPolicy"}, "Auto"]},
        ]
    }
    for sid in ("Reboot", "Rebuild"):
        assert statements[sid]["Resource"] == {
            "Fn::Sub": "arn:${AWS::Partition}:workspaces:*:${AWS::AccountId}:workspace/*"
        }


def test_remediation_reaches_member_accounts_through_their_role_only():
    function = RESOURCES["RemediateFunction"]["Properties"]
    assert function["RolePath"] == {"Fn::Sub": "/ws-autopilot/${AWS::Region}/${AWS::StackName}/"}
    statements = {s["Sid"]: s for name, s in iam_statements() if name == "RemediateFunction"}
    assert statements["AssumeMemberRoles"]["Resource"] == {
        "Fn::Sub": "arn:${AWS::Partition}:iam::*:role/${MemberRoleName}"
    }
    variables = function["Environment"]["Variables"]
    for variable, parameter in {
        "REGIONS": "Regions",
        "MEMBER_ACCOUNTS": "MemberAccounts",
        "ORGANIZATION_PARENT_IDS": "OrganizationParentIds",
        "MEMBER_ROLE_NAME": "MemberRoleName",
        "EXTERNAL_ID": "AWS::StackId",
        "REMEDIATION_API_RATE": "RemediationApiRate",
    }.items():
        assert variables[variable] == {"Ref": parameter}


def test_rebuilds_are_off_unless_the_operator_allows_them():
    assert template()["Parameters"]["RebuildPolicy"]["Default"] == "Never"
    assert template()["Parameters"]["RebuildPolicy"]["AllowedValues"] == ["Never", "Auto"]


MEMBER = cfn_template.load(ROOT / "member-account.yaml")


MEMBER_ROLE_FUNCTIONS = (
    "ListDirectoriesFunction",
    "OptimizeDirectoryFunction",
    "LoginEventsFunction",
    "RemediateFunction",
)


def sub(text: str, values: dict[str, str]) -> str:
    return re.sub(r"\$\{([\w:]+)\}", lambda m: values[m.group(1)], text)


def test_member_role_trusts_only_the_function_roles_of_one_stack_with_its_id_as_external_id():
    role = MEMBER["Resources"]["MemberRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {
        "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${ApplicationAccountId}:root"}
    }
    assert trust["Condition"]["StringEquals"] == {"sts:ExternalId": {"Ref": "ExternalId"}}
    trusted = trust["Condition"]["ArnLike"]["aws:PrincipalArn"]["Fn::Sub"]
    member_stack = {
        "AWS::Partition": "aws",
        "ApplicationAccountId": "123456789012",
        "ApplicationRegion": "us-east-1",
        "ApplicationStackName": "autopilot",
    }
    pattern = sub(trusted, member_stack)
    # the function roles the application stack creates, by their path
    paths = {RESOURCES[name]["Properties"]["RolePath"]["Fn::Sub"] for name in MEMBER_ROLE_FUNCTIONS}
    (path,) = paths
    role_arn = "arn:aws:iam::123456789012:role" + sub(
        path, {"AWS::Region": "us-east-1", "AWS::StackName": "autopilot"}
    )
    assert fnmatchcase(role_arn + "autopilot-RemediateFunctionRole-AB12CD34", pattern)
    for stranger in (
        "arn:aws:iam::123456789012:role/ws-autopilot/us-east-1/autopilot-test/autopilot-test-Role-1",
        "arn:aws:iam::123456789012:role/ws-autopilot/eu-west-1/autopilot/autopilot-Role-1",
        "arn:aws:iam::123456789012:role/ws-autopilot/admin",
        "arn:aws:iam::999999999999:role/ws-autopilot/us-east-1/autopilot/autopilot-Role-1",
    ):
        assert not fnmatchcase(stranger, pattern), stranger
    # only the functions that assume the member role are under that path
    assert {n for n, f in FUNCTIONS.items() if "RolePath" in f["Properties"]} == set(MEMBER_ROLE_FUNCTIONS)


def test_the_external_id_is_the_stack_id_and_the_stack_gives_every_member_parameter():
    for name in MEMBER_ROLE_FUNCTIONS:
        variables = RESOURCES[name]["Properties"]["Environment"]["Variables"]
        assert variables["EXTERNAL_ID"] == {"Ref": "AWS::StackId"}
    assert "ExternalId" not in template()["Parameters"]
    assert re.fullmatch(
        MEMBER["Parameters"]["ExternalId"]["AllowedPattern"],
        "arn:aws-us-gov:cloudformation:us-gov-west-1:123456789012:stack/autopilot/1a2b3c4d-0000-1111-2222-333344445555",
    )
    assert not re.fullmatch(MEMBER["Parameters"]["ExternalId"]["AllowedPattern"], "ws-autopilot")
    output = template()["Outputs"]["MemberAccountParameters"]["Value"]["Fn::Sub"]
    given = {pair.split("=")[0] for pair in output.split()}
    required = {n for n, p in MEMBER["Parameters"].items() if "Default" not in p}
    assert required <= given <= set(MEMBER["Parameters"])


def member_actions(policy_name: str) -> list[str]:
    (policy,) = [
        p
        for p in MEMBER["Resources"]["MemberRole"]["Properties"]["Policies"]
        if p["PolicyName"] == policy_name
    ]
    return sorted(a for s in policy["PolicyDocument"]["Statement"] for a in as_list(s["Action"]))


def test_member_role_grants_only_what_the_functions_call():
    assert member_actions("optimize-workspaces") == [
        "cloudwatch:GetMetricData",
        "tag:GetResources",
        "workspaces:DescribeTags",
        "workspaces:DescribeWorkspaceDirectories",
        "workspaces:DescribeWorkspaces",
        "workspaces:DescribeWorkspacesConnectionStatus",
        "workspaces:ModifyWorkspaceProperties",
        "workspaces:StopWorkspaces",
        "workspaces:TerminateWorkspaces",
    ]
    # (connection status, which remediation reads too, is granted in optimize-workspaces)
    assert member_actions("remediate-workspaces") == [
        "workspaces:DescribeWorkspaceSnapshots",
        "workspaces:RebootWorkspaces",
        "workspaces:RebuildWorkspaces",
    ]
    changes = [
        s
        for p in MEMBER["Resources"]["MemberRole"]["Properties"]["Policies"]
        for s in p["PolicyDocument"]["Statement"]
        if s["Sid"] in ("RebootUnhealthyWorkSpaces", "RebuildUnhealthyWorkSpaces")
    ]
    assert [c["Resource"] for c in changes] == [
        {"Fn::Sub": "arn:${AWS::Partition}:workspaces:*:${AWS::AccountId}:workspace/*"}
    ] * 2


@pytest.mark.parametrize(
    ("sid", "condition", "parameter"),
    [
        ("StopUnusedWorkSpaces", "StopsUnused", "AllowStopUnused"),
        ("TerminateUnusedWorkSpaces", "TerminatesUnused", "AllowTerminateUnused"),
        ("RebuildUnhealthyWorkSpaces", "Rebuilds", "AllowRebuild"),
    ],
)
def test_member_accounts_allow_stopping_terminating_and_rebuilding_only_when_their_stack_says_so(
    sid, condition, parameter
):
    (statement,) = [
        s
        for p in MEMBER["Resources"]["MemberRole"]["Properties"]["Policies"]
        for s in p["PolicyDocument"]["Statement"]
        if s["Sid"] == sid
    ]
    assert statement["Effect"] == {"Fn::If": [condition, "Allow", "Deny"]}
    assert MEMBER["Conditions"][condition] == {"Fn::Equals": [{"Ref": parameter}, "true"]}
    assert MEMBER["Parameters"][parameter]["Default"] == "false"


def test_the_member_template_defaults_match_the_application_parameters():
    assert (
        MEMBER["Parameters"]["MemberRoleName"]["Default"]
        == template()["Parameters"]["MemberRoleName"]["Default"]
    )


@pytest.mark.parametrize("resource", ["AppKey", "ReportBucket", "LedgerTable"])
def test_the_key_and_what_only_it_can_read_outlive_the_stack(resource):
    assert RESOURCES[resource]["DeletionPolicy"] == "Retain"
    assert RESOURCES[resource]["UpdateReplacePolicy"] == "Retain"


def test_samconfig_pins_no_parameter_so_switching_dry_run_off_sticks():
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    assert "parameter_overrides" not in config["default"]["deploy"]["parameters"]


def test_unused_workspaces_are_only_reported_unless_the_operator_says_otherwise():
    parameters = template()["Parameters"]
    assert (parameters["UnusedAction"]["Default"], parameters["UnusedMonths"]["Default"]) == ("report", 2)
    assert parameters["ConfirmTerminateUnused"]["AllowedValues"] == ["", "yes-terminate-unused-workspaces"]
    assert parameters["ConfirmTerminateUnused"]["Default"] == ""


def test_the_template_refuses_terminate_without_the_confirmation_at_deploy_time():
    rule = template()["Rules"]["TerminatingUnusedWorkSpacesNeedsConfirmation"]
    assert rule["RuleCondition"] == {"Fn::Equals": [{"Ref": "UnusedAction"}, "terminate"]}
    (assertion,) = rule["Assertions"]
    assert assertion["Assert"] == {
        "Fn::Equals": [{"Ref": "ConfirmTerminateUnused"}, "yes-terminate-unused-workspaces"]
    }


def test_stopping_and_terminating_unused_workspaces_are_scoped_to_workspaces_and_conditional():
    by_sid = {s.get("Sid"): s for name, s in iam_statements() if name == "OptimizeDirectoryFunction"}
    for sid, condition in (
        ("StopUnusedWorkSpaces", "StopsUnused"),
        ("TerminateUnusedWorkSpaces", "TerminatesUnused"),
    ):
        assert by_sid[sid]["Effect"] == {"Fn::If": [condition, "Allow", "Deny"]}
        assert ":workspace/*" in by_sid[sid]["Resource"]["Fn::Sub"]
    conditions = template()["Conditions"]
    assert {"Fn::Not": [{"Condition": "IsDryRun"}]} in conditions["TerminatesUnused"]["Fn::And"]
    assert {"Fn::Not": [{"Condition": "IsDryRun"}]} in conditions["StopsUnused"]["Fn::And"]


def test_the_optimizer_reads_only_the_login_time_of_the_login_records():
    (statement,) = [s for _, s in iam_statements() if s.get("Sid") == "ReadLastLoginTimes"]
    assert statement["Action"] == "dynamodb:BatchGetItem"
    assert statement["Condition"]["ForAllValues:StringEquals"] == {
        "dynamodb:Attributes": ["workspace_id", "sk", "login_time"]
    }


def test_the_monthly_digest_runs_on_the_first_in_utc_for_the_scheduled_month():
    event = RESOURCES["MonthlyDigestFunction"]["Properties"]["Events"]["Monthly"]
    assert event["Type"] == "ScheduleV2"
    assert event["Properties"]["ScheduleExpressionTimezone"] == "UTC"
    assert template()["Parameters"]["DigestScheduleExpression"]["Default"] == "cron(0 6 1 * ? *)"
    assert "<aws.scheduler.scheduled-time>" in event["Properties"]["Input"]
    assert RESOURCES["MonthlyDigestFunction"]["Properties"]["ReservedConcurrentExecutions"] == 1


def test_the_digest_reads_reports_writes_digests_and_remembers_only_its_own_items():
    by_sid = {s["Sid"]: s for name, s in iam_statements() if name == "MonthlyDigestFunction"}
    assert by_sid["ReadReports"]["Resource"] == [
        {"Fn::Sub": "${ReportBucket.Arn}/reports/*"},
        {"Fn::Sub": "${ReportBucket.Arn}/digests/*"},  # earlier months' figures, for the chart
    ]
    assert by_sid["ListReports"]["Condition"] == {"StringLike": {"s3:prefix": ["reports/*", "digests/*"]}}
    assert by_sid["WriteDigests"]["Resource"] == {"Fn::Sub": "${ReportBucket.Arn}/digests/*"}
    assert by_sid["RememberDigestsSent"]["Condition"] == {
        "ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["DIGEST#monthly"]}
    }
    expiry = {r["Id"]: r for r in RESOURCES["ReportBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert expiry["ExpireDigests"] == {
        "Id": "ExpireDigests",
        "Status": "Enabled",
        "Prefix": "digests/",
        "ExpirationInDays": {"Ref": "ReportRetentionDays"},
    }
