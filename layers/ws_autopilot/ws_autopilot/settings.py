"""Settings read from the environment once, at cold start.

Each environment variable is set by the template from one or more parameters; an invalid value
raises ConfigurationError naming the variable, the parameter and the bad value.

Every check is ASCII-only, as the template's constraints are: str.isdigit() and the regular
expression `\\d` also accept superscripts and other scripts' digits, int() reads some of these,
float() takes 'nan', 'inf', '1e1' and '1_0', and str.strip() removes non-ASCII spaces. A
value is taken only when it reads the way the parameter's description says.
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from functools import cache

import botocore.session

from ws_autopilot.errors import ConfigurationError
from ws_autopilot.logins import IPNetwork, parse_allow_list
from ws_autopilot.remediation import RebuildPolicy, RemediationSettings
from ws_autopilot.unused import TERMINATE_CONFIRMATION, UnusedPolicy

MAX_MONTH_HOURS = 744
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_WHOLE_NUMBER = re.compile(r"[0-9]{1,20}")
_DECIMAL_NUMBER = re.compile(r"[0-9]{1,20}(\.[0-9]{1,20})?")


@cache
def known_compute_types() -> frozenset[str]:
    """The `ComputeTypeName` values of the WorkSpaces API model shipped with botocore."""
    model = botocore.session.get_session().get_service_model("workspaces")
    return frozenset(model.shape_for("Compute").enum)


def _strip(text: str) -> str:
    return text.strip(string.whitespace)


def _whole_number(text: str) -> int | None:
    """`text` as an int when it is ASCII digits only (at most 20 of them), else None."""
    return int(text) if _WHOLE_NUMBER.fullmatch(text) else None


def _require(env: Mapping[str, str], variable: str, parameter: str) -> str:
    value = _strip(env.get(variable) or "")
    if not value:
        raise ConfigurationError(variable, parameter, "is not set")
    return value


def parse_bool(env: Mapping[str, str], variable: str, parameter: str) -> bool:
    value = _require(env, variable, parameter).lower()
    if value not in ("true", "false"):
        raise ConfigurationError(variable, parameter, "must be true or false, got {value!r}", value=value)
    return value == "true"


def parse_bucket(env: Mapping[str, str], variable: str, parameter: str) -> str:
    value = _require(env, variable, parameter)
    if not _BUCKET_NAME.fullmatch(value):
        raise ConfigurationError(variable, parameter, "{value!r} is not an S3 bucket name", value=value)
    return value


def parse_thresholds(text: str, variable: str, parameter: str) -> dict[str, int]:
    """Parse `TYPE=HOURS,TYPE=HOURS`; empty entries are ignored.

    Every TYPE must be a compute type of the WorkSpaces API, every HOURS a whole number
    from 0 to 744 (the hours of a 31-day month), and no TYPE may appear twice.
    """
    thresholds: dict[str, int] = {}
    for raw in text.split(","):
        entry = _strip(raw)
        if not entry:
            continue
        name, sep, hours_text = (_strip(part) for part in entry.partition("="))
        if not sep or not name or not hours_text:
            raise ConfigurationError(variable, parameter, "entry {entry!r} is not TYPE=HOURS", entry=entry)
        if name not in known_compute_types():
            raise ConfigurationError(
                variable,
                parameter,
                "entry {entry!r}: {name} is not a WorkSpaces compute type",
                entry=entry,
                name=name,
            )
        hours = _whole_number(hours_text)
        if hours is None or hours > MAX_MONTH_HOURS:
            raise ConfigurationError(
                variable,
                parameter,
                "entry {entry!r}: hours must be a whole number from 0 to {high}",
                entry=entry,
                high=MAX_MONTH_HOURS,
            )
        if name in thresholds:
            raise ConfigurationError(
                variable, parameter, "entry {entry!r}: {name} is given twice", entry=entry, name=name
            )
        thresholds[name] = hours
    return thresholds


def parse_int(env: Mapping[str, str], variable: str, parameter: str, low: int, high: int) -> int:
    value = _require(env, variable, parameter)
    number = _whole_number(value)
    if number is None or not low <= number <= high:
        raise ConfigurationError(
            variable,
            parameter,
            "must be a whole number from {low} to {high}, got {value!r}",
            low=low,
            high=high,
            value=value,
        )
    return number


def parse_list(
    env: Mapping[str, str], variable: str, parameter: str, pattern: str, what: str
) -> tuple[str, ...]:
    """A comma-separated list whose every entry matches `pattern` (`\\d`, `\\w` and `\\s` read as
    ASCII only); empty entries are ignored."""
    entries = tuple(_strip(e) for e in env.get(variable, "").split(",") if _strip(e))
    for entry in entries:
        if not re.fullmatch(pattern, entry, re.ASCII):
            raise ConfigurationError(
                variable, parameter, "entry {entry!r} is not {what}", entry=entry, what=what
            )
    return tuple(dict.fromkeys(entries))


def parse_auto_stop_timeout(env: Mapping[str, str]) -> int:
    """The AutoStop timeout a conversion to AUTO_STOP sets: 60-minute steps, as the API takes."""
    minutes = parse_int(env, "AUTO_STOP_TIMEOUT_MINUTES", "AutoStopTimeoutMinutes", 60, 2880)
    if minutes % 60:
        raise ConfigurationError(
            "AUTO_STOP_TIMEOUT_MINUTES",
            "AutoStopTimeoutMinutes",
            "must be a multiple of 60 minutes, got {minutes}",
            minutes=minutes,
        )
    return minutes


def _regions(env: Mapping[str, str]) -> tuple[str, ...]:
    """The Regions parameter; the deployment region when it is empty."""
    regions = parse_list(env, "REGIONS", "Regions", r"[a-z]{2}(-[a-z]+)+-\d", "an AWS region")
    return regions or (_require(env, "AWS_REGION", "(the deployment region)"),)


def _member_accounts(env: Mapping[str, str]) -> tuple[str, ...]:
    return parse_list(env, "MEMBER_ACCOUNTS", "MemberAccounts", r"\d{12}", "a 12-digit account id")


def _organization_parents(env: Mapping[str, str]) -> tuple[str, ...]:
    return parse_list(
        env,
        "ORGANIZATION_PARENT_IDS",
        "OrganizationParentIds",
        r"r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}",
        "an organization root or OU id",
    )


def _member_role(env: Mapping[str, str]) -> str:
    role = _require(env, "MEMBER_ROLE_NAME", "MemberRoleName")
    if not re.fullmatch(r"[\w+=,.@-]{1,64}", role, re.ASCII):
        raise ConfigurationError(
            "MEMBER_ROLE_NAME", "MemberRoleName", "{role!r} is not an IAM role name", role=role
        )
    return role


@dataclass(frozen=True, slots=True)
class RunSettings:
    """What a run covers: regions, member accounts (listed or discovered), Map concurrency, and
    the table that holds the one-run-at-a-time lock."""

    map_concurrency: int
    regions: tuple[str, ...]
    member_accounts: tuple[str, ...]
    organization_parents: tuple[str, ...]
    ledger_table: str
    report_bucket: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RunSettings:
        env = os.environ if env is None else env
        regions = _regions(env)  # the parameters' errors come in the order they always have
        return cls(
            # An inline Map runs at most 40 iterations at a time.
            map_concurrency=parse_int(env, "MAP_CONCURRENCY", "MapConcurrency", 1, 40),
            regions=regions,
            member_accounts=_member_accounts(env),
            organization_parents=_organization_parents(env),
            ledger_table=_require(env, "LEDGER_TABLE", "(the stack's ledger table)"),
            report_bucket=parse_bucket(env, "REPORT_BUCKET", "(the stack's report bucket)"),
        )


@dataclass(frozen=True, slots=True)
class AccessSettings:
    """How member accounts are reached, how fast their WorkSpaces API may be called, and whether
    their sessions may change anything (DryRun)."""

    member_role_name: str
    external_id: str
    api_rate: float
    api_burst: int
    dry_run: bool

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AccessSettings:
        env = os.environ if env is None else env
        role = _member_role(env)
        rate_text = _require(env, "WORKSPACES_API_RATE", "WorkSpacesApiRate")
        rate = float(rate_text) if _DECIMAL_NUMBER.fullmatch(rate_text) else -1.0
        if not 0.1 <= rate <= 100:
            raise ConfigurationError(
                "WORKSPACES_API_RATE",
                "WorkSpacesApiRate",
                "must be from 0.1 to 100 requests per second, got {value!r}",
                value=rate_text,
            )
        return cls(
            member_role_name=role,
            external_id=_require(env, "EXTERNAL_ID", "ExternalId"),
            api_rate=rate,
            api_burst=parse_int(env, "WORKSPACES_API_BURST", "WorkSpacesApiBurst", 1, 100),
            dry_run=parse_bool(env, "DRY_RUN", "DryRun"),
        )


class ThresholdMode(StrEnum):
    """Where thresholds come from (parameter ThresholdSource)."""

    PRICE_LIST = "PriceList"  # the break-even of each WorkSpace's prices; the hours as fallback
    PARAMETERS = "Parameters"  # the hours of the Threshold* parameters only


def parse_threshold_mode(env: Mapping[str, str]) -> ThresholdMode:
    value = _require(env, "THRESHOLD_SOURCE", "ThresholdSource")
    if value not in {m.value for m in ThresholdMode}:
        raise ConfigurationError(
            "THRESHOLD_SOURCE",
            "ThresholdSource",
            "must be PriceList or Parameters, got {value!r}",
            value=value,
        )
    return ThresholdMode(value)


@dataclass(frozen=True, slots=True)
class OptimizerSettings:
    dry_run: bool
    thresholds: Mapping[str, int]
    report_bucket: str
    ledger_table: str
    auto_stop_timeout_minutes: int
    threshold_source: ThresholdMode = ThresholdMode.PRICE_LIST

    @property
    def use_prices(self) -> bool:
        """True when thresholds come from prices (the hour parameters as fallback)."""
        return self.threshold_source is ThresholdMode.PRICE_LIST

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OptimizerSettings:
        env = os.environ if env is None else env
        base = parse_thresholds(_require(env, "THRESHOLDS", "Threshold*"), "THRESHOLDS", "Threshold*")
        extra = parse_thresholds(env.get("EXTRA_THRESHOLDS", ""), "EXTRA_THRESHOLDS", "ExtraThresholds")
        for name in extra.keys() & base.keys():
            raise ConfigurationError(
                "EXTRA_THRESHOLDS",
                "ExtraThresholds",
                "{name} has its own threshold parameter; set it there instead",
                name=name,
            )
        return cls(
            dry_run=parse_bool(env, "DRY_RUN", "DryRun"),
            thresholds={**base, **extra},
            report_bucket=parse_bucket(env, "REPORT_BUCKET", "(the stack's report bucket)"),
            ledger_table=_require(env, "LEDGER_TABLE", "(the stack's ledger table)"),
            auto_stop_timeout_minutes=parse_auto_stop_timeout(env),
            threshold_source=parse_threshold_mode(env),
        )


@dataclass(frozen=True, slots=True)
class ReportSettings:
    dry_run: bool
    report_bucket: str
    ledger_table: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ReportSettings:
        env = os.environ if env is None else env
        return cls(
            dry_run=parse_bool(env, "DRY_RUN", "DryRun"),
            report_bucket=parse_bucket(env, "REPORT_BUCKET", "(the stack's report bucket)"),
            ledger_table=_require(env, "LEDGER_TABLE", "(the stack's ledger table)"),
        )


def parse_arn(env: Mapping[str, str], variable: str, parameter: str, service: str) -> str:
    value = _require(env, variable, parameter)
    if not re.fullmatch(rf"arn:aws[a-z-]*:{service}:[a-z0-9-]+:[0-9]{{12}}:.+", value, re.ASCII):
        raise ConfigurationError(
            variable, parameter, "{value!r} is not an {service} ARN", value=value, service=service
        )
    return value


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
            table_name=_require(env, "LOGIN_TABLE", "(the stack's login table)"),
            idempotency_table_name=_require(env, "IDEMPOTENCY_TABLE", "(the stack's idempotency table)"),
            user_table_name=_require(env, "USER_TABLE", "(the stack's WorkSpace user table)"),
            alert_topic_arn=parse_arn(env, "ALERT_TOPIC_ARN", "(the stack's alert topic)", "sns"),
            retention_days=parse_int(env, "LOGIN_RETENTION_DAYS", "LoginRetentionDays", 1, 3650),
            allowed_networks=parse_allow_list(env.get("ALLOWED_CLIENT_NETWORKS", "")),
            new_network_alerts=parse_bool(env, "NEW_NETWORK_ALERTS", "NewNetworkAlerts"),
            # the WorkSpaces API allows 120 requests a minute per account and region in all
            lookups_per_minute=parse_int(env, "LOGIN_LOOKUPS_PER_MINUTE", "LoginLookupsPerMinute", 0, 60),
            coverage=CoverageSettings.from_env(env),
        )


def parse_rate(env: Mapping[str, str], variable: str, parameter: str) -> float:
    """Requests per second, from 0.1 to 100, written as digits with an optional decimal part."""
    text = _require(env, variable, parameter)
    rate = float(text) if _DECIMAL_NUMBER.fullmatch(text) else -1.0
    if not 0.1 <= rate <= 100:
        raise ConfigurationError(
            variable, parameter, "must be from 0.1 to 100 requests per second, got {value!r}", value=text
        )
    return rate


@dataclass(frozen=True, slots=True)
class CoverageSettings:
    """The accounts and regions a capability covers: the deployment account and the member
    accounts (listed, or discovered under organization roots and OUs), times the regions; the
    role and external id that reach the member accounts. The same parameters as the optimizer's."""

    regions: tuple[str, ...]
    member_accounts: tuple[str, ...]
    organization_parents: tuple[str, ...]
    member_role_name: str
    external_id: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> CoverageSettings:
        env = os.environ if env is None else env
        regions, role = _regions(env), _member_role(env)
        return cls(
            regions=regions,
            member_accounts=_member_accounts(env),
            organization_parents=_organization_parents(env),
            member_role_name=role,
            external_id=_require(env, "EXTERNAL_ID", "ExternalId"),
        )


