"""Settings of the daily run and the cost optimizer, read from the environment once, at cold start."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from ws_autopilot.core.errors import ConfigurationError
from ws_autopilot.core.settings import (
    DryRunSetting,
    FromEnv,
    LedgerTableSetting,
    ReachSettings,
    ReportBucketSetting,
    composite,
    known_compute_types,
    parse_choice,
    parse_int,
    require,
    setting,
    strip_ascii,
    whole_number,
)
from ws_autopilot.cost.hibernation import NoHibernationTypes
from ws_autopilot.cost.models import ConversionTiming

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


class ThresholdSource(StrEnum):
    """Where thresholds come from (parameter ThresholdSource)."""

    PRICE_LIST = "PriceList"  # the break-even of each WorkSpace's prices; the hours as fallback
    PARAMETERS = "Parameters"  # the hours of the Threshold* parameters only


def parse_all_thresholds(env: Mapping[str, str]) -> dict[str, int]:
    """The nine Threshold* parameters (one variable) and ExtraThresholds, which may not name a
    compute type that has its own parameter."""
    base = parse_thresholds(require(env, "THRESHOLDS", "Threshold*"), "THRESHOLDS", "Threshold*")
    extra = parse_thresholds(env.get("EXTRA_THRESHOLDS", ""), "EXTRA_THRESHOLDS", "ExtraThresholds")
    for name in extra.keys() & base.keys():
        raise ConfigurationError(
            "EXTRA_THRESHOLDS",
            "ExtraThresholds",
            "{name} has its own threshold parameter; set it there instead",
            name=name,
        )
    return {**base, **extra}


@dataclass(frozen=True)
class RunSettings(ReportBucketSetting, LedgerTableSetting, ReachSettings):
    """What a run covers: regions, member accounts (listed or discovered), Map concurrency, and
    the table that holds the one-run-at-a-time lock."""

    # An inline Map runs at most 40 iterations at a time.
    map_concurrency: int = setting("MAP_CONCURRENCY", "MapConcurrency", parse_int, low=1, high=40)


@dataclass(frozen=True)
class DirectorySettings(ReportBucketSetting):
    """The directory listing: where the run's list of accounts and regions is."""


@dataclass(frozen=True)
class OptimizerSettings(LedgerTableSetting, ReportBucketSetting, DryRunSetting):
    thresholds: Mapping[str, int] = composite(parse_all_thresholds, "THRESHOLDS", "EXTRA_THRESHOLDS")
    auto_stop_timeout_minutes: int = composite(parse_auto_stop_timeout, "AUTO_STOP_TIMEOUT_MINUTES")
    threshold_source: ThresholdSource = setting(
        "THRESHOLD_SOURCE", "ThresholdSource", parse_choice, choices=ThresholdSource
    )
    conversion_timing: ConversionTiming = setting(
        "CONVERSION_TIMING", "ConversionTiming", parse_choice, choices=ConversionTiming
    )
    no_hibernation: NoHibernationTypes = setting(
        "NO_HIBERNATION_TYPES", "NoHibernationTypes", parse_choice, choices=NoHibernationTypes
    )

    @property
    def use_prices(self) -> bool:
        """True when thresholds come from prices (the hour parameters as fallback)."""
        return self.threshold_source is ThresholdSource.PRICE_LIST


@dataclass(frozen=True)
class ReportSettings(LedgerTableSetting, ReportBucketSetting, DryRunSetting):
    """The run's report and the lock it releases."""


@dataclass(frozen=True)
class UserMapSettings(FromEnv):
    """Where the daily run keeps the WorkSpace-to-user map the login function reads."""

    table_name: str = setting("USER_TABLE", "(the stack's WorkSpace user table)", require)
