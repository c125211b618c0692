import pytest
from hypothesis import given
from hypothesis import strategies as st

from ws_autopilot.core.errors import MAX_SHOWN, ConfigurationError
from ws_autopilot.core.settings import AccessSettings
from ws_autopilot.cost.hibernation import NoHibernationTypes
from ws_autopilot.cost.models import ConversionTiming
from ws_autopilot.cost.settings import OptimizerSettings, RunSettings, parse_thresholds
from ws_autopilot.logins.settings import LoginSettings
from ws_autopilot.remediation.settings import RemediationConfig

BASE = {
    "THRESHOLDS": "VALUE=81,STANDARD=85,PERFORMANCE=80,POWER=92,POWERPRO=78,GRAPHICS=217,"
    "GRAPHICSPRO=80,GRAPHICS_G4DN=334,GRAPHICSPRO_G4DN=80",
    "EXTRA_THRESHOLDS": "",
    "DRY_RUN": "true",
    "REPORT_BUCKET": "autopilot-reports-123456789012",
    "LEDGER_TABLE": "autopilot-ledger",
    "AUTO_STOP_TIMEOUT_MINUTES": "60",
    "THRESHOLD_SOURCE": "PriceList",
    "CONVERSION_TIMING": "Savings",
    "NO_HIBERNATION_TYPES": "KeepAlwaysOn",
}


def test_settings_read_the_nine_thresholds_and_extra_ones():
    settings = OptimizerSettings.from_env(
        {**BASE, "EXTRA_THRESHOLDS": "GENERALPURPOSE_4XLARGE=120, GRAPHICS_G6_XLARGE=300"}
    )
    assert settings.thresholds["STANDARD"] == 85
    assert settings.thresholds["GENERALPURPOSE_4XLARGE"] == 120
    assert settings.thresholds["GRAPHICS_G6_XLARGE"] == 300
    assert settings.dry_run is True


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"EXTRA_THRESHOLDS": "GENERALPUPOSE_4XLARGE=120"},
            "EXTRA_THRESHOLDS (template parameter ExtraThresholds): entry 'GENERALPUPOSE_4XLARGE=120': "
            "GENERALPUPOSE_4XLARGE is not a WorkSpaces compute type",
        ),
        ({"EXTRA_THRESHOLDS": "GENERALPURPOSE_4XLARGE"}, "is not TYPE=HOURS"),
        ({"EXTRA_THRESHOLDS": "GENERALPURPOSE_4XLARGE=-3"}, "whole number from 0 to 744"),
        ({"EXTRA_THRESHOLDS": "GENERALPURPOSE_4XLARGE=745"}, "whole number from 0 to 744"),
        ({"EXTRA_THRESHOLDS": "STANDARD=90"}, "STANDARD has its own threshold parameter"),
        ({"EXTRA_THRESHOLDS": "GRAPHICS_G6_XLARGE=1,GRAPHICS_G6_XLARGE=2"}, "is given twice"),
        ({"DRY_RUN": "yes"}, "DRY_RUN (template parameter DryRun): must be true or false, got 'yes'"),
        ({"DRY_RUN": ""}, "DRY_RUN (template parameter DryRun): is not set"),
        ({"REPORT_BUCKET": "Not_A_Bucket"}, "is not an S3 bucket name"),
        (
            {"THRESHOLD_SOURCE": "Prices"},
            "THRESHOLD_SOURCE (template parameter ThresholdSource): must be PriceList or Parameters,"
            " got 'Prices'",
        ),
        ({"THRESHOLD_SOURCE": ""}, "THRESHOLD_SOURCE (template parameter ThresholdSource): is not set"),
        (
            {"CONVERSION_TIMING": "savings"},
            "CONVERSION_TIMING (template parameter ConversionTiming): must be Savings or Threshold,"
            " got 'savings'",
        ),
    ],
)
def test_invalid_settings_name_the_variable_parameter_and_value(env, message):
    with pytest.raises(ConfigurationError) as raised:
        OptimizerSettings.from_env({**BASE, **env})
    assert message in str(raised.value)


def test_threshold_source_chooses_prices_or_the_hour_parameters_only():
    assert OptimizerSettings.from_env(BASE).use_prices is True
    assert OptimizerSettings.from_env({**BASE, "THRESHOLD_SOURCE": "Parameters"}).use_prices is False


def test_conversion_timing_is_savings_or_threshold():
    assert OptimizerSettings.from_env(BASE).conversion_timing is ConversionTiming.SAVINGS
    chosen = OptimizerSettings.from_env({**BASE, "CONVERSION_TIMING": "Threshold"}).conversion_timing
    assert chosen is ConversionTiming.THRESHOLD