@dataclass(frozen=True, slots=True)
class UserMapSettings:
    """Where the daily run keeps the WorkSpace-to-user map the login function reads."""

    table_name: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> UserMapSettings:
        env = os.environ if env is None else env
        return cls(table_name=_require(env, "USER_TABLE", "(the stack's WorkSpace user table)"))


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
        policy_text = _require(env, "REBUILD_POLICY", "RebuildPolicy")
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
            table_name=_require(env, "REMEDIATION_TABLE", "(the stack's remediation table)"),
            alert_topic_arn=parse_arn(env, "ALERT_TOPIC_ARN", "(the stack's alert topic)", "sns"),
            coverage=CoverageSettings.from_env(env),
            api_rate=parse_rate(env, "REMEDIATION_API_RATE", "RemediationApiRate"),
        )


@dataclass(frozen=True, slots=True)
class UnusedSettings:
    """Unused WorkSpaces (unused.py): the window in months, what is done with them, and what
    acting needs. Terminating needs both UnusedAction=terminate and the confirmation parameter;
    without it, nothing is terminated and the report says why (the template refuses the pair at
    deploy time too), so a half-made setting never stops the daily optimization."""

    months: int
    policy: UnusedPolicy
    terminate_confirmed: bool
    max_actions_per_run: int
    dry_run: bool
    login_table: str
    alert_topic_arn: str
    ledger_table: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> UnusedSettings:
        env = os.environ if env is None else env
        policy_text = _require(env, "UNUSED_ACTION", "UnusedAction")
        if policy_text not in {p.value for p in UnusedPolicy}:
            raise ConfigurationError(
                "UNUSED_ACTION",
                "UnusedAction",
                "must be report, stop or terminate, got {value!r}",
                value=policy_text,
            )
        confirmation = _strip(env.get("CONFIRM_TERMINATE_UNUSED", ""))
        if confirmation not in ("", TERMINATE_CONFIRMATION):
            raise ConfigurationError(
                "CONFIRM_TERMINATE_UNUSED",
                "ConfirmTerminateUnused",
                "must be empty or {phrase}, got {value!r}",
                phrase=TERMINATE_CONFIRMATION,
                value=confirmation,
            )
        return cls(
            months=parse_int(env, "UNUSED_MONTHS", "UnusedMonths", 1, 12),
            policy=UnusedPolicy(policy_text),
            terminate_confirmed=confirmation == TERMINATE_CONFIRMATION,
            max_actions_per_run=parse_int(
                env, "MAX_UNUSED_ACTIONS_PER_RUN", "MaxUnusedActionsPerRun", 1, 500
            ),
            dry_run=parse_bool(env, "DRY_RUN", "DryRun"),
            login_table=_require(env, "LOGIN_TABLE", "(the stack's login table)"),
            alert_topic_arn=parse_arn(env, "ALERT_TOPIC_ARN", "(the stack's alert topic)", "sns"),
            ledger_table=_require(env, "LEDGER_TABLE", "(the stack's ledger table)"),
        )


@dataclass(frozen=True, slots=True)
class DigestSettings:
    """The monthly digest: where the reports are, where the message goes, and the ledger table
    that remembers which months were sent."""

    report_bucket: str
    alert_topic_arn: str
    ledger_table: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DigestSettings:
        env = os.environ if env is None else env
        return cls(
            report_bucket=parse_bucket(env, "REPORT_BUCKET", "(the stack's report bucket)"),
            alert_topic_arn=parse_arn(env, "ALERT_TOPIC_ARN", "(the stack's alert topic)", "sns"),
            ledger_table=_require(env, "LEDGER_TABLE", "(the stack's ledger table)"),
        )
