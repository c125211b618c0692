"""Typed values shared by the rules, the adapters and the handlers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from ws_autopilot.errors import InvalidWorkspaceRecord


class RunningMode(StrEnum):
    AUTO_STOP = "AUTO_STOP"
    ALWAYS_ON = "ALWAYS_ON"
    MANUAL = "MANUAL"


class ThresholdSource(StrEnum):
    """Where a WorkSpace's threshold came from (the report's `threshold_source` column)."""

    PRICE_LIST = "price_list"
    PARAMETER = "parameter"
    TAG = "tag"


class Action(StrEnum):
    """What the optimizer decided for one WorkSpace (the report's `action` column)."""

    TO_ALWAYS_ON = "to_always_on"
    TO_AUTO_STOP = "to_auto_stop"
    NONE = "none"
    SKIPPED = "skipped"
    ERROR = "error"

    @property
    def is_conversion(self) -> bool:
        return self in (Action.TO_ALWAYS_ON, Action.TO_AUTO_STOP)

    @property
    def target_mode(self) -> RunningMode:
        if self is Action.TO_ALWAYS_ON:
            return RunningMode.ALWAYS_ON
        if self is Action.TO_AUTO_STOP:
            return RunningMode.AUTO_STOP
        raise ValueError(f"action {self.value} is not a conversion")


@dataclass(frozen=True, slots=True)
class Target:
    """One account and region the product works in."""

    account_id: str
    region: str

    def __str__(self) -> str:
        return f"{self.account_id}/{self.region}"


@dataclass(frozen=True, slots=True)
class Workspace:
    """The fields of a DescribeWorkspaces entry that the product reads."""

    workspace_id: str
    directory_id: str
    user_name: str
    state: str
    running_mode: str
    compute_type: str
    auto_stop_timeout_minutes: int | None = None
    modification_states: tuple[str, ...] = ()
    is_standby: bool = False
    operating_system: str = ""  # WorkspaceProperties.OperatingSystemName, "" when not reported
    root_volume_gib: int | None = None
    user_volume_gib: int | None = None

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> Workspace:
        """Build from one `Workspaces[]` entry of DescribeWorkspaces.

        Raises InvalidWorkspaceRecord naming the first missing or malformed field.
        """
        workspace_id = item.get("WorkspaceId")
        if not isinstance(workspace_id, str) or not workspace_id:
            raise InvalidWorkspaceRecord(str(workspace_id or ""), "WorkspaceId is missing")
        props = item.get("WorkspaceProperties")
        if not isinstance(props, Mapping):
            raise InvalidWorkspaceRecord(workspace_id, "WorkspaceProperties is missing")
        state = _required_str(workspace_id, "State", item.get("State"))
        running_mode = _required_str(
            workspace_id, "WorkspaceProperties.RunningMode", props.get("RunningMode")
        )
        compute_type = _required_str(
            workspace_id, "WorkspaceProperties.ComputeTypeName", props.get("ComputeTypeName")
        )
        timeout = props.get("RunningModeAutoStopTimeoutInMinutes")
        if timeout is not None and (not isinstance(timeout, int) or timeout <= 0):
            raise InvalidWorkspaceRecord(
                workspace_id, f"RunningModeAutoStopTimeoutInMinutes is not a positive integer: {timeout!r}"
            )
        return cls(
            workspace_id=workspace_id,
            directory_id=str(item.get("DirectoryId", "")),
            user_name=str(item.get("UserName", "")),
            state=state,
            running_mode=running_mode,
            compute_type=compute_type,
            auto_stop_timeout_minutes=timeout,
            modification_states=tuple(
                str(m.get("Resource", "")) for m in item.get("ModificationStates") or []
            ),
            is_standby=any(r.get("Type") == "PRIMARY" for r in item.get("RelatedWorkspaces") or []),
            operating_system=str(props.get("OperatingSystemName") or ""),
            root_volume_gib=_size(props.get("RootVolumeSizeGib")),
            user_volume_gib=_size(props.get("UserVolumeSizeGib")),
        )


def _size(value: object) -> int | None:
    """A volume size in GiB as DescribeWorkspaces gives it; None when absent or not a positive
    integer (its price is then not looked up, nothing else depends on it)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _required_str(workspace_id: str, name: str, value: object) -> str:
    """`value` when it is a non-empty string; else InvalidWorkspaceRecord saying `name` is missing."""
    if not isinstance(value, str) or not value:
        raise InvalidWorkspaceRecord(workspace_id, f"{name} is missing")
    return value


@dataclass(frozen=True, slots=True)
class HourlyUsage:
    """A WorkSpace's hourly `UserConnected` Maximum series: hour start (UTC) -> value."""

    points: Mapping[datetime, float] = field(default_factory=dict)

    @property
    def has_datapoints(self) -> bool:
        return bool(self.points)


@dataclass(frozen=True, slots=True)
class MetricsUnavailable:
    """The usage of a WorkSpace could not be read; never treated as zero usage."""

    reason: str


Usage = HourlyUsage | MetricsUnavailable


@dataclass(frozen=True, slots=True)
class TagsUnavailable:
    """The tags of a WorkSpace could not be read."""

    error_code: str


Tags = Mapping[str, str] | TagsUnavailable


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of the billing rules for one WorkSpace."""

    action: Action
    reason: str
    billable_hours: int | None = None
    threshold: int | None = None
    error_code: str = ""
    late: bool = False


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One line of the run's CSV report: one WorkSpace, what was measured, decided and done."""

    account_id: str
    region: str
    workspace_id: str
    directory_id: str
    user_name: str
    compute_type: str
    state: str
    running_mode_before: str
    running_mode_after: str
    billable_hours: int | None
    threshold: int | None
    action: Action
    reason: str
    dry_run: bool
    error_code: str
    evaluated_at: str
    late: bool = False
    threshold_source: str = ""  # "price_list", "parameter" or "tag"; "" when no threshold applied
    prices: str = ""  # the prices the threshold came from, or why the price list was not used
    month_cost: Decimal | None = None  # USD, the month so far under running_mode_before
    other_mode_cost: Decimal | None = None  # USD, the month so far under the other running mode
    month_saving: Decimal | None = None  # USD, what the decision saves this month (0 when unchanged)
    # Unused WorkSpaces (unused.py): the latest connection known for a WorkSpace with none this
    # month (ISO 8601 UTC, "" when none is known or it was not looked up), and what was done
    # about it: "" when not unused, else "reported", "stopped", "terminated", "would stop (dry
    # run)", "would terminate (dry run)", "held: <reason>", "failed: <code>" or "unknown: <reason>".
    last_connection: str = ""
    unused_action: str = ""

    @classmethod
    def error(
        cls,
        target: Target,
        workspace_id: str,
        directory_id: str,
        reason: str,
        error_code: str,
        dry_run: bool,
        evaluated_at: str,
    ) -> ReportRow:
        """A row for what could not even be evaluated (a malformed record, an unfinished
        directory, an account or region that could not be read)."""
        return cls(
            account_id=target.account_id,
            region=target.region,
            workspace_id=workspace_id,
            directory_id=directory_id,
            user_name="",
            compute_type="",
            state="",
            running_mode_before="",
            running_mode_after="",
            billable_hours=None,
            threshold=None,
            action=Action.ERROR,
            reason=reason,
            dry_run=dry_run,
            error_code=error_code,
            evaluated_at=evaluated_at,
        )

    @classmethod
    def columns(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def to_record(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.columns()}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> ReportRow:
        """The row whose `to_record()` (read back from JSON) is `record`. A field the record lacks
        reads as None (`late`: False; the text columns added later: ""), as the record's values
        are not checked; dollar amounts are read back from the text the report parts hold."""
        values: dict[str, Any] = {name: record.get(name) for name in cls.columns()}
        return cls(
            account_id=values["account_id"],
            region=values["region"],
            workspace_id=values["workspace_id"],
            directory_id=values["directory_id"],
            user_name=values["user_name"],
            compute_type=values["compute_type"],
            state=values["state"],
            running_mode_before=values["running_mode_before"],
            running_mode_after=values["running_mode_after"],
            billable_hours=values["billable_hours"],
            threshold=values["threshold"],
            action=Action(values["action"]),
            reason=values["reason"],
            dry_run=values["dry_run"],
            error_code=values["error_code"],
            evaluated_at=values["evaluated_at"],
            late=bool(values["late"]),
            threshold_source=values["threshold_source"] or "",
            prices=values["prices"] or "",
            month_cost=_money(values["month_cost"]),
            other_mode_cost=_money(values["other_mode_cost"]),
            month_saving=_money(values["month_saving"]),
            last_connection=values["last_connection"] or "",
            unused_action=values["unused_action"] or "",
        )


def _money(value: object) -> Decimal | None:
    """A dollar amount read back from a report part (written as text); None stays None."""
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not a dollar amount: {value!r}") from exc