def test_no_hibernation_types_are_kept_always_on_or_converted_and_nothing_else():
    assert OptimizerSettings.from_env(BASE).no_hibernation is NoHibernationTypes.KEEP_ALWAYS_ON
    chosen = OptimizerSettings.from_env({**BASE, "NO_HIBERNATION_TYPES": "ConvertToAutoStop"})
    assert chosen.no_hibernation is NoHibernationTypes.CONVERT
    with pytest.raises(ConfigurationError) as raised:
        OptimizerSettings.from_env({**BASE, "NO_HIBERNATION_TYPES": "convert"})
    assert str(raised.value) == (
        "NO_HIBERNATION_TYPES (template parameter NoHibernationTypes): must be KeepAlwaysOn or"
        " ConvertToAutoStop, got 'convert'"
    )


def test_missing_thresholds_variable_is_reported():
    env = {k: v for k, v in BASE.items() if k != "THRESHOLDS"}
    with pytest.raises(ConfigurationError, match=r"THRESHOLDS .* is not set"):
        OptimizerSettings.from_env(env)


def test_empty_threshold_entries_are_ignored():
    assert parse_thresholds(" , VALUE=1,,", "X", "Y") == {"VALUE": 1}


LOGIN_ENV = {
    "LOGIN_TABLE": "logins",
    "IDEMPOTENCY_TABLE": "idempotency",
    "ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:alerts",
    "LOGIN_RETENTION_DAYS": "90",
    "ALLOWED_CLIENT_NETWORKS": "203.0.113.0/24,2001:db8::/32",
    "NEW_NETWORK_ALERTS": "false",
    "LOGIN_ALERTS_PER_NETWORK_HOUR": "1",
    "USER_TABLE": "workspace-users",
    "LOGIN_LOOKUPS_PER_MINUTE": "20",
    "AWS_REGION": "us-east-1",
    "MEMBER_ROLE_NAME": "WorkSpacesAutopilotMember",
    "EXTERNAL_ID": "ws-autopilot",
}


def test_login_settings_read_the_allow_list():
    settings = LoginSettings.from_env(LOGIN_ENV)
    assert [str(n) for n in settings.allowed_networks.networks] == ["203.0.113.0/24", "2001:db8::/32"]
    assert (settings.retention_days, settings.new_network_alerts) == (90, False)
    assert settings.alerts_per_network_hour == 1


def test_login_settings_read_what_the_product_covers_as_list_targets_does():
    settings = LoginSettings.from_env(
        {
            **LOGIN_ENV,
            "REGIONS": "eu-west-1, us-east-1,eu-west-1",
            "MEMBER_ACCOUNTS": "222222222222",
            "ORGANIZATION_PARENT_IDS": "ou-ab12-cd34ef56",
        }
    )
    assert settings.coverage.regions == ("eu-west-1", "us-east-1")
    assert settings.coverage.member_accounts == ("222222222222",)
    assert settings.coverage.organization_parents == ("ou-ab12-cd34ef56",)
    assert LoginSettings.from_env(LOGIN_ENV).coverage.regions == ("us-east-1",)  # the deployment region
    assert (settings.user_table_name, settings.lookups_per_minute) == ("workspace-users", 20)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"LOGIN_ALERTS_PER_NETWORK_HOUR": "0"},
            "LOGIN_ALERTS_PER_NETWORK_HOUR (template parameter LoginAlertsPerNetworkHour): "
            "must be a whole number from 1 to 100",
        ),
        (
            {"LOGIN_RETENTION_DAYS": "0"},
            "LOGIN_RETENTION_DAYS (template parameter LoginRetentionDays): must be",
        ),
        ({"NEW_NETWORK_ALERTS": "on"}, "NEW_NETWORK_ALERTS (template parameter NewNetworkAlerts)"),
        ({"ALERT_TOPIC_ARN": "alerts"}, "is not an sns ARN"),
        (
            {"LOGIN_LOOKUPS_PER_MINUTE": "61"},
            "LOGIN_LOOKUPS_PER_MINUTE (template parameter LoginLookupsPerMinute): "
            "must be a whole number from 0 to 60",
        ),
        ({"MEMBER_ACCOUNTS": "2222"}, "MEMBER_ACCOUNTS (template parameter MemberAccounts)"),
        ({"REGIONS": "Europe"}, "REGIONS (template parameter Regions)"),
        ({"USER_TABLE": ""}, "USER_TABLE"),
    ],
)
def test_invalid_login_settings_name_the_variable_and_value(env, message):
    with pytest.raises(ConfigurationError) as raised:
        LoginSettings.from_env({**LOGIN_ENV, **env})
    assert message in str(raised.value)


