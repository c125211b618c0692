"""Settings of the remediation scans, read from their environment once, at cold start."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import timedelta
from enum import StrEnum

from ws_autopilot.core.settings import (
    AlertTopicSetting,
    CoverageSettings,
    composite,
    nested,
    parse_bool,
    parse_choice,
    parse_duration,
    parse_int,
    parse_rate,
    require,
    setting,
)
from ws_autopilot.remediation.policy import RebuildPolicy, RemediationSettings


class RemediationMode(StrEnum):
    """Template parameter `Remediation`: remediation's own switch and dry run."""

    OFF = "Off"  # not deployed
    DRY_RUN = "DryRun"
    ON = "On"


def parse_dry_run(env: Mapping[str, str]) -> bool:
    """Remediation's own dry run: it acts only with DryRun=false and Remediation=On, so
    switching the optimizer live does not also start rebooting."""
    dry_run = parse_bool(env, "DRY_RUN", "DryRun")
    mode = parse_choice(env, "REMEDIATION", "Remediation", choices=RemediationMode)
    return bool(dry_run or mode is not RemediationMode.ON)


@dataclass(frozen=True)
class RemediationConfig(AlertTopicSetting):
    """The parameters of remediation; `policy` is what its pure rules read."""

    dry_run: bool = composite(parse_dry_run, "DRY_RUN", "REMEDIATION")

    grace: timedelta = setting(
        "UNHEALTHY_GRACE_MINUTES", "UnhealthyGraceMinutes", parse_duration, low=0, high=1440, unit="minutes"
    )
    reboot_wait: timedelta = setting(
        "REBOOT_WAIT_MINUTES", "RebootWaitMinutes", parse_duration, low=5, high=1440, unit="minutes"
    )
    max_reboots: int = setting("MAX_REBOOTS", "MaxReboots", parse_int, low=1, high=5)
    rebuild_policy: RebuildPolicy = setting(
        "REBUILD_POLICY", "RebuildPolicy", parse_choice, choices=RebuildPolicy
    )
    max_snapshot_age: timedelta = setting(
        "MAX_SNAPSHOT_AGE_HOURS", "MaxSnapshotAgeHours", parse_duration, low=1, high=48, unit="hours"
    )
    max_reboots_per_run: int = setting("MAX_REBOOTS_PER_RUN", "MaxRebootsPerRun", parse_int, low=1, high=500)
    max_rebuilds_per_day: int = setting(
        "MAX_REBUILDS_PER_DAY", "MaxRebuildsPerDay", parse_int, low=0, high=100
    )
    breaker_percent: int = setting("BREAKER_PERCENT", "BreakerPercent", parse_int, low=1, high=100)
    breaker_minimum: int = setting(
        "BREAKER_MINIMUM_UNHEALTHY", "BreakerMinimumUnhealthy", parse_int, low=1, high=1000
    )
    max_recoveries_per_day: int = setting(
        "MAX_RECOVERIES_PER_DAY", "MaxRecoveriesPerDay", parse_int, low=1, high=10
    )
    table_name: str = setting("REMEDIATION_TABLE", "(the stack's remediation table)", require)
    coverage: CoverageSettings = nested(CoverageSettings)
    # WorkSpaces requests per second per account and region for the scans
    api_rate: float = setting("REMEDIATION_API_RATE", "RemediationApiRate", parse_rate)

    @property
    def policy(self) -> RemediationSettings:
        """The fields the pure rules read, by the same names."""
        return RemediationSettings(**{f.name: getattr(self, f.name) for f in fields(RemediationSettings)})
