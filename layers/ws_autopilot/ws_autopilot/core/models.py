"""Typed values shared by the rules, the adapters and the handlers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from ws_autopilot.core.errors import InvalidWorkspaceRecord


class RunningMode(StrEnum):
    AUTO_STOP = "AUTO_STOP"
    ALWAYS_ON = "ALWAYS_ON"
    MANUAL = "MANUAL"


class WorkspaceRole(StrEnum):
    """A WorkSpace's part in multi-region resilience, as its `RelatedWorkspaces` say: a standby
    WorkSpace lists its primary (an entry of type PRIMARY), a primary lists its standby."""

    PRIMARY = "PRIMARY"
    STANDBY = "STANDBY"


class WorkspaceCategory(StrEnum):
    """`Workspace.WorkspaceCategory`: a WorkSpace for a person or for AI agents."""

    PERSONAL = "PERSONAL"
    AGENTIC = "AGENTIC"


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
    role: str = ""  # a WorkspaceRole value; "" when the WorkSpace has no related WorkSpace
    category: str = ""  # WorkspaceCategory as the API gives it; "" when it does not say
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
            role=_role(item.get("RelatedWorkspaces")),
            category=str(item.get("WorkspaceCategory") or ""),
            operating_system=str(props.get("OperatingSystemName") or ""),
            root_volume_gib=_size(props.get("RootVolumeSizeGib")),
            user_volume_gib=_size(props.get("UserVolumeSizeGib")),
        )

    @property
    def is_standby(self) -> bool:
        """A standby WorkSpace of multi-region resilience: idle by design until its primary fails."""
        return self.role == WorkspaceRole.STANDBY

    @property
    def is_personal(self) -> bool:
        """A WorkSpace for a person (or one the API does not categorize): its use is a user's
        connections, which is all the billing rules and the unused check know how to read."""
        return self.category in ("", WorkspaceCategory.PERSONAL)


def _role(related: object) -> str:
    """The WorkSpace's own role from its `RelatedWorkspaces`, whose entries each give the type of
    the *other* WorkSpace: a PRIMARY entry makes it the standby, a STANDBY entry the primary."""
    types = {r.get("Type") for r in related if isinstance(r, Mapping)} if isinstance(related, list) else set()
    if WorkspaceRole.PRIMARY in types:
        return WorkspaceRole.STANDBY.value
    if WorkspaceRole.STANDBY in types:
        return WorkspaceRole.PRIMARY.value
    return ""


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
class DailyUsage:
    """A WorkSpace's daily `UserConnected` Maximum series: day start (UTC) -> value."""

    points: Mapping[datetime, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HourlyLoad:
    """A WorkSpace's hourly `CPUUsage` and `MemoryUsage` Averages (percent of its compute type's
    vCPUs and memory): hour start (UTC) -> value. Read on the month's last day for right-sizing."""

    cpu: Mapping[datetime, float] = field(default_factory=dict)
    memory: Mapping[datetime, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AlertMessage:
    """One message for the alert topic: its `alert_type` (`kind`), e-mail subject and JSON body."""

    kind: str
    subject: str
    body: dict[str, object]