@pytest.mark.parametrize("minutes", ["0", "30", "90", "2940", "sixty"])
def test_the_conversion_timeout_must_be_whole_hours_the_api_takes(minutes):
    with pytest.raises(ConfigurationError, match="AutoStopTimeoutMinutes"):
        OptimizerSettings.from_env({**BASE, "AUTO_STOP_TIMEOUT_MINUTES": minutes})


def test_the_conversion_timeout_is_read_in_minutes():
    assert (
        OptimizerSettings.from_env({**BASE, "AUTO_STOP_TIMEOUT_MINUTES": "120"}).auto_stop_timeout_minutes
        == 120
    )


RUN_ENV = {
    "MAP_CONCURRENCY": "4",
    "AWS_REGION": "us-east-1",
    "LEDGER_TABLE": "autopilot-ledger",
    "REPORT_BUCKET": "autopilot-reports",
}
ACCESS_ENV = {
    "MEMBER_ROLE_NAME": "Member",
    "EXTERNAL_ID": "ext",
    "WORKSPACES_API_RATE": "2",
    "WORKSPACES_API_BURST": "5",
    "DRY_RUN": "true",
}
REMEDIATION_ENV = {
    "REBUILD_POLICY": "Never",
    "UNHEALTHY_GRACE_MINUTES": "30",
    "REBOOT_WAIT_MINUTES": "15",
    "MAX_REBOOTS": "2",
    "MAX_SNAPSHOT_AGE_HOURS": "12",
    "MAX_REBOOTS_PER_RUN": "50",
    "MAX_REBUILDS_PER_DAY": "5",
    "BREAKER_PERCENT": "20",
    "BREAKER_MINIMUM_UNHEALTHY": "5",
    "DRY_RUN": "true",
    "REMEDIATION": "On",
    "REMEDIATION_TABLE": "remediation",
    "ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:alerts",
    "MAX_RECOVERIES_PER_DAY": "1",
    "REMEDIATION_API_RATE": "0.5",
    "REGIONS": "us-east-1,eu-west-1",
    "MEMBER_ACCOUNTS": "",
    "ORGANIZATION_PARENT_IDS": "",
    "MEMBER_ROLE_NAME": "Member",
    "EXTERNAL_ID": "ext",
    "AWS_REGION": "us-east-1",
}
SETTINGS = {
    OptimizerSettings: BASE,
    LoginSettings: LOGIN_ENV,
    RunSettings: RUN_ENV,
    AccessSettings: ACCESS_ENV,
    RemediationConfig: REMEDIATION_ENV,
}

# What a parser must refuse although str.isdigit(), int(), float(), str.strip() or the regular
# expression `\d` would take it: superscripts, Arabic-Indic and full-width digits, nan and inf,
# exponents, underscores, signs, non-ASCII spaces.
NOT_ASCII_NUMBERS = [
    "8\u00b2",
    "\u0668\u0665",
    "\uff18\uff15",
    "8_5",
    "+85",
    "8 5",
    "85\u00a0",
    "nan",
    "1e2",
    "\u00b2",
]


def refused(settings: type, env: dict[str, str]) -> str:
    with pytest.raises(ConfigurationError) as raised:
        settings.from_env({**SETTINGS[settings], **env})
    return str(raised.value)


@pytest.mark.parametrize("hours", NOT_ASCII_NUMBERS)
@pytest.mark.parametrize(
    ("variable", "parameter"),
    [("THRESHOLDS", "Threshold*"), ("EXTRA_THRESHOLDS", "ExtraThresholds")],
)
def test_a_threshold_in_anything_but_ascii_digits_names_its_parameter(variable, parameter, hours):
    name = "STANDARD" if variable == "THRESHOLDS" else "GENERALPURPOSE_4XLARGE"
    message = refused(OptimizerSettings, {variable: f"{name}={hours}"})
    assert message.startswith(f"{variable} (template parameter {parameter}): entry ")
    assert "hours must be a whole number from 0 to 744" in message


def test_surrounding_ascii_spaces_are_still_allowed():
    settings = OptimizerSettings.from_env({**BASE, "EXTRA_THRESHOLDS": " GRAPHICS_G6_XLARGE = 300 \t"})
    assert settings.thresholds["GRAPHICS_G6_XLARGE"] == 300
    assert LoginSettings.from_env({**LOGIN_ENV, "LOGIN_RETENTION_DAYS": " 30\n"}).retention_days == 30
    assert AccessSettings.from_env({**ACCESS_ENV, "WORKSPACES_API_RATE": " 1.5 "}).api_rate == 1.5


