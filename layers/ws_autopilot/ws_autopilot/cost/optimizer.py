"""Optimizing one directory: read pages of WorkSpaces, read their usage in batches, decide,
recall the conversion ledger, then carry the decisions out. Works until the caller's time runs
short and returns where to continue, so a directory of any size completes over several
invocations.

Every WorkSpace of one run is judged as of the run's day (the UTC day its execution started),
whatever the clock says when its batch comes; `now` is read from `clock` per batch."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Protocol

from aws_lambda_powertools import Logger

from ws_autopilot.aws.fleet import WorkspacePage, WorkspacesFleet
from ws_autopilot.aws.tags import WorkspaceTags
from ws_autopilot.aws.usage import UsageMetrics, batch_size
from ws_autopilot.core.calendar import evaluation_window
from ws_autopilot.core.claims import LedgerStatus, ledger_month
from ws_autopilot.core.errors import AwsCallFailed, InvalidWorkspaceRecord
from ws_autopilot.core.models import RunningMode, Tags, TagsUnavailable, Target, Usage, Workspace
from ws_autopilot.core.opt_out import find_opt_out_tag
from ws_autopilot.cost.converter import ACTING, Batch, Converter
from ws_autopilot.cost.costing import BatchCosting, Costing
from ws_autopilot.cost.ledger import LedgerEntry, Recall, RecallStep, recall
from ws_autopilot.cost.ledger_store import ConversionLedger
from ws_autopilot.cost.models import Action, Decision, ReportRow
from ws_autopilot.cost.price_list import PriceList
from ws_autopilot.cost.pricing import BundlePrices
from ws_autopilot.cost.report_store import ReportStore
from ws_autopilot.cost.rules import (
    SKIP_CONVERT_TAG,
    Threshold,
    apply_opt_out,
    evaluate,
    hours_with_nobody_connected,
    opt_out_value_looks_negative,
)
from ws_autopilot.cost.settings import OptimizerSettings

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
    late: int = 0  # month-end resets made once the next month had begun
    tags_fell_back: bool = False  # the tagging API was denied: tags came from DescribeTags


class BatchReview(Protocol):
    """Another capability's look at each batch of the daily pass (the unused check, the
    WorkSpace-to-user map): it sees the batch's WorkSpaces, their usage and the rows decided for
    them, and returns the rows, filled in or as they were. A review contains its own faults: one
    that fails never costs the batch its rows."""

    def review(
        self, rows: list[ReportRow], workspaces: list[Workspace], usage: dict[str, Usage], batch: Batch
    ) -> list[ReportRow]: ...

    def metrics(self) -> Mapping[str, int]:
        """What the review counted so far, by metric name, for the handler to publish."""
        ...


class DirectoryOptimizer:
    """Carries out the billing rules for the WorkSpaces of one directory."""

    def __init__(
        self,
        settings: OptimizerSettings,
        fleet: WorkspacesFleet,
        usage: UsageMetrics,
        store: ReportStore,
        ledger: ConversionLedger,
        tags: WorkspaceTags,
        target: Target,
        clock: Callable[[], datetime],
        prices: PriceList | None = None,
        reviews: Sequence[BatchReview] = (),
    ) -> None:
        self.settings = settings
        self.target = target
        self.fleet = fleet
        self.usage = usage
        self.store = store
        self.ledger = ledger
        self.tags = tags
        self.clock = clock
        self.reviews = reviews  # in order, after the billing decisions of each batch
        self.converter = Converter(
            fleet, ledger, target, clock, settings.dry_run, settings.auto_stop_timeout_minutes
        )
        self.costing = Costing(settings, tags, prices, target)

    def run(
        self,
        run_id: str,
        run_day: date,
        directory_id: str,
        time_left: Callable[[], bool],
        start: Continuation | None = None,
    ) -> DirectoryProgress:
        """Optimize `directory_id` from `start` until done or until `time_left()` is False.

        Progress is saved after every batch (one report part per batch), so an invocation that
        dies is retried from its `start` without losing or doubling a WorkSpace, and the ledger
        keeps the retried batch from changing a WorkSpace twice. Raises AwsCallFailed when a page
        cannot be listed even after botocore's retries.
        """
        position = start or Continuation()
        per_batch = batch_size(evaluation_window(self.clock(), run_day).hours)
        progress = DirectoryProgress(directory_id, done=False, continuation=position)
        while True:
            listed_at = self.clock()
            pages = self._read_batch(directory_id, position.next_token, per_batch)
            workspaces = [ws for page in pages for ws in page.workspaces]
            now = self.clock()
            usage = self.usage.hourly_connected(
                [ws.workspace_id for ws in workspaces], evaluation_window(now, run_day)
            )
            batch = Batch(run_id, run_day, listed_at, now, self._entries(workspaces, run_day))
            rows: list[ReportRow] = []
            for page in pages:
                rows.extend(self._invalid_row(exc, directory_id, now) for exc in page.invalid)
            rows.extend(self._judge(workspaces, usage, batch))
            for reviewer in self.reviews:
                rows = reviewer.review(rows, workspaces, usage, batch)
            self.store.write_part(run_id, self.target, directory_id, position.sequence, rows)
            progress.counts.update(row.action.value for row in rows)
            progress.late += sum(1 for row in rows if row.late)
            if self.tags.fell_back and not progress.tags_fell_back:
                self._note_tags_fallback(run_id, directory_id)
            progress.tags_fell_back = self.tags.fell_back
            next_token = pages[-1].next_token
            position = Continuation(next_token, position.sequence + 1)
            progress.continuation = position
            if next_token is None:
                progress.done = True
                progress.continuation = None
                return progress
            if not time_left():
                return progress

    def _note_tags_fallback(self, run_id: str, directory_id: str) -> None:
        """Tell the run's summary that this directory's tags cost a WorkSpaces call each."""
        logger.warning("tag:GetResources denied: tags read with DescribeTags, one call per conversion")
        self.store.write_note(
            run_id,
            self.target,
            directory_id,
            "tags-fallback",
            f"{self.target}/{directory_id}: tag:GetResources was denied, so tags were read"
            " with DescribeTags, one WorkSpaces API call per conversion, and an Autopilot_Threshold"
            " tag could only hold a conversion back (allow tag:GetResources)",
        )

    def _read_batch(self, directory_id: str, token: str | None, per_batch: int) -> list[WorkspacePage]:
        pages: list[WorkspacePage] = []
        count = 0
        for page in self.fleet.pages(directory_id, token):
            pages.append(page)
            count += len(page.workspaces) + len(page.invalid)
            if count >= per_batch:
                break
        return pages

    def _entries(self, workspaces: list[Workspace], run_day: date) -> dict[str, LedgerEntry] | None:
        try:
            return self.ledger.entries(
                self.target, [ws.workspace_id for ws in workspaces], ledger_month(run_day)
            )
        except AwsCallFailed as exc:
            logger.warning("conversion ledger unreadable", extra={"error": str(exc)})
            return None

    def _judge(self, workspaces: list[Workspace], usage: dict[str, Usage], batch: Batch) -> list[ReportRow]:
        """Decide for every WorkSpace of the batch by its own threshold (tags and prices read
        for the whole batch at once), then carry the changes out."""
        costing = self.costing.prepare(workspaces, batch.run_day)
        recalled: dict[str, Recall] = {}
        for ws in workspaces:
            recalled[ws.workspace_id] = self._judge_one(ws, usage[ws.workspace_id], batch, costing)
        acting = [ws for ws in workspaces if recalled[ws.workspace_id].step in ACTING]
        for ws in self.costing.read_tags(costing, acting):  # their own tags give another threshold
            recalled[ws.workspace_id] = self._judge_one(ws, usage[ws.workspace_id], batch, costing)
        rows = []
        for ws in workspaces:
            try:
                decision, mode_after = self._act(
                    ws, recalled[ws.workspace_id], costing.tags.get(ws.workspace_id, {}), batch
                )
            except Exception as exc:
                decision, mode_after = _internal_error(ws, exc), ws.running_mode
            entry = (batch.entries or {}).get(ws.workspace_id)
            reset = entry is not None and entry.to_mode == RunningMode.AUTO_STOP
            try:  # report only: a fault here loses the figure, never the row of a change made
                unattended = hours_with_nobody_connected(
                    ws, usage[ws.workspace_id], batch.now, batch.run_day, reset_this_month=reset
                )
            except Exception:
                logger.exception(
                    "hours with nobody connected not counted", extra={"workspace_id": ws.workspace_id}
                )
                unattended = None
            row = self._row(ws, decision, mode_after, batch.now, unattended)
            rows.append(self.costing.priced_row(costing, row, ws, decision, entry, batch.now, batch.run_day))
        return rows

    def _judge_one(self, workspace: Workspace, usage: Usage, batch: Batch, costing: BatchCosting) -> Recall:
        try:
            chosen = self.costing.threshold(costing, workspace)
            return self._decide(workspace, usage, batch, chosen, self.costing.prices_of(costing, workspace))
        except Exception as exc:
            return Recall(_internal_error(workspace, exc), RecallStep.NOTHING)

    def _decide(
        self, workspace: Workspace, usage: Usage, batch: Batch, chosen: Threshold, prices: BundlePrices | None
    ) -> Recall:
        entry = (batch.entries or {}).get(workspace.workspace_id)
        always_on_since = None  # when this month's switch to ALWAYS_ON by the product was made
        if entry is not None and entry.status is LedgerStatus.DONE and entry.to_mode == RunningMode.ALWAYS_ON:
            always_on_since = entry.done_at or entry.claimed_at
        decision = evaluate(
            workspace,
            usage,
            self.settings.thresholds,
            batch.now,
            run_day=batch.run_day,
            conversion_timeout_minutes=self.settings.auto_stop_timeout_minutes,
            chosen=chosen,
            always_on_since=always_on_since,
            prices=prices,
            timing=self.settings.conversion_timing,
            no_hibernation=self.settings.no_hibernation,
        )
        if batch.entries is None:
            if decision.action.is_conversion:
                decision = Decision(
                    Action.ERROR,
                    "conversion ledger unreadable; not converted",
                    decision.billable_hours,
                    decision.threshold,
                    "LedgerUnavailable",
                )
            return Recall(decision, RecallStep.NOTHING)
        return recall(
            decision,
            workspace,
            batch.entries.get(workspace.workspace_id),
            batch.run_id,
            batch.now,
            batch.listed_at,
        )

    def _act(
        self, workspace: Workspace, remembered: Recall, tags: Tags, batch: Batch
    ) -> tuple[Decision, str]:
        if remembered.step in ACTING:
            checked = self._opt_out(workspace, remembered.decision, tags)
            if not checked.action.is_conversion:
                remembered = replace(remembered, decision=checked, step=RecallStep.NOTHING)
        return self.converter.carry_out(workspace, remembered, batch)

    def _opt_out(self, workspace: Workspace, decision: Decision, tags: Tags) -> Decision:
        found = None if isinstance(tags, TagsUnavailable) else find_opt_out_tag(tags, SKIP_CONVERT_TAG)
        if found and opt_out_value_looks_negative(found[1]):
            logger.warning(
                "Skip_Convert tag value reads as 'no' but still opts the WorkSpace out",
                extra={"workspace_id": workspace.workspace_id, "tag_key": found[0], "tag_value": found[1]},
            )
        return apply_opt_out(decision, tags)

    def _row(
        self, ws: Workspace, decision: Decision, mode_after: str, now: datetime, unattended: int | None
    ) -> ReportRow:
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
            late=decision.late,
            workspace_role=ws.role,
            workspace_category=ws.category,
            unattended_hours=unattended,
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


def _internal_error(workspace: Workspace, exc: Exception) -> Decision:
    # The one place where an unexpected fault in one WorkSpace is contained: it becomes an error
    # row and the rest of the run goes on.
    logger.exception("WorkSpace could not be processed", extra={"workspace_id": workspace.workspace_id})
    return Decision(Action.ERROR, f"internal error: {exc}", error_code=type(exc).__name__)
