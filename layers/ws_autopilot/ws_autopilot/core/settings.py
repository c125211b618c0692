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
from functools import cache

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
        role = parse_member_role(env)
        rate_text = require(env, "WORKSPACES_API_RATE", "WorkSpacesApiRate")
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
            external_id=require(env, "EXTERNAL_ID", "ExternalId"),
            api_rate=rate,
            api_burst=parse_int(env, "WORKSPACES_API_BURST", "WorkSpacesApiBurst", 1, 100),
            dry_run=parse_bool(env, "DRY_RUN", "DryRun"),
        )


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
        regions, role = parse_regions(env), parse_member_role(env)
        return cls(
            regions=regions,
            member_accounts=parse_member_accounts(env),
            organization_parents=parse_organization_parents(env),
            member_role_name=role,
            external_id=require(env, "EXTERNAL_ID", "ExternalId"),
        )
