"""Settings of the remediation scans, read from their environment once, at cold start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from ws_autopilot.core.errors import ConfigurationError
from ws_autopilot.core.settings import CoverageSettings, parse_arn, parse_bool, parse_int, parse_rate, require
from ws_autopilot.remediation.policy import RebuildPolicy, RemediationSettings


@dataclass(frozen=True, slots=True)
class RemediationConfig:
    policy: RemediationSettings
    table_name: str
    alert_topic_arn: str
    coverage: CoverageSettings
    api_rate: float  # WorkSpaces requests per second per account and region for the scans

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RemediationConfig:
        env = os.environ if env is None else env
        policy_text = require(env, "REBUILD_POLICY", "RebuildPolicy")
        if policy_text not in {p.value for p in RebuildPolicy}:
            raise ConfigurationError(
                "REBUILD_POLICY", "RebuildPolicy", "must be Never or Auto, got {value!r}", value=policy_text
            )
        policy = RemediationSettings(
            grace=timedelta(
                minutes=parse_int(env, "UNHEALTHY_GRACE_MINUTES", "UnhealthyGraceMinutes", 0, 1440)
            ),
            reboot_wait=timedelta(
                minutes=parse_int(env, "REBOOT_WAIT_MINUTES", "RebootWaitMinutes", 5, 1440)
            ),
            max_reboots=parse_int(env, "MAX_REBOOTS", "MaxReboots", 1, 5),
            rebuild_policy=RebuildPolicy(policy_text),
            max_snapshot_age=timedelta(
                hours=parse_int(env, "MAX_SNAPSHOT_AGE_HOURS", "MaxSnapshotAgeHours", 1, 48)
            ),
            max_reboots_per_run=parse_int(env, "MAX_REBOOTS_PER_RUN", "MaxRebootsPerRun", 1, 500),
            max_rebuilds_per_day=parse_int(env, "MAX_REBUILDS_PER_DAY", "MaxRebuildsPerDay", 0, 100),
            breaker_percent=parse_int(env, "BREAKER_PERCENT", "BreakerPercent", 1, 100),
            breaker_minimum=parse_int(env, "BREAKER_MINIMUM_UNHEALTHY", "BreakerMinimumUnhealthy", 1, 1000),
            dry_run=parse_bool(env, "DRY_RUN", "DryRun"),
            max_recoveries_per_day=parse_int(env, "MAX_RECOVERIES_PER_DAY", "MaxRecoveriesPerDay", 1, 10),
        )
        return cls(
            policy=policy,
            table_name=require(env, "REMEDIATION_TABLE", "(the stack's remediation table)"),
            alert_topic_arn=parse_arn(env, "ALERT_TOPIC_ARN", "(the stack's alert topic)", "sns"),
            coverage=CoverageSettings.from_env(env),
            api_rate=parse_rate(env, "REMEDIATION_API_RATE", "RemediationApiRate"),
        )
