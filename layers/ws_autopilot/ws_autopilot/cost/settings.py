"""Settings of the daily run and the cost optimizer, read from the environment once, at cold start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from ws_autopilot.core.errors import ConfigurationError
from ws_autopilot.core.settings import (
    known_compute_types,
    parse_bool,
    parse_bucket,
    parse_int,
    parse_member_accounts,
    parse_organization_parents,
    parse_regions,
    require,
    strip_ascii,
    whole_number,
)

MAX_MONTH_HOURS = 744


def parse_thresholds(text: str, variable: str, parameter: str) -> dict[str, int]:
    """Parse `TYPE=HOURS,TYPE=HOURS`; empty entries are ignored.

    Every TYPE must be a compute type of the WorkSpaces API, every HOURS a whole number
    from 0 to 744 (the hours of a 31-day month), and no TYPE may appear twice.
    """
    thresholds: dict[str, int] = {}
    for raw in text.split(","):
        entry = strip_ascii(raw)
        if not entry:
            continue
        name, sep, hours_text = (strip_ascii(part) for part in entry.partition("="))
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
        hours = whole_number(hours_text)
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
        regions = parse_regions(env)  # the parameters' errors come in the order they always have
        return cls(
            # An inline Map runs at most 40 iterations at a time.
            map_concurrency=parse_int(env, "MAP_CONCURRENCY", "MapConcurrency", 1, 40),
            regions=regions,
            member_accounts=parse_member_accounts(env),
            organization_parents=parse_organization_parents(env),
            ledger_table=require(env, "LEDGER_TABLE", "(the stack's ledger table)"),
            report_bucket=parse_bucket(env, "REPORT_BUCKET", "(the stack's report bucket)"),
        )


class ThresholdSource(StrEnum):
    """Where thresholds come from (parameter ThresholdSource)."""

    PRICE_LIST = "PriceList"  # the break-even of each WorkSpace's prices; the hours as fallback
    PARAMETERS = "Parameters"  # the hours of the Threshold* parameters only


def parse_threshold_mode(env: Mapping[str, str]) -> ThresholdSource:
    value = require(env, "THRESHOLD_SOURCE", "ThresholdSource")
    if value not in {m.value for m in ThresholdSource}:
        raise ConfigurationError(
            "THRESHOLD_SOURCE",
            "ThresholdSource",
            "must be PriceList or Parameters, got {value!r}",
            value=value,
        )
    return ThresholdSource(value)


@dataclass(frozen=True, slots=True)
class OptimizerSettings:
    dry_run: bool
    thresholds: Mapping[str, int]
    report_bucket: str
    ledger_table: str
    auto_stop_timeout_minutes: int
    threshold_source: ThresholdSource = ThresholdSource.PRICE_LIST

    @property
    def use_prices(self) -> bool:
        """True when thresholds come from prices (the hour parameters as fallback)."""
        return self.threshold_source is ThresholdSource.PRICE_LIST

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> OptimizerSettings:
        env = os.environ if env is None else env
        base = parse_thresholds(require(env, "THRESHOLDS", "Threshold*"), "THRESHOLDS", "Threshold*")
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
            ledger_table=require(env, "LEDGER_TABLE", "(the stack's ledger table)"),
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
            ledger_table=require(env, "LEDGER_TABLE", "(the stack's ledger table)"),
        )


@dataclass(frozen=True, slots=True)
class UserMapSettings:
    """Where the daily run keeps the WorkSpace-to-user map the login function reads."""

    table_name: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> UserMapSettings:
        env = os.environ if env is None else env
        return cls(table_name=require(env, "USER_TABLE", "(the stack's WorkSpace user table)"))
