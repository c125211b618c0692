"""WorkSpaces inventory and running-mode changes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, ConnectionClosedError, ReadTimeoutError

from ws_autopilot.aws.clients import aws_call, client, error_code
from ws_autopilot.core.errors import InvalidWorkspaceRecord
from ws_autopilot.core.models import RunningMode, TagsUnavailable, Workspace

PAGE_SIZE = 25  # the most DescribeWorkspaces returns per call


@dataclass(frozen=True, slots=True)
class WorkspacePage:
    """One DescribeWorkspaces page: the parsed WorkSpaces, the entries that could not be parsed,
    and the token of the next page (None on the last page)."""

    workspaces: list[Workspace]
    invalid: list[InvalidWorkspaceRecord]
    next_token: str | None


@dataclass(frozen=True, slots=True)
class FailedRequest:
    """One entry of a batch call's FailedRequests: the call answered 200 but this one failed."""

    workspace_id: str
    error_code: str
    message: str


@dataclass(frozen=True, slots=True)
class ModifyResult:
    """What ModifyWorkspaceProperties answered. `outcome_unknown`: the request was sent and its
    response lost (read timeout, connection closed, after botocore's retries): the change may
    have been made, and only the WorkSpace's running mode can tell later."""

    ok: bool
    error_code: str = ""
    message: str = ""
    outcome_unknown: bool = False


