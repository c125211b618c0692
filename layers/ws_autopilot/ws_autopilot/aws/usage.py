"""Hourly `UserConnected` usage from CloudWatch, many WorkSpaces per GetMetricData call."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ws_autopilot.aws.clients import client, error_code
from ws_autopilot.core.calendar import Window
from ws_autopilot.core.models import DailyUsage, HourlyLoad, HourlyUsage, MetricsUnavailable, Usage

NAMESPACE = "AWS/WorkSpaces"
METRIC = "UserConnected"
MAX_QUERIES_PER_CALL = 500
MAX_DATAPOINTS_PER_CALL = 100_800
LOAD_METRICS = ("CPUUsage", "MemoryUsage")  # percent of the compute type's vCPUs and memory


def batch_size(window_hours: int, page_size: int = 25) -> int:
    """How many WorkSpaces to read in one GetMetricData call so that a month-to-date window
    fits in one response: at most 500 queries and 100,800 datapoints, in whole pages."""
    fits = MAX_DATAPOINTS_PER_CALL // max(window_hours, 1)
    size = min(MAX_QUERIES_PER_CALL, fits) // page_size * page_size
    return max(page_size, size)


def metric_query(
    query_id: str, metric: str, stat: str, period: int, workspace_id: str = "", directory_id: str = ""
) -> dict[str, Any]:
    """One GetMetricData MetricStat query of an AWS/WorkSpaces metric, by WorkSpace or directory."""
    dimension = {"Name": "WorkspaceId", "Value": workspace_id}
    if directory_id:
        dimension = {"Name": "DirectoryId", "Value": directory_id}
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {"Namespace": NAMESPACE, "MetricName": metric, "Dimensions": [dimension]},
            "Period": period,
            "Stat": stat,
        },
        "ReturnData": True,
    }


class UsageMetrics:
    def __init__(self, cloudwatch_client: Any | None = None) -> None:
        self._client = cloudwatch_client or client("cloudwatch")

    @staticmethod
    def queries(workspace_ids: Sequence[str]) -> list[dict[str, Any]]:
        """One MetricStat query per WorkSpace; query ids are positional (`m0`, `m1`, ...)."""
        return [
            metric_query(f"m{i}", METRIC, "Maximum", 3600, workspace_id=workspace_id)
            for i, workspace_id in enumerate(workspace_ids)
        ]

    def directories_reporting_unhealthy(
        self, directory_ids: Sequence[str], now: datetime, lookback: timedelta = timedelta(hours=1)
    ) -> set[str] | None:
        """Directories whose `Unhealthy` metric (5-minute Maximum) was above 0 in the last
        `lookback`; None when the metric could not be read (the caller then looks everywhere)."""
        if not directory_ids:
            return set()
        end = now.replace(second=0, microsecond=0)
        flagged: set[str] = set()
        for offset in range(0, len(directory_ids), MAX_QUERIES_PER_CALL):
            chunk = list(directory_ids[offset : offset + MAX_QUERIES_PER_CALL])
            queries = [
                metric_query(f"d{i}", "Unhealthy", "Maximum", 300, directory_id=directory_id)
                for i, directory_id in enumerate(chunk)
            ]
            try:
                response = self._client.get_metric_data(
                    MetricDataQueries=queries,
                    StartTime=end - lookback,
                    EndTime=end,
                    ScanBy="TimestampDescending",
                )
            except (ClientError, BotoCoreError):
                return None
            for result in response.get("MetricDataResults", []):
                if result.get("StatusCode", "Complete") not in ("Complete", "PartialData"):
                    return None
                if any(v > 0 for v in result.get("Values", [])):
                    flagged.add(chunk[int(result["Id"][1:])])
        return flagged

    def hourly_connected(self, workspace_ids: Sequence[str], window: Window) -> dict[str, Usage]:
        """Each WorkSpace's hourly UserConnected Maximum over `window`.

        A WorkSpace whose series could not be read fully gets MetricsUnavailable; the call
        never raises for AWS errors.
        """
        if window.hours == 0:
            return {workspace_id: HourlyUsage({}) for workspace_id in workspace_ids}
        usage: dict[str, Usage] = {}
        for offset in range(0, len(workspace_ids), MAX_QUERIES_PER_CALL):
            chunk = list(workspace_ids[offset : offset + MAX_QUERIES_PER_CALL])
            usage.update(self._read_chunk(chunk, window))
        return usage

    def _read_chunk(self, workspace_ids: list[str], window: Window) -> dict[str, Usage]:
        points: dict[str, dict[datetime, float]] = {f"m{i}": {} for i in range(len(workspace_ids))}
        failures: dict[str, str] = {}
        request: dict[str, Any] = {
            "MetricDataQueries": self.queries(workspace_ids),
            "StartTime": window.start,
            "EndTime": window.end,
            "ScanBy": "TimestampAscending",
        }
        try:
            while True:
                response = self._client.get_metric_data(**request)
                for result in response.get("MetricDataResults", []):
                    query_id = result["Id"]
                    status = result.get("StatusCode", "Complete")
                    if status not in ("Complete", "PartialData"):
                        messages = "; ".join(m.get("Value", "") for m in result.get("Messages", []))
                        failures[query_id] = f"GetMetricData status {status} {messages}".strip()
                    points.setdefault(query_id, {}).update(
                        zip(result.get("Timestamps", []), result.get("Values", []), strict=True)
                    )
                token = response.get("NextToken")
                if not token:
                    break
                request["NextToken"] = token
        except (ClientError, BotoCoreError) as exc:
            reason = f"GetMetricData failed: {error_code(exc)}"
            return {workspace_id: MetricsUnavailable(reason) for workspace_id in workspace_ids}

        return {
            workspace_id: (
                MetricsUnavailable(failures[f"m{i}"]) if f"m{i}" in failures else HourlyUsage(points[f"m{i}"])
            )
            for i, workspace_id in enumerate(workspace_ids)
        }

    def daily_connected(
        self, workspace_ids: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, DailyUsage | MetricsUnavailable]:
        """Each WorkSpace's daily UserConnected Maximum from `start` to `end` (both 00:00 UTC):
        the months before this one, for the unused check of WorkSpaces with no connection this
        month. As many WorkSpaces per call as fit in 100,800 datapoints; never raises for AWS
        errors."""
        days = max(1, int((end - start) / timedelta(days=1)))
        per_call = max(1, min(MAX_QUERIES_PER_CALL, MAX_DATAPOINTS_PER_CALL // days))
        found: dict[str, DailyUsage | MetricsUnavailable] = {}
        for offset in range(0, len(workspace_ids), per_call):
            chunk = list(workspace_ids[offset : offset + per_call])
            queries = self.queries(chunk)
            for query in queries:
                query["MetricStat"]["Period"] = 86_400
            try:
                series = self._series(queries, start, end)
            except (ClientError, BotoCoreError) as exc:
                reason = f"GetMetricData failed: {error_code(exc)}"
                found.update({workspace_id: MetricsUnavailable(reason) for workspace_id in chunk})
                continue
            for i, workspace_id in enumerate(chunk):
                result = series.get(f"m{i}")
                found[workspace_id] = (
                    result if isinstance(result, MetricsUnavailable) else DailyUsage(result or {})
                )
        return found

    def hourly_load(
        self, workspace_ids: Sequence[str], window: Window
    ) -> Iterator[dict[str, HourlyLoad | MetricsUnavailable]]:
        """Each WorkSpace's hourly CPUUsage and MemoryUsage Averages over `window` (right-sizing),
        one dict per GetMetricData call of `load_per_call` WorkSpaces: the caller reduces each
        before the next is read, so a batch's month of series is never held at once. A WorkSpace
        whose series could not be read fully gets MetricsUnavailable; never raises for AWS errors."""
        per_call = load_per_call(window.hours)
        for offset in range(0, len(workspace_ids), per_call):
            chunk = list(workspace_ids[offset : offset + per_call])
            if window.hours == 0:
                yield {workspace_id: HourlyLoad() for workspace_id in chunk}
                continue
            try:
                series = self._series(load_queries(chunk), window.start, window.end)
            except (ClientError, BotoCoreError) as exc:
                reason = f"GetMetricData failed: {error_code(exc)}"
                yield {workspace_id: MetricsUnavailable(reason) for workspace_id in chunk}
                continue
            found: dict[str, HourlyLoad | MetricsUnavailable] = {}
            for i, workspace_id in enumerate(chunk):
                cpu, memory = series.get(f"c{i}", {}), series.get(f"r{i}", {})
                if isinstance(cpu, MetricsUnavailable):
                    found[workspace_id] = cpu
                elif isinstance(memory, MetricsUnavailable):
                    found[workspace_id] = memory
                else:
                    found[workspace_id] = HourlyLoad(cpu, memory)
            yield found

    def _series(
        self, queries: list[dict[str, Any]], start: datetime, end: datetime
    ) -> dict[str, dict[datetime, float] | MetricsUnavailable]:
        """GetMetricData over every page: query id -> points, or why its data is incomplete."""
        out: dict[str, dict[datetime, float] | MetricsUnavailable] = {}
        request: dict[str, Any] = {
            "MetricDataQueries": queries,
            "StartTime": start,
            "EndTime": end,
            "ScanBy": "TimestampAscending",
        }
        while True:
            response = self._client.get_metric_data(**request)
            for result in response.get("MetricDataResults", []):
                status = result.get("StatusCode", "Complete")
                if status not in ("Complete", "PartialData"):
                    out[result["Id"]] = MetricsUnavailable(f"GetMetricData status {status}")
                    continue
                points = out.setdefault(result["Id"], {})
                if isinstance(points, dict):
                    points.update(zip(result.get("Timestamps", []), result.get("Values", []), strict=True))
            token = response.get("NextToken")
            if not token:
                return out
            request["NextToken"] = token


def load_per_call(window_hours: int) -> int:
    """How many WorkSpaces' CPUUsage and MemoryUsage (two queries each) one GetMetricData call
    reads over a window of `window_hours` hourly points: at most 250 (500 queries) and as many as
    fit in 100,800 datapoints; 67 for a whole 31-day month."""
    fits = MAX_DATAPOINTS_PER_CALL // (len(LOAD_METRICS) * max(window_hours, 1))
    return max(1, min(MAX_QUERIES_PER_CALL // len(LOAD_METRICS), fits))


def load_queries(workspace_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Hourly Average CPUUsage (`c0`, `c1`, ...) and MemoryUsage (`r0`, `r1`, ...) per WorkSpace:
    the hour's sustained load, which sizing is about (a minute's spike is not)."""
    return [
        metric_query(f"{prefix}{i}", metric, "Average", 3600, workspace_id=workspace_id)
        for i, workspace_id in enumerate(workspace_ids)
        for prefix, metric in zip("cr", LOAD_METRICS, strict=True)
    ]
