"""WorkSpaces Access events for tests and tools: a sample of events/ pointed at a seeded
WorkSpace, with the fields a case changes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.support.lambda_runtime import load_event


def access_event(
    workspace_id: str,
    directory_id: str,
    event_id: str,
    at: datetime | str,
    *,
    ip: str | None = None,
    account: str | None = None,
    region: str | None = None,
    sample: str = "login_current",
) -> dict[str, Any]:
    """The `sample` event (a fresh copy) for `workspace_id` of `directory_id`, logged in `at`;
    `ip`, `account` and `region` replace the sample's when given."""
    event = load_event(sample)
    event["id"] = event_id
    if account is not None:
        event["account"] = account
    if region is not None:
        event["region"] = region
    event["detail"].update(
        {
            "workspaceId": workspace_id,
            "directoryId": f"domain/{directory_id}",
            "loginTime": at if isinstance(at, str) else at.isoformat(),
        }
    )
    if ip is not None:
        event["detail"]["clientIpAddress"] = ip
    return event
