"""Settings of the login function, read from its environment once, at cold start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from ws_autopilot.core.settings import CoverageSettings, parse_arn, parse_bool, parse_int, require
from ws_autopilot.logins.policy import IPNetwork, parse_allow_list


@dataclass(frozen=True, slots=True)
class LoginSettings:
    table_name: str
    idempotency_table_name: str
    user_table_name: str
    alert_topic_arn: str
    retention_days: int
    allowed_networks: tuple[IPNetwork, ...]
    new_network_alerts: bool
    lookups_per_minute: int
    coverage: CoverageSettings

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> LoginSettings:
        env = os.environ if env is None else env
        return cls(
            table_name=require(env, "LOGIN_TABLE", "(the stack's login table)"),
            idempotency_table_name=require(env, "IDEMPOTENCY_TABLE", "(the stack's idempotency table)"),
            user_table_name=require(env, "USER_TABLE", "(the stack's WorkSpace user table)"),
            alert_topic_arn=parse_arn(env, "ALERT_TOPIC_ARN", "(the stack's alert topic)", "sns"),
            retention_days=parse_int(env, "LOGIN_RETENTION_DAYS", "LoginRetentionDays", 1, 3650),
            allowed_networks=parse_allow_list(env.get("ALLOWED_CLIENT_NETWORKS", "")),
            new_network_alerts=parse_bool(env, "NEW_NETWORK_ALERTS", "NewNetworkAlerts"),
            # the WorkSpaces API allows 120 requests a minute per account and region in all
            lookups_per_minute=parse_int(env, "LOGIN_LOOKUPS_PER_MINUTE", "LoginLookupsPerMinute", 0, 60),
            coverage=CoverageSettings.from_env(env),
        )
