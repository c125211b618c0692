"""The unused-WorkSpace alerts: their alert types, and each alert's subject and body."""

from __future__ import annotations

from datetime import datetime

from ws_autopilot.aws.fleet import FailedRequest
from ws_autopilot.core.models import AlertMessage, Target, Workspace
from ws_autopilot.unused.policy import ActionEntry, Judgement, UnusedPolicy, iso

FAILED_ALERT = "unused_failed"


def alert_type(policy: UnusedPolicy) -> str:
    """The alert topic's `alert_type` of an unused WorkSpace stopped or terminated."""
    return f"unused_{policy.value}"


# Every alert_type the unused check publishes (docs/operations.md lists them).
ALERT_TYPES = frozenset({alert_type(UnusedPolicy.STOP), alert_type(UnusedPolicy.TERMINATE), FAILED_ALERT})


def action_made_alert(
    entry: ActionEntry,
    done_at: datetime,
    workspace: Workspace,
    judgement: Judgement,
    target: Target,
    start: datetime,
    months: int,
) -> AlertMessage:
    """The alert that `entry`'s stop or termination was made at `done_at`. `start` is the
    beginning of the `months` without a connection that made the WorkSpace unused."""
    kind = alert_type(entry.policy)
    details = {"action": entry.policy.value, "run_id": entry.run_id, "at": done_at.isoformat()}
    return AlertMessage(
        kind,
        f"Unused WorkSpace {entry.workspace_id} {entry.policy.done}",
        _body(kind, workspace, judgement, target, start, months, details),
    )


def action_failed_alert(
    policy: UnusedPolicy,
    entry: ActionEntry,
    refusal: FailedRequest,
    workspace: Workspace,
    judgement: Judgement,
    target: Target,
    start: datetime,
    months: int,
) -> AlertMessage:
    """The alert that the API refused to stop or terminate (`policy`) `entry`'s WorkSpace."""
    details = {"action": policy.value, "error_code": refusal.error_code, "error": refusal.message}
    return AlertMessage(
        FAILED_ALERT,
        f"{policy.doing.capitalize()} unused WorkSpace {entry.workspace_id} failed",
        _body(FAILED_ALERT, workspace, judgement, target, start, months, details),
    )


def _body(
    kind: str,
    workspace: Workspace,
    judgement: Judgement,
    target: Target,
    start: datetime,
    months: int,
    details: dict[str, str],
) -> dict[str, object]:
    return {
        "alert_type": kind,
        "account_id": target.account_id,
        "region": target.region,
        "workspace_id": workspace.workspace_id,
        "directory_id": workspace.directory_id,
        "user_name": workspace.user_name,
        "state": workspace.state,
        "running_mode": workspace.running_mode,
        "last_connection": iso(judgement.last_connection) or "none known",
        "no_connection_since": iso(start),
        "unused_months": str(months),
        **details,
    }
