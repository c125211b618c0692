"""The local AWS simulator: moto, extended with the WorkSpaces calls it lacks and a CloudWatch
metric store fast enough for fleets of hundreds of WorkSpaces.

`install()` adds the extensions to moto's backend and response classes, so they work through
real boto3 clients in every moto mode (in-process `mock_aws`, server), and registers the
services moto lacks (the Price List, tests/support/price_list.py). They follow the
documented API: the allowed states of each call, FailedRequests for per-WorkSpace failures,
Limit/NextToken pagination, standby and agentic WorkSpaces (tests/support/workspace_kinds.py).
The code under test cannot tell them from AWS.
"""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
import warnings
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ReadTimeoutError
from moto.cloudwatch.exceptions import ValidationError
from moto.cloudwatch.models import CloudWatchBackend, cloudwatch_backends
from moto.cloudwatch.responses import CloudWatchResponse
from moto.core.exceptions import JsonRESTError, ServiceException
from moto.core.responses import ActionResult, BaseResponse
from moto.resourcegroupstaggingapi.exceptions import ResourceGroupsTaggingAPIError
from moto.resourcegroupstaggingapi.responses import ResourceGroupsTaggingAPIResponse
from moto.workspaces.exceptions import InvalidParameterValuesException, ResourceNotFoundException
from moto.workspaces.models import Workspace, WorkSpacesBackend, workspaces_backends
from moto.workspaces.responses import WorkSpacesResponse

from tests.support import price_list, workspace_kinds

MAX_PAGE = 25
MAX_METRIC_QUERIES = 500
MAX_DATAPOINTS = 100_800

MODIFY_STATES = {"AVAILABLE", "STOPPED"}
REBOOT_STATES = {"AVAILABLE", "UNHEALTHY", "REBOOTING"}
REBUILD_STATES = {"AVAILABLE", "ERROR", "UNHEALTHY", "STOPPED", "REBOOTING"}
START_STATES = {"STOPPED"}
STOP_STATES = {"AVAILABLE", "IMPAIRED", "UNHEALTHY", "ERROR"}
SELF_STARTING_MODES = {"AUTO_STOP", "MANUAL"}
ALL_STATES = {
    "PENDING",
    "AVAILABLE",
    "IMPAIRED",
    "UNHEALTHY",
    "REBOOTING",
    "STARTING",
    "REBUILDING",
    "RESTORING",
    "MAINTENANCE",
    "ADMIN_MAINTENANCE",
    "TERMINATING",
    "TERMINATED",
    "SUSPENDED",
    "UPDATING",
    "STOPPING",
    "STOPPED",
    "ERROR",
}
# "You can terminate a WorkSpace that is in any state except SUSPENDED"; asynchronous: the
# WorkSpace is TERMINATING until AWS cleans it up (finish_terminations()).
TERMINATE_STATES = ALL_STATES - {"SUSPENDED"}


