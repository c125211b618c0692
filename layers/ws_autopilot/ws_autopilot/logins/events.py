"""The EventBridge `WorkSpaces Access` event, parsed into a typed model.

Variants seen in the wild are accepted: `directoryId` with or without the `domain/` prefix,
no `clientVersion`, an empty `clientIpAddress`, client product names in any case. What keys a
login (`id`, `account`, `region`, `workspaceId`, `directoryId`, `loginTime`) must match its
documented format, or the event is refused with the reason; the client's free text (IP, platform,
product, version) is taken at any length and bounded before use (inputs.py), so that an odd
client never costs a login.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ws_autopilot.core.errors import InvalidLoginEvent

WORKSPACE_ID = r"^ws-[0-9a-z]{8,63}$"
_DIRECTORY_ID = re.compile(r"^d-[0-9a-f]{10}$")


class WorkSpacesAccessDetail(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    workspace_id: str = Field(alias="workspaceId", pattern=WORKSPACE_ID)
    directory_id: str = Field(alias="directoryId")
    login_time: datetime = Field(alias="loginTime")
    action_type: str = Field(alias="actionType", default="successfulLogin")
    client_ip: str = Field(alias="clientIpAddress", default="")
    client_platform: str = Field(alias="clientPlatform", default="")
    client_product: str = Field(alias="workspacesClientProductName", default="")
    client_version: str | None = Field(alias="clientVersion", default=None)

    @field_validator("directory_id")
    @classmethod
    def _strip_domain_prefix(cls, value: str) -> str:
        directory_id = value.strip().removeprefix("domain/")
        if not _DIRECTORY_ID.match(directory_id):
            raise ValueError(
                f"{value[:64]!r} is not a directory id (d-xxxxxxxxxx, optionally after 'domain/')"
            )
        return directory_id

    @field_validator("client_ip", "client_platform", "client_product")
    @classmethod
    def strip_ascii(cls, value: str) -> str:
        return value.strip()

    @field_validator("login_time")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("loginTime has no time zone")
        return value


class WorkSpacesAccessEvent(EventBridgeModel):
    # The keys of every record and log line: bounded here (EventBridge ids are UUIDs).
    id: str = Field(pattern=r"^[0-9A-Za-z-]{1,64}$")
    account: str = Field(pattern=r"^[0-9]{12}$")
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$")
    source: Literal["aws.workspaces"]
    detail_type: Literal["WorkSpaces Access"] = Field(alias="detail-type")
    detail: WorkSpacesAccessDetail


def parse_access_event(event: Any) -> WorkSpacesAccessEvent:
    """The event as a typed model. Raises InvalidLoginEvent (and only that) naming what is wrong."""
    try:
        return parse(event=event, model=WorkSpacesAccessEvent)
    except (ValidationError, ValueError, TypeError) as exc:
        raise InvalidLoginEvent(_describe(exc)) from exc


def _describe(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'event'}: {error['msg']}"
            for error in exc.errors()[:5]
        )
    return str(exc) or type(exc).__name__
