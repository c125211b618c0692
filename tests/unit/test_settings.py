import pytest

from ws_autopilot.errors import ConfigurationError
from ws_autopilot.settings import LoginSettings, OptimizerSettings, parse_thresholds

BASE = {
    "THRESHOLDS": "VALUE=81,STANDARD=85,PERFORMANCE=80,POWER=92,POWERPRO=78,GRAPHICS=217,"
    "GRAPHICSPRO=80,GRAPHICS_G4DN=334,GRAPHICSPRO_G4DN=80",
    "EXTRA_THRESHOLDS": "",
    "DRY_RUN": "true",
    "REPORT_BUCKET": "autopilot-reports-123456789012",
    "LEDGER_TABLE": "autopilot-ledger",
    "AUTO_STOP_TIMEOUT_MINUTES": "60",
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
    ],
)
def test_invalid_settings_name_the_variable_parameter_and_value(env, message):
    with pytest.raises(ConfigurationError) as raised:
        OptimizerSettings.from_env({**BASE, **env})
    assert message in str(raised.value)


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
}


def test_login_settings_read_the_allow_list():
    settings = LoginSettings.from_env(LOGIN_ENV)
    assert [str(n) for n in settings.allowed_networks] == ["203.0.113.0/24", "2001:db8::/32"]
    assert (settings.retention_days, settings.new_network_alerts) == (90, False)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"ALLOWED_CLIENT_NETWORKS": "203.0.113.0/24,office"},
            "ALLOWED_CLIENT_NETWORKS (template parameter AllowedClientNetworks): "
            "entry 'office' is not an IP network",
        ),
        (
            {"LOGIN_RETENTION_DAYS": "0"},
            "LOGIN_RETENTION_DAYS (template parameter LoginRetentionDays): must be",
        ),
        ({"NEW_NETWORK_ALERTS": "on"}, "NEW_NETWORK_ALERTS (template parameter NewNetworkAlerts)"),
        ({"ALERT_TOPIC_ARN": "alerts"}, "is not an sns ARN"),
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