class InvalidResourceStateException(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("InvalidResourceStateException", message)


class OperationInProgressException(JsonRESTError):
    code = 400

    def __init__(self, message: str) -> None:
        super().__init__("OperationInProgressException", message)


class SimulatedRefusal(JsonRESTError):
    """An error code a test asked the simulator to answer with for one WorkSpace."""

    code = 400

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(error_code, message)


# --------------------------------------------------------------------------------------------
# Pagination tokens: opaque to callers, as AWS's are.
# --------------------------------------------------------------------------------------------
def _encode_token(payload: Mapping[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()


def _decode_token(token: str | None, error: type[JsonRESTError]) -> dict[str, Any]:
    if not token:
        return {}
    try:
        return dict(json.loads(base64.urlsafe_b64decode(token.encode())))
    except (ValueError, TypeError) as exc:
        raise error("The specified NextToken is not valid.") from exc


# --------------------------------------------------------------------------------------------
# WorkSpaces backend extensions
# --------------------------------------------------------------------------------------------
def _sim(ws: Workspace) -> dict[str, Any]:
    """Simulator-only attributes of a WorkSpace (connection, snapshots, injected refusals)."""
    if not hasattr(ws, "_sim"):
        ws._sim = {  # type: ignore[attr-defined]
            "connection_state": "DISCONNECTED",
            "last_connection": None,
            "rebuild_snapshots": [],
            "restore_snapshots": [],
            "refuse": {},
            "modifications": [],
            "actions": [],  # the batch state changes (reboot, stop, terminate...) it accepted
        }
    return ws._sim  # type: ignore[attr-defined,no-any-return]


def _get(backend: WorkSpacesBackend, workspace_id: str) -> Workspace:
    ws = backend.workspaces.get(workspace_id)
    if ws is None:
        raise ResourceNotFoundException(f"The WorkSpace {workspace_id} could not be found.")
    return ws


def _refusal(ws: Workspace, operation: str) -> str | None:
    return _sim(ws)["refuse"].get(operation)


def modify_workspace_properties(
    self: WorkSpacesBackend, workspace_id: str, properties: Mapping[str, Any]
) -> None:
    ws = _get(self, workspace_id)
    refused = _refusal(ws, "ModifyWorkspaceProperties")
    if refused:
        raise SimulatedRefusal(refused, f"The WorkSpace {workspace_id} cannot be modified.")
    if ws.modification_states:
        raise OperationInProgressException(f"The WorkSpace {workspace_id} is being modified.")
    if ws.state not in MODIFY_STATES:
        raise InvalidResourceStateException(
            f"The WorkSpace {workspace_id} is in state {ws.state} and cannot be modified."
        )
    _sim(ws)["modifications"].append(dict(properties))
    updated = dict(ws.workspace_properties)
    updated.update(properties)
    if updated.get("RunningMode") == "ALWAYS_ON":
        updated.pop("RunningModeAutoStopTimeoutInMinutes", None)
    elif updated.get("RunningMode") == "AUTO_STOP":
        updated.setdefault("RunningModeAutoStopTimeoutInMinutes", 60)
    ws.workspace_properties = updated


def _batch(
    self: WorkSpacesBackend,
    requests: list[dict[str, Any]],
    operation: str,
    allowed: set[str],
    new_state: str,
    modes: set[str] | None = None,
) -> list[dict[str, str]]:
    """Apply a state change to up to 25 WorkSpaces; per-WorkSpace failures are returned as
    FailedRequests, never raised (HTTP 200), as the API does."""
    if not 1 <= len(requests) <= MAX_PAGE:
        raise InvalidParameterValuesException(f"{operation} takes between 1 and 25 WorkSpaces.")
    failed = []
    for request in requests:
        workspace_id = request.get("WorkspaceId", "")
        ws = self.workspaces.get(workspace_id)
        if ws is None:
            failed.append(
                _failure(workspace_id, "ResourceNotFound.Workspace", "The WorkSpace could not be found.")
            )
            continue
        refused = _refusal(ws, operation)
        if refused:
            failed.append(_failure(workspace_id, refused, f"{operation} failed."))
        elif ws.state not in allowed:
            failed.append(
                _failure(
                    workspace_id,
                    "InvalidResourceState.WorkspaceState",
                    f"The WorkSpace is in state {ws.state}; {operation} needs one of {sorted(allowed)}.",
                )
            )
        elif modes is not None and ws.workspace_properties.get("RunningMode") not in modes:
            failed.append(
                _failure(
                    workspace_id,
                    "UnsupportedOperation.RunningMode",
                    f"{operation} is supported only for {sorted(modes)} WorkSpaces.",
                )
            )
        else:
            ws.state = new_state
            _sim(ws)["actions"].append(operation)
    return failed


def _failure(workspace_id: str, code: str, message: str) -> dict[str, str]:
    return {"WorkspaceId": workspace_id, "ErrorCode": code, "ErrorMessage": message}


def rebuild_workspaces(self: WorkSpacesBackend, requests: list[dict[str, Any]]) -> list[dict[str, str]]:
    if len(requests) != 1:
        raise InvalidParameterValuesException("RebuildWorkspaces takes exactly one WorkSpace.")
    return _batch(self, requests, "RebuildWorkspaces", REBUILD_STATES, "REBUILDING")


def create_tags(self: WorkSpacesBackend, resource_id: str, tags: list[dict[str, str]]) -> None:
    """CreateTags overwrites the value of an existing key, as the API documents."""
    existing = _tag_list(self, resource_id)
    keys = {t["Key"] for t in tags}
    existing[:] = [t for t in existing if t["Key"] not in keys] + [
        {"Key": t["Key"], "Value": t.get("Value", "")} for t in tags
    ]


def delete_tags(self: WorkSpacesBackend, resource_id: str, tag_keys: list[str]) -> None:
    existing = _tag_list(self, resource_id)
    existing[:] = [t for t in existing if t["Key"] not in set(tag_keys)]


def describe_tags(self: WorkSpacesBackend, resource_id: str) -> list[dict[str, str]]:
    return list(_tag_list(self, resource_id))


def _tag_list(self: WorkSpacesBackend, resource_id: str) -> list[dict[str, str]]:
    if resource_id.startswith("ws-"):
        ws = _get(self, resource_id)
        if not isinstance(ws.tags, list):
            ws.tags = []
        return ws.tags
    if resource_id in self.workspace_directories:
        return self.workspace_directories[resource_id].tags
    raise ResourceNotFoundException(f"The resource {resource_id} could not be found.")


# --------------------------------------------------------------------------------------------
# WorkSpaces response extensions (dispatched by action name)
# --------------------------------------------------------------------------------------------
def _params(response: WorkSpacesResponse) -> dict[str, Any]:
    return json.loads(response.body or "{}")


def _page(items: list[Any], params: Mapping[str, Any]) -> tuple[list[Any], str | None]:
    limit = params.get("Limit", MAX_PAGE)
    if not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise InvalidParameterValuesException(f"Limit must be between 1 and {MAX_PAGE}.")
    start = int(_decode_token(params.get("NextToken"), InvalidParameterValuesException).get("offset", 0))
    page = items[start : start + limit]
    token = _encode_token({"offset": start + limit}) if start + limit < len(items) else None
    return page, token


def r_describe_workspaces(self: WorkSpacesResponse) -> str:
    params = _params(self)
    if params.get("DirectoryId") and not {"WorkspaceIds", "UserName", "BundleId"} & set(params):
        workspaces = _directory_members(self.workspaces_backend, params["DirectoryId"])
    else:
        workspaces = sorted(
            self.workspaces_backend.describe_workspaces(
                workspace_ids=params.get("WorkspaceIds"),
                directory_id=params.get("DirectoryId"),
                user_name=params.get("UserName"),
                bundle_id=params.get("BundleId"),
            ),
            key=lambda w: w.workspace_id,
        )
    page, token = _page(workspaces, params)
    backend = self.workspaces_backend
    body: dict[str, Any] = {"Workspaces": [workspace_kinds.describe(backend, w) for w in page]}
    if token:
        body["NextToken"] = token
    return json.dumps(body)


def _directory_members(backend: WorkSpacesBackend, directory_id: str) -> list[Workspace]:
    """A directory's WorkSpaces sorted by id, indexed once per change of the fleet's membership
    (listing a directory of 50,000 must not scan and sort the whole fleet for every page)."""
    signature = (len(backend.workspaces), next(reversed(backend.workspaces), None))
    cached = getattr(backend, "_sim_directory_index", None)
    if cached is None or cached[0] != signature:
        index: dict[str, list[Workspace]] = defaultdict(list)
        for ws in sorted(backend.workspaces.values(), key=lambda w: w.workspace_id):
            index[ws.directory_id].append(ws)
        cached = (signature, index)
        backend._sim_directory_index = cached  # type: ignore[attr-defined]
    return cached[1].get(directory_id, [])


def r_modify_workspace_properties(self: WorkSpacesResponse) -> str:
    params = _params(self)
    self.workspaces_backend.modify_workspace_properties(
        params["WorkspaceId"], params.get("WorkspaceProperties", {})
    )
    return "{}"


def _r_batch(key: str, operation: str, allowed: set[str], state: str, modes: set[str] | None = None):  # type: ignore[no-untyped-def]
    def handler(self: WorkSpacesResponse) -> str:
        failed = _batch(self.workspaces_backend, _params(self).get(key, []), operation, allowed, state, modes)
        return json.dumps({"FailedRequests": failed})

    return handler


def r_rebuild_workspaces(self: WorkSpacesResponse) -> str:
    failed = self.workspaces_backend.rebuild_workspaces(_params(self).get("RebuildWorkspaceRequests", []))
    return json.dumps({"FailedRequests": failed})


def r_describe_workspaces_connection_status(self: WorkSpacesResponse) -> str:
    params = _params(self)
    ids = params.get("WorkspaceIds")
    backend = self.workspaces_backend
    if ids is not None and not 1 <= len(ids) <= MAX_PAGE:
        raise InvalidParameterValuesException("WorkspaceIds takes between 1 and 25 ids.")
    workspaces = (
        [backend.workspaces[i] for i in ids if i in backend.workspaces]
        if ids
        else sorted(backend.workspaces.values(), key=lambda w: w.workspace_id)
    )
    page, token = (workspaces, None) if ids else _page(workspaces, params)
    statuses = []
    for ws in page:
        sim = _sim(ws)
        status: dict[str, Any] = {"WorkspaceId": ws.workspace_id, "ConnectionState": sim["connection_state"]}
        if sim["last_connection"] is not None:
            status["LastKnownUserConnectionTimestamp"] = sim["last_connection"].timestamp()
        statuses.append(status)
    body: dict[str, Any] = {"WorkspacesConnectionStatus": statuses}
    if token:
        body["NextToken"] = token
    return json.dumps(body)


def r_describe_workspace_snapshots(self: WorkSpacesResponse) -> str:
    ws = _get(self.workspaces_backend, _params(self)["WorkspaceId"])
    sim = _sim(ws)
    return json.dumps(
        {
            "RebuildSnapshots": [{"SnapshotTime": t.timestamp()} for t in sim["rebuild_snapshots"]],
            "RestoreSnapshots": [{"SnapshotTime": t.timestamp()} for t in sim["restore_snapshots"]],
        }
    )


def r_delete_tags(self: WorkSpacesResponse) -> str:
    params = _params(self)
    self.workspaces_backend.delete_tags(params["ResourceId"], params.get("TagKeys", []))
    return "{}"


# --------------------------------------------------------------------------------------------
# Resource Groups Tagging API: moto serves WorkSpaces' tags (WorkSpacesBackend is taggable);
# the simulator adds the documented limits of ResourceARNList
# --------------------------------------------------------------------------------------------
MAX_TAGGING_ARNS = 100
_original_get_resources = ResourceGroupsTaggingAPIResponse.get_resources


def r_get_resources(self: ResourceGroupsTaggingAPIResponse) -> Any:
    """GetResources with the documented limits of ResourceARNList: 1 to 100 ARNs, never with
    ResourceTypeFilters, TagFilters or a pagination parameter."""
    arns = self._get_param("ResourceARNList")
    if arns is not None:
        if not 1 <= len(arns) <= MAX_TAGGING_ARNS:
            raise ResourceGroupsTaggingAPIError(
                "InvalidParameterException", f"ResourceARNList takes 1 to {MAX_TAGGING_ARNS} ARNs."
            )
        for other in (
            "ResourceTypeFilters",
            "TagFilters",
            "ResourcesPerPage",
            "TagsPerPage",
            "PaginationToken",
        ):
            if self._get_param(other) is not None:
                raise ResourceGroupsTaggingAPIError(
                    "InvalidParameterException", f"ResourceARNList cannot be combined with {other}."
                )
        # AWS answers a list of ARNs whole (it takes no pagination parameter to ask for more);
        # moto would page it by its default of 50 resources and return a token
        read_int = self._get_int_param
        self._get_int_param = lambda name, default=None: (  # type: ignore[method-assign]
            MAX_TAGGING_ARNS if name == "ResourcesPerPage" else read_int(name, default)
        )
    return _original_get_resources(self)


# --------------------------------------------------------------------------------------------
# CloudWatch: an indexed metric store behind GetMetricData, with NextToken pagination
# --------------------------------------------------------------------------------------------
MetricKey = tuple[str, str, tuple[tuple[str, str], ...]]


def metric_key(namespace: str, name: str, dimensions: Iterable[Mapping[str, str]]) -> MetricKey:
    return namespace, name, tuple(sorted((d["Name"], d["Value"]) for d in dimensions))


class MetricIndex:
    """Datapoints by (namespace, metric, dimensions), each series sorted by time."""

    def __init__(self) -> None:
        self.series: dict[MetricKey, tuple[list[datetime], list[float]]] = defaultdict(lambda: ([], []))

    def share(self, key: MetricKey, series: tuple[list[datetime], list[float]]) -> None:
        """Point `key` at a series other keys may share (a large fleet of few usage profiles);
        the series is read, never changed, so nothing is copied."""
        self.series[key] = series

    def add(self, key: MetricKey, points: Iterable[tuple[datetime, float]]) -> None:
        # new lists: a series shared with other keys (share()) is never changed under them
        times, values = self.series[key]
        merged = sorted([*zip(times, values, strict=True), *points])
        self.series[key] = ([t for t, _ in merged], [v for _, v in merged])

    def aggregate(
        self, key: MetricKey, start: datetime, end: datetime, period: int, stat: str
    ) -> tuple[list[datetime], list[float]]:
        times, values = self.series.get(key, ([], []))
        buckets: dict[int, list[float]] = {}
        for i in range(bisect_left(times, start), bisect_left(times, end)):
            buckets.setdefault(int((times[i] - start).total_seconds()) // period, []).append(values[i])
        out_times, out_values = [], []
        for bucket in sorted(buckets):
            out_times.append(start + timedelta(seconds=bucket * period))
            out_values.append(_statistic(stat, buckets[bucket]))
        return out_times, out_values


def _statistic(stat: str, values: list[float]) -> float:
    if stat == "Maximum":
        return max(values)
    if stat == "Minimum":
        return min(values)
    if stat == "Sum":
        return sum(values)
    if stat == "Average":
        return sum(values) / len(values)
    if stat == "SampleCount":
        return float(len(values))
    raise ValidationError(f"The statistic {stat} is not supported by the simulator.")


def metric_index(account_id: str, region: str) -> MetricIndex:
    backend = cloudwatch_backends[account_id][region]
    if not hasattr(backend, "_sim_index"):
        backend._sim_index = MetricIndex()  # type: ignore[attr-defined]
    return backend._sim_index  # type: ignore[attr-defined,no-any-return]


_original_put_metric_data = CloudWatchBackend.put_metric_data


def put_metric_data(self: CloudWatchBackend, namespace: str, metric_data: list[dict[str, Any]]) -> None:
    _original_put_metric_data(self, namespace, metric_data)
    index = metric_index(self.account_id, self.region_name)
    for datum in metric_data:
        values = datum.get("Values") or [datum.get("Value", 0)]
        timestamp = _as_datetime(datum.get("Timestamp"))
        index.add(
            metric_key(namespace, datum["MetricName"], datum.get("Dimensions", [])),
            [(timestamp, float(v)) for v in values],
        )


def _as_datetime(value: Any) -> datetime:
    if value is None:
        return datetime.now(UTC)
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def r_get_metric_data(self: CloudWatchResponse) -> ActionResult:
    params = self._get_params()
    queries = params.get("MetricDataQueries", [])
    if not 1 <= len(queries) <= MAX_METRIC_QUERIES:
        raise ValidationError(f"MetricDataQueries must hold between 1 and {MAX_METRIC_QUERIES} queries.")
    start, end = _as_datetime(params["StartTime"]), _as_datetime(params["EndTime"])
    if start >= end:
        raise ValidationError("The parameter StartTime must be less than the parameter EndTime.")
    budget = int(params.get("MaxDatapoints") or MAX_DATAPOINTS)
    position = _decode_token(params.get("NextToken"), ValidationError)
    first, skip = int(position.get("query", 0)), int(position.get("offset", 0))
    index = metric_index(self.current_account, self.region)
    results: list[dict[str, Any]] = []
    token = None
    for number in range(first, len(queries)):
        query = queries[number]
        stat = query["MetricStat"]
        metric = stat["Metric"]
        times, values = index.aggregate(
            metric_key(metric["Namespace"], metric["MetricName"], metric.get("Dimensions", [])),
            start,
            end,
            int(stat["Period"]),
            stat["Stat"],
        )
        if params.get("ScanBy", "TimestampDescending") == "TimestampDescending":
            times, values = times[::-1], values[::-1]
        offset = skip if number == first else 0
        taken = min(budget, len(times) - offset)
        result = {
            "Id": query["Id"],
            "Label": query.get("Label", metric["MetricName"]),
            "Timestamps": times[offset : offset + taken],
            "Values": values[offset : offset + taken],
            "StatusCode": "Complete",
        }
        budget -= taken
        if offset + taken < len(times):
            result["StatusCode"] = "PartialData"
            token = _encode_token({"query": number, "offset": offset + taken})
        if query.get("ReturnData", True):
            results.append(result)
        if token:
            break
    body: dict[str, Any] = {"MetricDataResults": results, "Messages": []}
    if token:
        body["NextToken"] = token
    return ActionResult(body)


# --------------------------------------------------------------------------------------------
# Call counting and fault injection, for every service the simulator serves
# --------------------------------------------------------------------------------------------
class SimulatedFault(ServiceException):
    """An injected error, serialized by moto in the service's own protocol (CBOR, JSON, XML)."""


@dataclass
class Fault:
    """Fail `action` of `service` (moto's service name) with `error_code` and `status`: every
    `every`-th call after the first `after` ones, at most `limit` times (None: no limit), in
    `account` and `region` only when they are given."""

    service: str
    action: str
    error_code: str
    status: int = 400
    every: int = 1
    limit: int | None = None
    account: str | None = None
    region: str | None = None
    after: int = 0
    # "response": the call is carried out and its response never arrives; "request": it never
    # arrives at all. Either way botocore reads a timeout (ReadTimeoutError), as over a network.
    lost: str = ""
    seen: int = 0
    injected: int = 0

    def fires(self, service: str, action: str, account: str, region: str) -> bool:
        if (service, action) != (self.service, self.action):
            return False
        if self.account not in (None, account) or self.region not in (None, region):
            return False
        self.seen += 1
        if self.seen <= self.after:
            return False
        if self.limit is not None and self.injected >= self.limit:
            return False
        if (self.seen - self.after) % self.every:
            return False
        self.injected += 1
        return True


@dataclass(frozen=True, slots=True)
class Call:
    service: str
    action: str
    account: str
    region: str
    at: float


FAULTS: list[Fault] = []
CALLS: Counter[tuple[str, str]] = Counter()
CALL_LOG: list[Call] = []
clock: Callable[[], float] = time.time  # what CALL_LOG timestamps; tests on virtual time replace it
_original_call_action = BaseResponse.call_action


def call_action(self: BaseResponse) -> Any:
    action = self._get_action()
    CALLS[(self.service_name, action)] += 1
    CALL_LOG.append(Call(self.service_name, action, self.current_account, self.region, clock()))
    for fault in FAULTS:
        if fault.fires(self.service_name, action, self.current_account, self.region):
            if fault.lost:
                if fault.lost == "response":
                    _original_call_action(self)
                raise ReadTimeoutError(
                    endpoint_url=f"https://{self.service_name}.{self.region}.amazonaws.com/"
                )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the code has no error shape in the model
                _modelled_status, headers, body = self.serialized(
                    ActionResult(SimulatedFault(fault.error_code, f"simulated {fault.error_code}"))
                )
            # Every AWS answer carries a request id (Step Functions quotes it when a task fails).
            headers.setdefault("x-amzn-RequestId", str(uuid.uuid4()))
            return fault.status, headers, body
    return _original_call_action(self)


@contextmanager
def inject(fault: Fault) -> Iterator[Fault]:
    FAULTS.append(fault)
    try:
        yield fault
    finally:
        FAULTS.remove(fault)


# --------------------------------------------------------------------------------------------
# Installation and test-side helpers
# --------------------------------------------------------------------------------------------
_INSTALLED = False


def install() -> None:
    """Add the extensions to moto's classes (idempotent)."""
    global _INSTALLED
    if _INSTALLED:
        return
    WorkSpacesBackend.modify_workspace_properties = modify_workspace_properties  # type: ignore[attr-defined]
    WorkSpacesBackend.rebuild_workspaces = rebuild_workspaces  # type: ignore[attr-defined]
    WorkSpacesBackend.create_tags = create_tags  # type: ignore[method-assign]
    WorkSpacesBackend.delete_tags = delete_tags  # type: ignore[attr-defined]
    WorkSpacesBackend.describe_tags = describe_tags  # type: ignore[method-assign]
    WorkSpacesResponse.describe_workspaces = r_describe_workspaces  # type: ignore[method-assign]
    WorkSpacesResponse.modify_workspace_properties = r_modify_workspace_properties  # type: ignore[attr-defined]
    WorkSpacesResponse.reboot_workspaces = _r_batch(  # type: ignore[attr-defined]
        "RebootWorkspaceRequests", "RebootWorkspaces", REBOOT_STATES, "REBOOTING"
    )
    WorkSpacesResponse.start_workspaces = _r_batch(  # type: ignore[attr-defined]
        "StartWorkspaceRequests", "StartWorkspaces", START_STATES, "STARTING", SELF_STARTING_MODES
    )
    WorkSpacesResponse.stop_workspaces = _r_batch(  # type: ignore[attr-defined]
        "StopWorkspaceRequests", "StopWorkspaces", STOP_STATES, "STOPPING", SELF_STARTING_MODES
    )
    WorkSpacesResponse.rebuild_workspaces = r_rebuild_workspaces  # type: ignore[attr-defined]
    WorkSpacesResponse.terminate_workspaces = _r_batch(  # type: ignore[method-assign]
        "TerminateWorkspaceRequests", "TerminateWorkspaces", TERMINATE_STATES, "TERMINATING"
    )
    WorkSpacesResponse.describe_workspaces_connection_status = (  # type: ignore[attr-defined]
        r_describe_workspaces_connection_status
    )
    WorkSpacesResponse.describe_workspace_snapshots = r_describe_workspace_snapshots  # type: ignore[attr-defined]
    WorkSpacesResponse.delete_tags = r_delete_tags  # type: ignore[attr-defined]
    ResourceGroupsTaggingAPIResponse.get_resources = r_get_resources  # type: ignore[method-assign]
    CloudWatchBackend.put_metric_data = put_metric_data  # type: ignore[method-assign]
    CloudWatchResponse.get_metric_data = r_get_metric_data  # type: ignore[method-assign]
    BaseResponse.call_action = call_action  # type: ignore[method-assign]
    price_list.register()  # the Price List Query API, which moto lacks
    workspace_kinds.register()  # standby and agentic WorkSpaces, which moto lacks
    # moto gives every account and region's EC2 a few hundred public AMIs when it first touches it
    # (the directories' VPCs do); WorkSpaces never reads them, and 2,000 pairs load them 2,000 times.
    os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    _INSTALLED = True


def workspace(account_id: str, region: str, workspace_id: str) -> Workspace:
    """The simulator's record of a WorkSpace, for tests that change what AWS would change."""
    return _get(workspaces_backends[account_id][region], workspace_id)


def set_state(account_id: str, region: str, workspace_id: str, state: str) -> None:
    workspace(account_id, region, workspace_id).state = state


def refuse(account_id: str, region: str, workspace_id: str, operation: str, error_code: str) -> None:
    """Make `operation` fail for one WorkSpace with `error_code`, as AWS sometimes does."""
    _sim(workspace(account_id, region, workspace_id))["refuse"][operation] = error_code


def allow(account_id: str, region: str, workspace_id: str, operation: str) -> None:
    """Undo `refuse()`."""
    _sim(workspace(account_id, region, workspace_id))["refuse"].pop(operation, None)


def modifications(account_id: str, region: str, workspace_id: str) -> list[dict[str, Any]]:
    """The WorkspaceProperties of every ModifyWorkspaceProperties call the WorkSpace accepted."""
    return list(_sim(workspace(account_id, region, workspace_id))["modifications"])


def actions(account_id: str, region: str, workspace_id: str) -> list[str]:
    """The state-changing batch calls (RebootWorkspaces, StopWorkspaces, TerminateWorkspaces...)
    the WorkSpace accepted, in order."""
    return list(_sim(workspace(account_id, region, workspace_id))["actions"])


def set_connection(
    account_id: str, region: str, workspace_id: str, state: str, last: datetime | None = None
) -> None:
    sim = _sim(workspace(account_id, region, workspace_id))
    sim["connection_state"], sim["last_connection"] = state, last


def finish_terminations(account_id: str, region: str) -> list[str]:
    """What AWS does some minutes after TerminateWorkspaces: TERMINATING WorkSpaces are gone
    (TERMINATED is "returned only briefly"). The ids removed."""
    backend = workspaces_backends[account_id][region]
    gone = [w for w, ws in backend.workspaces.items() if ws.state == "TERMINATING"]
    for workspace_id in gone:
        backend.workspaces.pop(workspace_id)
    return gone


def add_snapshot(account_id: str, region: str, workspace_id: str, kind: str, at: datetime) -> None:
    _sim(workspace(account_id, region, workspace_id))[f"{kind}_snapshots"].append(at)


def share_hourly_series(
    account_id: str,
    region: str,
    namespace: str,
    metric: str,
    dimensions: list[dict[str, str]],
    series: tuple[list[datetime], list[float]],
) -> None:
    """Like put_hourly_series, for a series (times, values) that many WorkSpaces share."""
    metric_index(account_id, region).share(metric_key(namespace, metric, dimensions), series)


def put_hourly_series(
    account_id: str,
    region: str,
    namespace: str,
    metric: str,
    dimensions: list[dict[str, str]],
    points: Iterable[tuple[datetime, float]],
) -> None:
    """Store datapoints straight into the metric index (seeding a large fleet quickly)."""
    metric_index(account_id, region).add(metric_key(namespace, metric, dimensions), points)
