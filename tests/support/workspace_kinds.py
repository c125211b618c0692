"""Standby and agentic WorkSpaces in the simulator, as the WorkSpaces API documents them (the
service model's `CreateStandbyWorkspaces`, `RelatedWorkspaceProperties`, `StandbyWorkspace`,
`WorkspaceRequest.AgenticPersonaConfigurationId` and `Workspace.WorkspaceCategory`); moto has
none of it.

- `CreateStandbyWorkspaces`, called in the secondary Region, creates a standby WorkSpace of the
  primary WorkSpace `PrimaryWorkspaceId` of `PrimaryRegion` (same account) in the directory
  `DirectoryId` of this Region, for the primary's user, with the primary's bundle and properties
  (AWS "mirrors the primary WorkSpace bundle images to the secondary Region"). From then on
  DescribeWorkspaces lists, for each of the two, the other in `RelatedWorkspaces`: its id, its
  Region, its type (the standby lists its `PRIMARY`, the primary its `STANDBY`) and its current
  state; the primary also lists `StandbyWorkspacesProperties`, the standby its
  `DataReplicationSettings`.
- `CreateAgenticPersonaConfiguration` makes a persona configuration of the account and Region;
  `CreateWorkspaces` with its id in `AgenticPersonaConfigurationId` makes a WorkSpace of the
  `AGENTIC` category. An unknown persona configuration is a FailedRequest
  `AgenticWorkspaceInvalidPersona`; so is a bundle the documentation excludes (not Windows Server
  2025, not DCV, or a Value, Standard or Performance compute type), under a code of the
  simulator's own (`AgenticWorkspaceUnsupportedBundle`: the documentation names none). Every
  other WorkSpace is `PERSONAL`: DescribeWorkspaces gives each its `WorkspaceCategory`.
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.moto_api._internal import mock_random
from moto.workspaces.exceptions import InvalidParameterValuesException
from moto.workspaces.models import Workspace, WorkSpacesBackend, workspaces_backends
from moto.workspaces.responses import WorkSpacesResponse

PERSONAL, AGENTIC = "PERSONAL", "AGENTIC"
AGENTIC_OS = "WINDOWS_SERVER_2025"
AGENTIC_EXCLUDED_COMPUTE = frozenset({"VALUE", "STANDARD", "PERFORMANCE"})
AGENTIC_PROTOCOL = "WSP"  # DCV, formerly WSP
_original_create_workspaces = WorkSpacesBackend.create_workspaces


class ConflictException(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("ConflictException", message)


def _personas(backend: WorkSpacesBackend) -> dict[str, str]:
    """The account and Region's agentic persona configurations: id -> name."""
    if not hasattr(backend, "_sim_personas"):
        backend._sim_personas = {}  # type: ignore[attr-defined]
    return backend._sim_personas  # type: ignore[attr-defined,no-any-return]


def create_agentic_persona_configuration(backend: WorkSpacesBackend, name: str) -> str:
    """A persona configuration named `name` (unique in the account); its id."""
    personas = _personas(backend)
    if name in personas.values():
        raise ConflictException(f"A persona configuration named {name} already exists.")
    persona_id = f"wsapc-{mock_random.get_random_hex(12)}"
    personas[persona_id] = name
    return persona_id


def _agentic_refusal(backend: WorkSpacesBackend, request: dict[str, Any]) -> tuple[str, str] | None:
    """Why CreateWorkspaces refuses an agentic request (error code, message), or None."""
    persona = request.get("AgenticPersonaConfigurationId")
    if persona is None:
        return None
    if persona not in _personas(backend):
        return "AgenticWorkspaceInvalidPersona", f"The persona configuration {persona} could not be found."
    properties = request.get("WorkspaceProperties") or {}
    protocols = properties.get("Protocols") or [AGENTIC_PROTOCOL]
    if (
        properties.get("OperatingSystemName") != AGENTIC_OS
        or properties.get("ComputeTypeName") in AGENTIC_EXCLUDED_COMPUTE
        or protocols != [AGENTIC_PROTOCOL]
    ):
        return (
            "AgenticWorkspaceUnsupportedBundle",
            "An agentic WorkSpace needs a Windows Server 2025 DCV bundle of a compute type other than"
            " Value, Standard or Performance.",
        )
    return None