class WorkspacesFleet:
    def __init__(self, workspaces_client: Any | None = None) -> None:
        self._client = workspaces_client or client("workspaces")

    def directory_ids(self) -> list[str]:
        """Ids of the WorkSpaces directories registered in the client's region, in API order."""
        ids: list[str] = []
        token: str | None = None
        while True:
            with aws_call("DescribeWorkspaceDirectories"):
                response = self._client.describe_workspace_directories(**_token(token))
            ids.extend(d["DirectoryId"] for d in response.get("Directories", []))
            token = response.get("NextToken")
            if not token:
                return ids

    @staticmethod
    def page_request(directory_id: str, next_token: str | None) -> dict[str, Any]:
        return {"DirectoryId": directory_id, "Limit": PAGE_SIZE, **_token(next_token)}

    def page(self, directory_id: str, next_token: str | None = None) -> WorkspacePage:
        """One page of a directory's WorkSpaces. Raises TransientAwsError or PermanentAwsError."""
        with aws_call("DescribeWorkspaces"):
            response = self._client.describe_workspaces(**self.page_request(directory_id, next_token))
        workspaces, invalid = [], []
        for item in response.get("Workspaces", []):
            try:
                workspaces.append(Workspace.from_api(item))
            except InvalidWorkspaceRecord as exc:
                invalid.append(exc)
        return WorkspacePage(workspaces, invalid, response.get("NextToken") or None)

    def pages(self, directory_id: str, next_token: str | None = None) -> Iterator[WorkspacePage]:
        while True:
            page = self.page(directory_id, next_token)
            yield page
            if page.next_token is None:
                return
            next_token = page.next_token

    def user_names(self, workspace_ids: list[str]) -> dict[str, str]:
        """User name by WorkSpace id, up to 25 ids per call. Raises AwsCallFailed."""
        names: dict[str, str] = {}
        for offset in range(0, len(workspace_ids), PAGE_SIZE):
            with aws_call("DescribeWorkspaces"):
                response = self._client.describe_workspaces(
                    WorkspaceIds=workspace_ids[offset : offset + PAGE_SIZE]
                )
            names.update({w["WorkspaceId"]: w.get("UserName", "") for w in response.get("Workspaces", [])})
        return names

    def connected(self, workspace_ids: list[str]) -> set[str]:
        """The WorkSpaces among `workspace_ids` with a user CONNECTED, 25 ids per call.
        Raises AwsCallFailed."""
        connected: set[str] = set()
        for offset in range(0, len(workspace_ids), PAGE_SIZE):
            with aws_call("DescribeWorkspacesConnectionStatus"):
                response = self._client.describe_workspaces_connection_status(
                    WorkspaceIds=workspace_ids[offset : offset + PAGE_SIZE]
                )
            connected.update(
                s["WorkspaceId"]
                for s in response.get("WorkspacesConnectionStatus", [])
                if s.get("ConnectionState") == "CONNECTED"
            )
        return connected

    def latest_rebuild_snapshot(self, workspace_id: str) -> datetime | None:
        """When the newest rebuild snapshot was taken, or None. Raises AwsCallFailed."""
        with aws_call("DescribeWorkspaceSnapshots"):
            response = self._client.describe_workspace_snapshots(WorkspaceId=workspace_id)
        times = [s["SnapshotTime"] for s in response.get("RebuildSnapshots", []) if "SnapshotTime" in s]
        return max(times) if times else None

    def reboot(self, workspace_ids: list[str]) -> list[FailedRequest]:
        """RebootWorkspaces, 25 per call; the per-WorkSpace failures it answers with.
        Raises AwsCallFailed when a whole call fails."""
        failed: list[FailedRequest] = []
        for offset in range(0, len(workspace_ids), PAGE_SIZE):
            batch = workspace_ids[offset : offset + PAGE_SIZE]
            with aws_call("RebootWorkspaces"):
                response = self._client.reboot_workspaces(
                    RebootWorkspaceRequests=[{"WorkspaceId": i} for i in batch]
                )
            failed.extend(_failures(response))
        return failed

    def rebuild(self, workspace_id: str) -> FailedRequest | None:
        """RebuildWorkspaces for one WorkSpace (the API takes exactly one). Raises AwsCallFailed."""
        with aws_call("RebuildWorkspaces"):
            response = self._client.rebuild_workspaces(
                RebuildWorkspaceRequests=[{"WorkspaceId": workspace_id}]
            )
        failures = _failures(response)
        return failures[0] if failures else None

    def tags(self, workspace_id: str) -> Mapping[str, str] | TagsUnavailable:
        """The WorkSpace's tags, or TagsUnavailable with the error code."""
        try:
            response = self._client.describe_tags(ResourceId=workspace_id)
        except (ClientError, BotoCoreError) as exc:
            return TagsUnavailable(error_code(exc))
        return {t["Key"]: t.get("Value", "") for t in response.get("TagList", [])}

    @staticmethod
    def running_mode_properties(mode: RunningMode, auto_stop_timeout_minutes: int) -> dict[str, Any]:
        """The WorkspaceProperties of a conversion: AUTO_STOP always with the product's timeout,
        so the WorkSpace costs what it was judged by."""
        if mode is RunningMode.AUTO_STOP:
            return {
                "RunningMode": mode.value,
                "RunningModeAutoStopTimeoutInMinutes": auto_stop_timeout_minutes,
            }
        return {"RunningMode": mode.value}

    def set_running_mode(
        self, workspace_id: str, mode: RunningMode, auto_stop_timeout_minutes: int
    ) -> ModifyResult:
        """ModifyWorkspaceProperties; a refusal is returned, not raised."""
        try:
            self._client.modify_workspace_properties(
                WorkspaceId=workspace_id,
                WorkspaceProperties=self.running_mode_properties(mode, auto_stop_timeout_minutes),
            )
        except (ReadTimeoutError, ConnectionClosedError) as exc:
            return ModifyResult(False, error_code(exc), str(exc), outcome_unknown=True)
        except (ClientError, BotoCoreError) as exc:
            return ModifyResult(False, error_code(exc), str(exc))
        return ModifyResult(True)


def _failures(response: Mapping[str, Any]) -> list[FailedRequest]:
    return [
        FailedRequest(f.get("WorkspaceId", ""), f.get("ErrorCode", ""), f.get("ErrorMessage", ""))
        for f in response.get("FailedRequests", [])
    ]


def _token(token: str | None) -> dict[str, str]:
    return {"NextToken": token} if token else {}
