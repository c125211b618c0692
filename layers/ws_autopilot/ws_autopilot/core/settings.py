"""Settings read from the environment once, at cold start: the strict parsers, the declarative
fields every wing's settings are made of, and the settings several wings share.

Each environment variable is set by the template from one or more parameters; an invalid value
raises ConfigurationError naming the variable, the parameter and the bad value. A settings class
declares each field once, with its variable, parameter and parser (`setting()`), and inherits
`from_env()` from `FromEnv`; fields several functions read are mixins (`DryRunSetting`...).

Every check is ASCII-only, as the template's constraints are: str.isdigit() and the regular
expression `\\d` also accept superscripts and other scripts' digits, int() reads some of these,
float() takes 'nan', 'inf', '1e1' and '1_0', and str.strip() removes non-ASCII spaces. A
value is taken only when it reads the way the parameter's description says.
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import timedelta
from enum import StrEnum
from functools import cache, partial
from typing import Any, Self, cast

import botocore.session

from ws_autopilot.core.errors import ConfigurationError

_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_WHOLE_NUMBER = re.compile(r"[0-9]{1,20}")
_DECIMAL_NUMBER = re.compile(r"[0-9]{1,20}(\.[0-9]{1,20})?")


@cache
def known_compute_types() -> frozenset[str]:
    """The `ComputeTypeName` values of the WorkSpaces API model shipped with botocore."""
    model = botocore.session.get_session().get_service_model("workspaces")
    return frozenset(model.shape_for("Compute").enum)


def strip_ascii(text: str) -> str:
    return text.strip(string.whitespace)


def whole_number(text: str) -> int | None:
    """`text` as an int when it is ASCII digits only (at most 20 of them), else None."""
    return int(text) if _WHOLE_NUMBER.fullmatch(text) else None


def require(env: Mapping[str, str], variable: str, parameter: str) -> str:
    value = strip_ascii(env.get(variable) or "")
    if not value:
        raise ConfigurationError(variable, parameter, "is not set")
    return value


def parse_bool(env: Mapping[str, str], variable: str, parameter: str) -> bool:
    value = require(env, variable, parameter).lower()
    if value not in ("true", "false"):
        raise ConfigurationError(variable, parameter, "must be true or false, got {value!r}", value=value)
    return value == "true"


def parse_bucket(env: Mapping[str, str], variable: str, parameter: str) -> str:
    value = require(env, variable, parameter)
    if not _BUCKET_NAME.fullmatch(value):
        raise ConfigurationError(variable, parameter, "{value!r} is not an S3 bucket name", value=value)
    return value


def parse_int(env: Mapping[str, str], variable: str, parameter: str, low: int, high: int) -> int:
    value = require(env, variable, parameter)
    number = whole_number(value)
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
    entries = tuple(strip_ascii(e) for e in env.get(variable, "").split(",") if strip_ascii(e))
    for entry in entries:
        if not re.fullmatch(pattern, entry, re.ASCII):
            raise ConfigurationError(
                variable, parameter, "entry {entry!r} is not {what}", entry=entry, what=what
            )
    return tuple(dict.fromkeys(entries))


def parse_regions(env: Mapping[str, str]) -> tuple[str, ...]:
    """The Regions parameter; the deployment region when it is empty."""
    regions = parse_list(env, "REGIONS", "Regions", r"[a-z]{2}(-[a-z]+)+-\d", "an AWS region")
    return regions or (require(env, "AWS_REGION", "(the deployment region)"),)


def parse_member_accounts(env: Mapping[str, str]) -> tuple[str, ...]:
    return parse_list(env, "MEMBER_ACCOUNTS", "MemberAccounts", r"\d{12}", "a 12-digit account id")


def parse_organization_parents(env: Mapping[str, str]) -> tuple[str, ...]:
    return parse_list(
        env,
        "ORGANIZATION_PARENT_IDS",
        "OrganizationParentIds",
        r"r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}",
        "an organization root or OU id",
    )


def parse_member_role(env: Mapping[str, str]) -> str:
    role = require(env, "MEMBER_ROLE_NAME", "MemberRoleName")
    if not re.fullmatch(r"[\w+=,.@-]{1,64}", role, re.ASCII):
        raise ConfigurationError(
            "MEMBER_ROLE_NAME", "MemberRoleName", "{role!r} is not an IAM role name", role=role
        )
    return role


def parse_arn(env: Mapping[str, str], variable: str, parameter: str, service: str) -> str:
    value = require(env, variable, parameter)
    if not re.fullmatch(rf"arn:aws[a-z-]*:{service}:[a-z0-9-]+:[0-9]{{12}}:.+", value, re.ASCII):
        raise ConfigurationError(
            variable, parameter, "{value!r} is not an {service} ARN", value=value, service=service
        )
    return value


def parse_rate(env: Mapping[str, str], variable: str, parameter: str) -> float:
    """Requests per second, from 0.1 to 100, written as digits with an optional decimal part."""
    text = require(env, variable, parameter)
    rate = float(text) if _DECIMAL_NUMBER.fullmatch(text) else -1.0
    if not 0.1 <= rate <= 100:
        raise ConfigurationError(
            variable, parameter, "must be from 0.1 to 100 requests per second, got {value!r}", value=text
        )
    return rate


def parse_duration(
    env: Mapping[str, str], variable: str, parameter: str, low: int, high: int, unit: str
) -> timedelta:
    """A whole number of `unit` (minutes, hours) from `low` to `high`, as a duration."""
    return timedelta(**{unit: parse_int(env, variable, parameter, low, high)})


def parse_choice(env: Mapping[str, str], variable: str, parameter: str, choices: type[StrEnum]) -> Any:
    """One of an enum's values, spelt exactly (the parameter's AllowedValues)."""
    value = require(env, variable, parameter)
    allowed = [c.value for c in choices]
    if value not in allowed:
        wording = " or ".join([", ".join(allowed[:-1]), allowed[-1]]) if len(allowed) > 1 else allowed[0]
        raise ConfigurationError(variable, parameter, f"must be {wording}, got {{value!r}}", value=value)
    return choices(value)


# --- declarative settings ---------------------------------------------------------------------

SOURCE = "ws_autopilot.source"
Reader = Callable[..., Any]  # (env, variable, parameter, **bounds) -> value


@dataclass(frozen=True, slots=True)
class Source:
    """Where a settings field comes from: the template's environment variables it reads and how."""

    variables: tuple[str, ...]
    read: Callable[[Mapping[str, str]], Any]


