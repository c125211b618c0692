"""Unused WorkSpaces in the daily run (the policy is unused/policy.py). After the optimizer has judged a
batch, `UnusedReview` takes its WorkSpaces with no connection this month, has `EvidenceReader`
read what else is known about their connections (cheap sources first, the WorkSpaces API only
for what they leave open), fills the rows' `last_connection` and `unused_action`, and hands the
unused ones to `UnusedActor` (unused/actor.py), which acts only on a month's last day.

The split keeps the WorkSpaces API budget visible: the reader is the only place that calls
DescribeWorkspacesConnectionStatus, the actor the only one that stops or terminates.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import datetime, timedelta

from aws_lambda_powertools import Logger

from ws_autopilot.aws.usage import UsageMetrics
from ws_autopilot.core.calendar import evaluation_window
from ws_autopilot.core.errors import AwsCallFailed
from ws_autopilot.core.models import MetricsUnavailable, Target, Usage, Workspace
from ws_autopilot.cost.converter import Batch
from ws_autopilot.cost.models import ReportRow
from ws_autopilot.logins.store import LoginStore
from ws_autopilot.unused.actor import UnusedActor
from ws_autopilot.unused.api import UnusedWorkspacesApi
from ws_autopilot.unused.policy import (
    Evidence,
    Judgement,
    Sighting,
    Verdict,
    history_sighting,
    is_candidate,
    iso,
    judge,
    login_sighting,
    window_start,
)
from ws_autopilot.unused.settings import UnusedSettings

logger = Logger(child=True)
DAY = timedelta(days=1)


class EvidenceReader:
    """What is known about the connections of candidate WorkSpaces."""

    def __init__(
        self, usage: UsageMetrics, logins: LoginStore, api: UnusedWorkspacesApi, target: Target
    ) -> None:
        self.usage = usage
        self.target = target
        self.logins = logins
        self.api = api
        self.status_lookups = 0  # WorkSpaces whose connection status was asked for

    def read(self, workspace_ids: list[str], start: datetime, month_start: datetime) -> dict[str, Evidence]:
        """Evidence for each WorkSpace: the daily UserConnected series from the day before its
        window to this month, its latest login, and, for those these do not show in use since
        `start`, its connection status. Never raises for AWS errors: a source that fails is
        named in the evidence."""
        evidence = {w: Evidence() for w in workspace_ids}
        history = self.usage.daily_connected(workspace_ids, start - DAY, month_start)
        for workspace_id, series in history.items():
            if isinstance(series, MetricsUnavailable):
                evidence[workspace_id].unreadable.append(
                    f"UserConnected history unreadable ({series.reason})"
                )
            else:
                evidence[workspace_id].sightings.append(history_sighting(series))
        self._read_logins(evidence)
        open_ids = [w for w, known in evidence.items() if not known.used_since(start)]
        if open_ids:
            self._read_statuses(open_ids, evidence)
        return evidence

    def _read_logins(self, evidence: dict[str, Evidence]) -> None:
        try:
            times = self.logins.last_login_times(self.target, list(evidence))
        except AwsCallFailed as exc:
            for known in evidence.values():
                known.unreadable.append(f"login records unreadable ({exc.error_code})")
            return
        for workspace_id, login_time in times.items():
            try:
                evidence[workspace_id].sightings.append(login_sighting(login_time))
            except ValueError:
                evidence[workspace_id].unreadable.append(f"login record time unreadable ({login_time!r})")

    def _read_statuses(self, workspace_ids: list[str], evidence: dict[str, Evidence]) -> None:
        self.status_lookups += len(workspace_ids)
        try:
            statuses = self.api.connection_statuses(workspace_ids)
        except AwsCallFailed as exc:
            for workspace_id in workspace_ids:
                evidence[workspace_id].unreadable.append(f"connection status unreadable ({exc.error_code})")
            return
        for workspace_id in workspace_ids:
            status = statuses.get(workspace_id)
            if status is None:
                evidence[workspace_id].unreadable.append("no connection status returned")
                continue
            evidence[workspace_id].connected_now = status.state == "CONNECTED"
            evidence[workspace_id].sightings.append(
                Sighting("connection status", status.last_connection, status.last_connection)
            )


METRICS = {  # unused_action's first word -> the metric the daily function publishes
    "reported": "UnusedReported",
    "stopped": "UnusedStopped",
    "terminated": "UnusedTerminated",
    "would": "UnusedActionsDryRun",
    "held": "UnusedHeld",
    "failed": "UnusedActionsFailed",
    "unknown": "UnusedUnknown",
}


class UnusedReview:
    """Reports and settles the unused WorkSpaces of each batch of one account and region."""

    def __init__(self, settings: UnusedSettings, reader: EvidenceReader, actor: UnusedActor) -> None:
        self.settings = settings
        self.reader = reader
        self.actor = actor
        self.counts: Counter[str] = Counter()  # unused_action's first word, for the run's metrics

    def metrics(self) -> dict[str, int]:
        """Each unused outcome counted so far in this invocation, zeros included."""
        return {name: self.counts[word] for word, name in METRICS.items()}

    def review(
        self, rows: list[ReportRow], workspaces: list[Workspace], usage: dict[str, Usage], batch: Batch
    ) -> list[ReportRow]:
        """The batch's rows with `last_connection` and `unused_action` filled for its WorkSpaces
        with no connection this month. One fault here never costs the batch its rows: it makes
        those WorkSpaces `unknown` and is logged."""
        candidates = [
            ws for ws in workspaces if is_candidate(ws, usage.get(ws.workspace_id, MetricsUnavailable("")))
        ]
        if not candidates:
            return rows
        try:
            found = self._settle(candidates, rows, batch)
        except Exception as exc:  # the one place a fault of the unused check is contained
            logger.exception("unused check failed for a batch")
            found = {
                ws.workspace_id: ("", f"unknown: internal error ({type(exc).__name__})") for ws in candidates
            }
        self.counts.update(text.split(":")[0].split(" ")[0] for _, text in found.values() if text)
        return [
            replace(row, last_connection=found[row.workspace_id][0], unused_action=found[row.workspace_id][1])
            if row.workspace_id in found
            else row
            for row in rows
        ]

    def _settle(
        self, candidates: list[Workspace], rows: list[ReportRow], batch: Batch
    ) -> dict[str, tuple[str, str]]:
        start = window_start(batch.run_day, self.settings.months)
        month_start = evaluation_window(batch.now, batch.run_day).start
        ids = [ws.workspace_id for ws in candidates]
        evidence = self.reader.read(ids, start, month_start)
        judged: dict[str, Judgement] = {w: judge(evidence[w], start) for w in ids}
        modes_after = {row.workspace_id: row.running_mode_after for row in rows}
        unused = [ws for ws in candidates if judged[ws.workspace_id].verdict is Verdict.UNUSED]
        texts = self.actor.settle(unused, judged, modes_after, start, batch) if unused else {}
        return {
            w: (iso(judgement.last_connection), texts.get(w) or _unknown(judgement))
            for w, judgement in judged.items()
        }


def _unknown(judgement: Judgement) -> str:
    return f"unknown: {judgement.reason}" if judgement.verdict is Verdict.UNKNOWN else ""
