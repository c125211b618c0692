"""Optimizing one directory: read pages of WorkSpaces, read their usage in batches, decide,
then carry the decisions out. Works until the caller's time runs short and returns where to
continue, so a directory of any size completes over several invocations."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from aws_lambda_powertools import Logger

from ws_autopilot.adapters.fleet import WorkspacePage, WorkspacesFleet
from ws_autopilot.adapters.reports import ReportStore
from ws_autopilot.adapters.usage import UsageMetrics, batch_size
from ws_autopilot.billing import evaluation_window
from ws_autopilot.errors import InvalidWorkspaceRecord
from ws_autopilot.models import Action, Decision, ReportRow, TagsUnavailable, Target, Usage, Workspace
from ws_autopilot.rules import (
    SKIP_CONVERT_TAG,
    apply_opt_out,
    evaluate,
    find_opt_out_tag,
    opt_out_value_looks_negative,
)
from ws_autopilot.settings import OptimizerSettings

logger = Logger(child=True)


@dataclass(frozen=True, slots=True)
class Continuation:
    """Where a directory's optimization goes on: the DescribeWorkspaces token of the next page
    (None for the first page) and the sequence number of the next report part."""

    next_token: str | None = None
    sequence: int = 0


@dataclass(slots=True)
class DirectoryProgress:
    directory_id: str
    done: bool
    continuation: Continuation | None
    counts: Counter[str] = field(default_factory=Counter)


class DirectoryOptimizer:
    """Carries out the billing rules for the WorkSpaces of one directory."""

    def __init__(
        self,
        settings: OptimizerSettings,
        fleet: WorkspacesFleet,
        usage: UsageMetrics,
        store: ReportStore,
        target: Target,
    ) -> None:
        self.settings = settings
        self.target = target
        self.fleet = fleet
        self.usage = usage
        self.store = store

    def run(
        self,
        run_id: str,
        directory_id: str,
        now: datetime,
        time_left: Callable[[], bool],
        start: Continuation | None = None,
    ) -> DirectoryProgress:
        """Optimize `directory_id` from `start` until done or until `time_left()` is False.

        Progress is saved after every batch (one report part per batch), so an invocation that
        dies is retried from its `start` without losing or doubling a WorkSpace. Raises
        AwsCallFailed when a page cannot be listed even after botocore's retries.
        """
        position = start or Continuation()
        window = evaluation_window(now)
        per_batch = batch_size(window.hours)
        progress = DirectoryProgress(directory_id, done=False, continuation=position)
        while True:
            pages = self._read_batch(directory_id, position.next_token, per_batch)
            usage = self.usage.hourly_connected(
                [ws.workspace_id for page in pages for ws in page.workspaces], window
            )
            rows: list[ReportRow] = []
            for page in pages:
                rows.extend(self._invalid_row(exc, directory_id, now) for exc in page.invalid)
                rows.extend(self._process(ws, usage[ws.workspace_id], now) for ws in page.workspaces)
            self.store.write_part(run_id, self.target, directory_id, position.sequence, rows)
            progress.counts.update(row.action.value for row in rows)
            next_token = pages[-1].next_token
            position = Continuation(next_token, position.sequence + 1)
            progress.continuation = position
            if next_token is None:
                progress.done = True
                progress.continuation = None
                return progress
            if not time_left():
                return progress

    def _read_batch(self, directory_id: str, token: str | None, per_batch: int) -> list[WorkspacePage]:
        pages: list[WorkspacePage] = []
        count = 0
        for page in self.fleet.pages(directory_id, token):
            pages.append(page)
            count += len(page.workspaces) + len(page.invalid)
            if count >= per_batch:
                break
        return pages

    def _process(self, workspace: Workspace, usage: Usage, now: datetime) -> ReportRow:
        # The one place where an unexpected fault in one WorkSpace is contained: it becomes an
        # error row and the rest of the run goes on.
        try:
            decision = self._decide(workspace, usage, now)
            decision, mode_after = self._carry_out(workspace, decision)
        except Exception as exc:
            logger.exception(
                "WorkSpace could not be processed", extra={"workspace_id": workspace.workspace_id}
            )
            decision = Decision(Action.ERROR, f"internal error: {exc}", error_code=type(exc).__name__)
            mode_after = workspace.running_mode
        return self._row(workspace, decision, mode_after, now)

    def _decide(self, workspace: Workspace, usage: Usage, now: datetime) -> Decision:
        decision = evaluate(workspace, usage, self.settings.thresholds, now)
        if not decision.action.is_conversion:
            return decision
        tags = self.fleet.tags(workspace.workspace_id)
        found = None if isinstance(tags, TagsUnavailable) else find_opt_out_tag(tags, SKIP_CONVERT_TAG)
        if found and opt_out_value_looks_negative(found[1]):
            logger.warning(
                "Skip_Convert tag value reads as 'no' but still opts the WorkSpace out",
                extra={"workspace_id": workspace.workspace_id, "tag_key": found[0], "tag_value": found[1]},
            )
        return apply_opt_out(decision, tags)

    def _carry_out(self, workspace: Workspace, decision: Decision) -> tuple[Decision, str]:
        """Make the change a conversion asks for. Dry run is decided here and nowhere else."""
        if not decision.action.is_conversion or self.settings.dry_run:
            return decision, workspace.running_mode
        target = decision.action.target_mode
        result = self.fleet.set_running_mode(workspace.workspace_id, target)
        if not result.ok:
            logger.warning(
                "running mode change refused",
                extra={"workspace_id": workspace.workspace_id, "error_code": result.error_code},
            )
            refused = Decision(
                Action.ERROR,
                f"ModifyWorkspaceProperties to {target.value} refused: {result.error_code}",
                decision.billable_hours,
                decision.threshold,
                result.error_code,
            )
            return refused, workspace.running_mode
        logger.info(
            "running mode changed",
            extra={"workspace_id": workspace.workspace_id, "to": target.value, "reason": decision.reason},
        )
        return decision, target.value

    def _row(self, ws: Workspace, decision: Decision, mode_after: str, now: datetime) -> ReportRow:
        return ReportRow(
            account_id=self.target.account_id,
            region=self.target.region,
            workspace_id=ws.workspace_id,
            directory_id=ws.directory_id,
            user_name=ws.user_name,
            compute_type=ws.compute_type,
            state=ws.state,
            running_mode_before=ws.running_mode,
            running_mode_after=mode_after,
            billable_hours=decision.billable_hours,
            threshold=decision.threshold,
            action=decision.action,
            reason=decision.reason,
            dry_run=self.settings.dry_run,
            error_code=decision.error_code,
            evaluated_at=now.isoformat(),
        )

    def _invalid_row(self, exc: InvalidWorkspaceRecord, directory_id: str, now: datetime) -> ReportRow:
        return ReportRow.error(
            self.target,
            exc.workspace_id,
            directory_id,
            str(exc),
            "InvalidWorkspaceRecord",
            self.settings.dry_run,
            now.isoformat(),
        )