@pytest.mark.parametrize("value", [*NOT_ASCII_NUMBERS, "9" * 5000])
@pytest.mark.parametrize(
    ("settings", "variable", "parameter"),
    [
        (LoginSettings, "LOGIN_RETENTION_DAYS", "LoginRetentionDays"),
        (OptimizerSettings, "AUTO_STOP_TIMEOUT_MINUTES", "AutoStopTimeoutMinutes"),
        (RunSettings, "MAP_CONCURRENCY", "MapConcurrency"),
        (AccessSettings, "WORKSPACES_API_BURST", "WorkSpacesApiBurst"),
        (RemediationConfig, "MAX_REBOOTS_PER_RUN", "MaxRebootsPerRun"),
    ],
)
def test_a_whole_number_in_anything_but_ascii_digits_names_its_parameter(
    settings, variable, parameter, value
):
    message = refused(settings, {variable: value})
    assert message.startswith(f"{variable} (template parameter {parameter}): must be a whole number from ")


@pytest.mark.parametrize(
    "rate", ["nan", "NaN", "inf", "-inf", "1e1", "1_0", "\u0662", "2\u00b2", "2\u00a0", "0x2"]
)
def test_the_api_rate_is_a_plain_decimal_and_names_its_parameter(rate):
    message = refused(AccessSettings, {"WORKSPACES_API_RATE": rate})
    assert message.startswith("WORKSPACES_API_RATE (template parameter WorkSpacesApiRate): must be from 0.1")
    message = refused(RemediationConfig, {"REMEDIATION_API_RATE": rate})
    assert message.startswith(
        "REMEDIATION_API_RATE (template parameter RemediationApiRate): must be from 0.1"
    )


def test_remediation_covers_the_optimizers_accounts_and_regions_at_its_own_rate():
    config = RemediationConfig.from_env({**REMEDIATION_ENV, "MEMBER_ACCOUNTS": "222222222222"})
    assert config.coverage.regions == ("us-east-1", "eu-west-1")
    assert config.coverage.member_accounts == ("222222222222",)
    assert (config.coverage.member_role_name, config.coverage.external_id) == ("Member", "ext")
    assert config.api_rate == 0.5
    assert config.policy.max_recoveries_per_day == 1
    alone = RemediationConfig.from_env({**REMEDIATION_ENV, "REGIONS": ""})
    assert alone.coverage.regions == ("us-east-1",)


@pytest.mark.parametrize(
    ("settings", "env", "named"),
    [
        (
            RunSettings,
            {"MEMBER_ACCOUNTS": "\u0661" * 12},
            "MEMBER_ACCOUNTS (template parameter MemberAccounts)",
        ),
        (RunSettings, {"REGIONS": "us-east-\u0661"}, "REGIONS (template parameter Regions)"),
        (
            AccessSettings,
            {"MEMBER_ROLE_NAME": "R\u00f4le"},
            "MEMBER_ROLE_NAME (template parameter MemberRoleName)",
        ),
        (
            LoginSettings,
            {"ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:" + "\u0661" * 12 + ":a"},
            "ALERT_TOPIC_ARN",
        ),
        (LoginSettings, {"ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:a\nb"}, "ALERT_TOPIC_ARN"),
        (OptimizerSettings, {"DRY_RUN": "true\u00a0"}, "DRY_RUN (template parameter DryRun)"),
        (OptimizerSettings, {"REPORT_BUCKET": "reports\u2003"}, "REPORT_BUCKET"),
        (
            RemediationConfig,
            {"REBUILD_POLICY": "Auto\u00a0"},
            "REBUILD_POLICY (template parameter RebuildPolicy)",
        ),
    ],
)
def test_non_ascii_digits_letters_and_spaces_are_refused_naming_the_parameter(settings, env, named):
    assert refused(settings, env).startswith(named)


