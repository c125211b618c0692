"""Settings of the login function, read from its environment once, at cold start.

`AllowedClientNetworks` is the one setting that does not stop the function when it is wrong:
its bad entries are ignored and reported once by a configuration alert (recorder.py), so that
a typo costs neither a login record nor an alert."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ws_autopilot.core.settings import (
    AlertTopicSetting,
    CoverageSettings,
    composite,
    nested,
    parse_bool,
    parse_int,
    require,
    setting,
)
from ws_autopilot.logins.policy import AllowList, parse_allow_list


def read_allow_list(env: Mapping[str, str]) -> AllowList:
    return parse_allow_list(env.get("ALLOWED_CLIENT_NETWORKS", ""))


@dataclass(frozen=True)
class LoginSettings(AlertTopicSetting):
    table_name: str = setting("LOGIN_TABLE", "(the stack's login table)", require)
    idempotency_table_name: str = setting("IDEMPOTENCY_TABLE", "(the stack's idempotency table)", require)
    user_table_name: str = setting("USER_TABLE", "(the stack's WorkSpace user table)", require)
    retention_days: int = setting("LOGIN_RETENTION_DAYS", "LoginRetentionDays", parse_int, low=1, high=3650)
    allowed_networks: AllowList = composite(read_allow_list, "ALLOWED_CLIENT_NETWORKS")
    new_network_alerts: bool = setting("NEW_NETWORK_ALERTS", "NewNetworkAlerts", parse_bool)
    # alert messages per alert type, network and hour; the rest are counted (alert_groups.py)
    alerts_per_network_hour: int = setting(
        "LOGIN_ALERTS_PER_NETWORK_HOUR", "LoginAlertsPerNetworkHour", parse_int, low=1, high=100
    )
    # the WorkSpaces API allows 120 requests a minute per account and region in all
    lookups_per_minute: int = setting(
        "LOGIN_LOOKUPS_PER_MINUTE", "LoginLookupsPerMinute", parse_int, low=0, high=60
    )
    coverage: CoverageSettings = nested(CoverageSettings)