def setting(variable: str, parameter: str, parser: Reader, **bounds: Any) -> Any:
    """A field read from one variable by one of the parsers above; `parameter` is what its
    errors name (the template parameter, or the stack resource in parentheses)."""
    read = partial(parser, **bounds) if bounds else parser
    return field(metadata={SOURCE: Source((variable,), lambda env: read(env, variable, parameter))})


def composite(read: Callable[[Mapping[str, str]], Any], *variables: str) -> Any:
    """A field read from several variables at once, or by a parser that names its own."""
    return field(metadata={SOURCE: Source(variables, read)})


def nested(settings: type[FromEnv]) -> Any:
    """A field that is a whole settings class of its own (e.g. the coverage of a capability)."""
    return composite(settings.from_env, *sorted(settings.variables()))


class FromEnv:
    """The one `from_env()`: a settings dataclass reads its declared fields in their order."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        env = os.environ if env is None else env
        values = {f.name: f.metadata[SOURCE].read(env) for f in fields(cast(Any, cls))}
        return cls(**values)

    @classmethod
    def variables(cls) -> frozenset[str]:
        """The environment variables the settings read (the template sets exactly these)."""
        return frozenset(v for f in fields(cast(Any, cls)) for v in f.metadata[SOURCE].variables)


@dataclass(frozen=True)
class DryRunSetting(FromEnv):
    dry_run: bool = setting("DRY_RUN", "DryRun", parse_bool)


@dataclass(frozen=True)
class ReportBucketSetting(FromEnv):
    report_bucket: str = setting("REPORT_BUCKET", "(the stack's report bucket)", parse_bucket)


@dataclass(frozen=True)
class LedgerTableSetting(FromEnv):
    ledger_table: str = setting("LEDGER_TABLE", "(the stack's ledger table)", require)


@dataclass(frozen=True)
class AlertTopicSetting(FromEnv):
    alert_topic_arn: str = setting("ALERT_TOPIC_ARN", "(the stack's alert topic)", parse_arn, service="sns")


@dataclass(frozen=True)
class ReachSettings(FromEnv):
    """The regions and member accounts (listed, or discovered under organization roots and OUs)
    the product covers beside the deployment account."""

    regions: tuple[str, ...] = composite(parse_regions, "REGIONS")
    member_accounts: tuple[str, ...] = composite(parse_member_accounts, "MEMBER_ACCOUNTS")
    organization_parents: tuple[str, ...] = composite(parse_organization_parents, "ORGANIZATION_PARENT_IDS")


@dataclass(frozen=True)
class MemberRoleSettings(FromEnv):
    """The role the product assumes in member accounts, and the external id it presents: the
    stack's id, which member stacks take from its MemberAccountParameters output (D-193)."""

    member_role_name: str = composite(parse_member_role, "MEMBER_ROLE_NAME")
    external_id: str = setting("EXTERNAL_ID", "(the stack's id)", require)


@dataclass(frozen=True)
class CoverageSettings(MemberRoleSettings, ReachSettings):
    """The accounts and regions a capability covers: the deployment account and the member
    accounts, times the regions; the role and external id that reach the member accounts. The
    same parameters as the optimizer's."""


@dataclass(frozen=True)
class AccessSettings(DryRunSetting, MemberRoleSettings):
    """How member accounts are reached, how fast their WorkSpaces API may be called, and whether
    their sessions may change anything (DryRun)."""

    api_rate: float = setting("WORKSPACES_API_RATE", "WorkSpacesApiRate", parse_rate)
    api_burst: int = setting("WORKSPACES_API_BURST", "WorkSpacesApiBurst", parse_int, low=1, high=100)