def create_workspaces(
    self: WorkSpacesBackend, workspaces: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """moto's CreateWorkspaces, with the category of each WorkSpace and the agentic checks."""
    failed: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    for request in workspaces:
        refusal = _agentic_refusal(self, request)
        if refusal is not None:
            failed.append({"WorkspaceRequest": request, "ErrorCode": refusal[0], "ErrorMessage": refusal[1]})
            continue
        one_failed, one_pending = _original_create_workspaces(self, [request])
        failed.extend(one_failed)
        for created in one_pending:
            ws = self.workspaces[created["WorkspaceId"]]
            ws.workspace_category = AGENTIC if request.get("AgenticPersonaConfigurationId") else PERSONAL  # type: ignore[attr-defined]
            pending.append(describe(self, ws))
    return failed, pending


def create_standby_workspaces(
    self: WorkSpacesBackend, primary_region: str, requests: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Standby WorkSpaces in this Region of primaries in `primary_region`: (failed, pending)."""
    if primary_region == self.region_name:
        raise InvalidParameterValuesException("A standby WorkSpace must be in another Region.")
    primaries = workspaces_backends[self.account_id][primary_region].workspaces
    failed: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    for request in requests:
        primary = primaries.get(request.get("PrimaryWorkspaceId", ""))
        directory_id = request.get("DirectoryId", "")
        if primary is None:
            failed.append(_standby_failure(request, "ResourceNotFound.Workspace", "no such primary"))
            continue
        if directory_id not in self.workspace_directories:
            failed.append(_standby_failure(request, "ResourceNotFound.Directory", "directory not registered"))
            continue
        properties = dict(primary.workspace_properties)
        standby = Workspace(
            workspace={
                "DirectoryId": directory_id,
                "UserName": primary.user_name,
                "BundleId": primary.bundle_id,
                "VolumeEncryptionKey": request.get("VolumeEncryptionKey", ""),
                "WorkspaceProperties": properties,
                "Tags": list(request.get("Tags", [])),
            },
            running_mode=properties["RunningMode"],
            error_code="",
            error_msg="",
        )
        standby.workspace_category = getattr(primary, "workspace_category", PERSONAL)  # type: ignore[attr-defined]
        replication = request.get("DataReplication", "NO_REPLICATION")
        standby.related_workspaces = [
            {"WorkspaceId": primary.workspace_id, "Region": primary_region, "Type": "PRIMARY"}
        ]
        standby.data_replication_settings = {"DataReplication": replication}
        primary.related_workspaces.append(
            {"WorkspaceId": standby.workspace_id, "Region": self.region_name, "Type": "STANDBY"}
        )
        primary.standby_workspaces_properties.append(
            {"StandbyWorkspaceId": standby.workspace_id, "DataReplication": replication}
        )
        self.workspaces[standby.workspace_id] = standby
        pending.append(
            {
                "UserName": standby.user_name,
                "DirectoryId": directory_id,
                "State": standby.state,
                "WorkspaceId": standby.workspace_id,
            }
        )
    return failed, pending


def _standby_failure(request: dict[str, Any], code: str, message: str) -> dict[str, Any]:
    return {"StandbyWorkspaceRequest": request, "ErrorCode": code, "ErrorMessage": message}


def describe(backend: WorkSpacesBackend, ws: Workspace) -> dict[str, Any]:
    """A WorkSpace as DescribeWorkspaces gives it: moto's fields, its category, and each related
    WorkSpace with its state as it is now (omitted once that WorkSpace is gone)."""
    item = ws.to_dict_pending()
    item["WorkspaceCategory"] = getattr(ws, "workspace_category", PERSONAL)
    if ws.related_workspaces:
        related = []
        for entry in ws.related_workspaces:
            region = workspaces_backends[backend.account_id][entry["Region"]]
            other = region.workspaces.get(entry["WorkspaceId"])
            related.append({**entry, "State": other.state} if other is not None else dict(entry))
        item["RelatedWorkspaces"] = related
    return item


def r_create_standby_workspaces(self: WorkSpacesResponse) -> str:
    params = json.loads(self.body or "{}")
    failed, pending = self.workspaces_backend.create_standby_workspaces(  # type: ignore[attr-defined]
        params["PrimaryRegion"], params.get("StandbyWorkspaces", [])
    )
    return json.dumps({"FailedStandbyRequests": failed, "PendingStandbyRequests": pending})


def r_create_agentic_persona_configuration(self: WorkSpacesResponse) -> str:
    params = json.loads(self.body or "{}")
    persona_id = create_agentic_persona_configuration(self.workspaces_backend, params["Name"])
    return json.dumps({"AgenticPersonaConfigurationId": persona_id})


def register() -> None:
    """Add the calls to moto's WorkSpaces classes (simulator.install() calls it once)."""
    WorkSpacesBackend.create_workspaces = create_workspaces  # type: ignore[method-assign]
    WorkSpacesBackend.create_standby_workspaces = create_standby_workspaces  # type: ignore[attr-defined]
    WorkSpacesResponse.create_standby_workspaces = r_create_standby_workspaces  # type: ignore[attr-defined]
    WorkSpacesResponse.create_agentic_persona_configuration = (  # type: ignore[attr-defined]
        r_create_agentic_persona_configuration
    )