@pytest.mark.parametrize(
    ("settings", "variable", "value"),
    [
        (OptimizerSettings, "THRESHOLDS", "X" * 100_000 + "=5"),
        (OptimizerSettings, "EXTRA_THRESHOLDS", "X" * 100_000),
        (OptimizerSettings, "EXTRA_THRESHOLDS", "VALUE=" + "9" * 100_000),
        (OptimizerSettings, "DRY_RUN", "t" * 100_000),
        (OptimizerSettings, "REPORT_BUCKET", "b" * 100_000),
        (LoginSettings, "LOGIN_RETENTION_DAYS", "9" * 100_000),
        (LoginSettings, "ALERT_TOPIC_ARN", "a" * 100_000),
        (RunSettings, "MEMBER_ACCOUNTS", "1" * 100_000),
        (AccessSettings, "MEMBER_ROLE_NAME", "r" * 100_000),
        (AccessSettings, "WORKSPACES_API_RATE", "1" * 100_000),
        (RemediationConfig, "REBUILD_POLICY", "A" * 100_000),
    ],
)
def test_a_long_value_is_cut_in_the_message_which_says_its_length(settings, variable, value):
    message = refused(settings, {variable: value})
    assert message.startswith(f"{variable} (template parameter ")
    assert len(message) < 2 * MAX_SHOWN + 300
    assert f"cut to {MAX_SHOWN} of its {len(value):,} characters" in message


def test_a_short_value_is_shown_whole():
    message = refused(OptimizerSettings, {"DRY_RUN": "y" * MAX_SHOWN})
    assert message.endswith(f"got {'y' * MAX_SHOWN!r}")


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("10.0.0.7/8", "entry '10.0.0.7/8' has host bits set; did you mean 10.0.0.0/8?"),
        ("0.0.0.0/0", "entry '0.0.0.0/0' allows every IPv4 address"),
        ("::/0", "entry '::/0' allows every IPv6 address"),
    ],
)
def test_allow_list_mistakes_are_ignored_naming_the_parameter_and_the_good_entries_kept(entry, problem):
    # the one setting that does not stop the function: D-210
    allow_list = LoginSettings.from_env(
        {**LOGIN_ENV, "ALLOWED_CLIENT_NETWORKS": f"203.0.113.0/24,{entry},office"}
    ).allowed_networks
    assert [str(n) for n in allow_list.networks] == ["203.0.113.0/24"]
    assert allow_list.ignored[0].startswith(
        f"ALLOWED_CLIENT_NETWORKS (template parameter AllowedClientNetworks): {problem}"
    )
    assert allow_list.ignored[1].endswith("entry 'office' is not an IP network")


def test_a_long_allow_list_entry_is_cut_in_its_message():
    (message,) = LoginSettings.from_env(
        {**LOGIN_ENV, "ALLOWED_CLIENT_NETWORKS": "1" * 100_000}
    ).allowed_networks.ignored
    assert len(message) < 2 * MAX_SHOWN + 300
    assert f"cut to {MAX_SHOWN} of its 100,000 characters" in message


EVERY_KIND_OF_SETTING = [
    (LoginSettings, "LOGIN_RETENTION_DAYS", "LoginRetentionDays"),
    (OptimizerSettings, "AUTO_STOP_TIMEOUT_MINUTES", "AutoStopTimeoutMinutes"),
    (OptimizerSettings, "THRESHOLDS", "Threshold*"),
    (OptimizerSettings, "EXTRA_THRESHOLDS", "ExtraThresholds"),
    (OptimizerSettings, "DRY_RUN", "DryRun"),
    (RunSettings, "MEMBER_ACCOUNTS", "MemberAccounts"),
    (RunSettings, "REGIONS", "Regions"),
    (AccessSettings, "WORKSPACES_API_RATE", "WorkSpacesApiRate"),
    (AccessSettings, "MEMBER_ROLE_NAME", "MemberRoleName"),
    (LoginSettings, "LOGIN_ALERTS_PER_NETWORK_HOUR", "LoginAlertsPerNetworkHour"),
    (LoginSettings, "LOGIN_LOOKUPS_PER_MINUTE", "LoginLookupsPerMinute"),
    (RemediationConfig, "BREAKER_PERCENT", "BreakerPercent"),
    (RemediationConfig, "MAX_RECOVERIES_PER_DAY", "MaxRecoveriesPerDay"),
    (RemediationConfig, "REMEDIATION_API_RATE", "RemediationApiRate"),
    (RemediationConfig, "REGIONS", "Regions"),
]


@given(
    case=st.sampled_from(EVERY_KIND_OF_SETTING),
    value=st.text() | st.from_regex(r"[0-9., =A-Z:/-]{0,30}", fullmatch=True),
)
def test_any_value_is_taken_or_refused_naming_its_parameter(case, value):
    settings, variable, parameter = case
    try:
        settings.from_env({**SETTINGS[settings], variable: value})
    except ConfigurationError as error:
        assert str(error).startswith(f"{variable} (template parameter {parameter}): ")
