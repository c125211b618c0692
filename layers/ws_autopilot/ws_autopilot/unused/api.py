"""The WorkSpaces calls of the unused check: connection status, and stopping or terminating
unused WorkSpaces, 25 WorkSpaces per call (the API's limit for all three)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ws_autopilot.aws.clients import aws_call, client
from ws_autopilot.aws.fleet import FailedRequest
from ws_autopilot.core.errors import AwsCallFailed
from ws_autopilot.unused.policy import UnusedPolicy

PER_CALL = 25
# policy -> (operation, client method, request list)
OPERATIONS = {
    UnusedPolicy.STOP: ("StopWorkspaces", "stop_workspaces", "StopWorkspaceRequests"),
    UnusedPolicy.TERMINATE: ("TerminateWorkspaces", "terminate_workspaces", "TerminateWorkspaceRequests"),
}


@dataclass(frozen=True, slots=True)
class ConnectionStatus:
    """One entry of DescribeWorkspacesConnectionStatus."""

    state: str  # CONNECTED, DISCONNECTED or UNKNOWN
    last_connection: datetime | None


class UnusedWorkspacesApi:
    def __init__(self, workspaces_client: Any | None = None) -> None:
        self._client = workspaces_client or client("workspaces")

    @staticmethod
    def status_requests(workspace_ids: list[str]) -> list[dict[str, Any]]:
        return [
            {"WorkspaceIds": workspace_ids[offset : offset + PER_CALL]}
            for offset in range(0, len(workspace_ids), PER_CALL)
        ]

    def connection_statuses(self, workspace_ids: list[str]) -> dict[str, ConnectionStatus]:
        """The connection status of each WorkSpace the API knows. Raises AwsCallFailed."""
        found: dict[str, ConnectionStatus] = {}
        for request in self.status_requests(workspace_ids):
            with aws_call("DescribeWorkspacesConnectionStatus"):
                response = self._client.describe_workspaces_connection_status(**request)
            for status in response.get("WorkspacesConnectionStatus", []):
                last = status.get("LastKnownUserConnectionTimestamp")
                found[status["WorkspaceId"]] = ConnectionStatus(
                    str(status.get("ConnectionState", "UNKNOWN")),
                    last.astimezone(UTC) if isinstance(last, datetime) else None,
                )
        return found

    @staticmethod
    def action_requests(policy: UnusedPolicy, workspace_ids: list[str]) -> list[dict[str, Any]]:
        """StopWorkspaces or TerminateWorkspaces requests, 25 WorkSpaces each."""
        if policy not in OPERATIONS:
            raise ValueError(f"{policy.value} is not an action on WorkSpaces")
        key = OPERATIONS[policy][2]
        return [
            {key: [{"WorkspaceId": w} for w in workspace_ids[offset : offset + PER_CALL]]}
            for offset in range(0, len(workspace_ids), PER_CALL)
        ]

    def act(self, policy: UnusedPolicy, workspace_ids: list[str]) -> dict[str, FailedRequest]:
        """Stop or terminate the WorkSpaces; the ones the API refused, by id (FailedRequests,
        or the error of a whole call that failed, for each of its WorkSpaces). Never raises for
        AWS errors: the caller releases the claims of what failed."""
        requests = self.action_requests(policy, workspace_ids)
        operation, method, _ = OPERATIONS[policy]
        call = getattr(self._client, method)
        failed: dict[str, FailedRequest] = {}
        for request in requests:
            ids = [r["WorkspaceId"] for r in next(iter(request.values()))]
            try:
                with aws_call(operation):
                    response = call(**request)
            except AwsCallFailed as exc:  # the whole call failed: each of its WorkSpaces did
                failed.update({w: FailedRequest(w, exc.error_code, str(exc)) for w in ids})
                continue
            failed.update({f.workspace_id: f for f in _failures(response)})
        return failed


def _failures(response: Mapping[str, Any]) -> list[FailedRequest]:
    return [
        FailedRequest(f.get("WorkspaceId", ""), f.get("ErrorCode", ""), f.get("ErrorMessage", ""))
        for f in response.get("FailedRequests", [])
    ]
