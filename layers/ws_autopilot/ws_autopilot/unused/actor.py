"""Settling unused WorkSpaces: report them, or on a month's last day stop or terminate them.

Each action is taken from the run's cap first, claimed in the ledger (`UNUSED#<month>`), made
(StopWorkspaces or TerminateWorkspaces, 25 per call), then marked done and announced on the
alert topic; a refused one releases its claim and is announced as failed. So retried batches,
second runs and overlapping runs act on a WorkSpace at most once a month, and a run never acts
on more than `MaxUnusedActionsPerRun`. Dry run is decided here and nowhere else: the cap is
counted as it would be, nothing is claimed, made or announced.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from aws_lambda_powertools import Logger

from ws_autopilot.aws.notifications import Notifier
from ws_autopilot.aws.tags import WorkspaceTags
from ws_autopilot.core.claims import LedgerStatus, ledger_month
from ws_autopilot.core.errors import AwsCallFailed
from ws_autopilot.core.models import AlertMessage, Target, Workspace
from ws_autopilot.cost.converter import Batch
from ws_autopilot.unused.alerts import action_failed_alert, action_made_alert
from ws_autopilot.unused.api import UnusedWorkspacesApi
from ws_autopilot.unused.ledger_store import UnusedLedger
from ws_autopilot.unused.policy import (
    ActionEntry,
    Judgement,
    Memory,
    UnusedPlan,
    UnusedPolicy,
    UnusedStep,
    check_tags,
    dry_run_text,
    plan,
    recall_action,
    report_text,
)
from ws_autopilot.unused.settings import UnusedSettings

logger = Logger(child=True)


@dataclass(slots=True)
class _Pending:
    """An unused WorkSpace on its way to being acted on."""

    workspace: Workspace
    judgement: Judgement
    memory: Memory
    entry: ActionEntry | None  # this month's ledger entry, when there is one
    policy: UnusedPolicy


class UnusedActor:
    """Decides, for the unused WorkSpaces of a batch, which are acted on now: the plan, the
    ledger's memory, the tags, the run's cap, dry run and the claim; ActionMaker does the rest."""

    def __init__(
        self,
        settings: UnusedSettings,
        api: UnusedWorkspacesApi,
        ledger: UnusedLedger,
        tags: WorkspaceTags,
        notifier: Notifier,
        target: Target,
        clock: Callable[[], datetime],
    ) -> None:
        self.settings = settings
        self.ledger = ledger
        self.tags = tags
        self.target = target
        self.clock = clock
        self.maker = ActionMaker(api, ledger, notifier, target, clock, settings.months)

    def settle(
        self,
        unused: list[Workspace],
        judged: Mapping[str, Judgement],
        modes_after: Mapping[str, str],
        start: datetime,
        batch: Batch,
    ) -> dict[str, str]:
        """The report's unused_action of each unused WorkSpace, after acting where the policy,
        the day, the guards, the ledger and the cap allow."""
        texts: dict[str, str] = {}
        plans = {
            ws.workspace_id: plan(
                ws,
                judged[ws.workspace_id],
                self.settings.policy,
                self.settings.terminate_confirmed,
                batch.run_day,
                start,
                modes_after.get(ws.workspace_id, ws.running_mode),
            )
            for ws in unused
        }
        if all(p.step is UnusedStep.REPORT for p in plans.values()):
            return {w: report_text(judged[w], p) for w, p in plans.items()}
        month = ledger_month(batch.run_day)
        try:
            entries = self.ledger.entries(self.target, plans, month)
        except AwsCallFailed as exc:
            return {w: f"held: ledger unreadable ({exc.error_code})" for w in plans}
        pending: list[_Pending] = []
        for ws in unused:
            w, entry = ws.workspace_id, entries.get(ws.workspace_id)
            recalled = recall_action(entry, ws, batch.run_id, batch.now)
            if recalled.text:
                texts[w] = recalled.text
            elif recalled.memory is Memory.COMPLETE and entry is not None:
                texts[w] = self.maker.finish(ws, entry, judged[w], start)
            elif plans[w].step is not UnusedStep.ACT:
                if recalled.memory is Memory.RESUME and entry is not None:
                    self.maker.settle_claim(self.ledger.release, entry)
                texts[w] = report_text(judged[w], plans[w])
            else:
                policy = entry.policy if recalled.memory is Memory.RESUME and entry else plans[w].policy
                pending.append(_Pending(ws, judged[w], recalled.memory, entry, policy))
        texts.update(self._guarded(pending, batch, month, start))
        return texts

    def _guarded(self, pending: list[_Pending], batch: Batch, month: str, start: datetime) -> dict[str, str]:
        """Tags, the cap, dry run and the ledger claim; then the actions themselves."""
        texts: dict[str, str] = {}
        tags = self.tags.tags([p.workspace.workspace_id for p in pending]) if pending else {}
        claimed: list[tuple[_Pending, ActionEntry]] = []
        for item in pending:
            w = item.workspace.workspace_id
            checked = check_tags(UnusedPlan(UnusedStep.ACT, item.policy), tags.get(w, {}))
            if checked.step is not UnusedStep.ACT:
                texts[w] = report_text(item.judgement, checked)
                continue
            refused = self._slot(batch.run_id, w)
            if refused:
                texts[w] = refused
                continue
            if self.settings.dry_run:
                texts[w] = dry_run_text(item.policy)
                continue
            entry = ActionEntry(
                workspace_id=w,
                directory_id=item.workspace.directory_id,
                month=month,
                policy=item.policy,
                run_id=batch.run_id,
                status=LedgerStatus.CLAIMED,
                claimed_at=self.clock(),
                last_connection=item.judgement.last_connection,
            )
            lost = self._claim(item, entry)
            if lost:
                texts[w] = lost
            else:
                claimed.append((item, entry))
        for policy in UnusedPolicy:
            group = [(i, e) for i, e in claimed if i.policy is policy]
            if group:
                texts.update(self.maker.act(policy, group, start))
        return texts

    def _slot(self, run_id: str, workspace_id: str) -> str:
        """ "" when the run's cap leaves this WorkSpace an action, else the report's text."""
        cap = self.settings.max_actions_per_run
        try:
            if self.ledger.take_slot(run_id, self.target, workspace_id, cap, self.clock()):
                return ""
        except AwsCallFailed as exc:
            return f"held: the run's action count unreadable ({exc.error_code})"
        return f"held: at most {cap} per run (MaxUnusedActionsPerRun)"

    def _claim(self, item: _Pending, entry: ActionEntry) -> str:
        """ "" when this run may act, else the report's text."""
        try:
            if item.memory is Memory.RESUME:
                return ""
            if item.memory is Memory.TAKE_OVER and item.entry is not None:
                won = self.ledger.take_over(self.target, entry, item.entry)
            else:
                won = self.ledger.claim(self.target, entry)
        except AwsCallFailed as exc:
            return f"held: ledger write failed ({exc.error_code})"
        return "" if won else "held: claimed by another run"


class ActionMaker:
    """Makes claimed actions: one StopWorkspaces or TerminateWorkspaces call per 25, then each
    claim marked done or released, and each outcome announced on the alert topic."""

    def __init__(
        self,
        api: UnusedWorkspacesApi,
        ledger: UnusedLedger,
        notifier: Notifier,
        target: Target,
        clock: Callable[[], datetime],
        months: int,
    ) -> None:
        self.api = api
        self.ledger = ledger
        self.notifier = notifier
        self.target = target
        self.clock = clock
        self.months = months

    def act(
        self, policy: UnusedPolicy, group: list[tuple[_Pending, ActionEntry]], start: datetime
    ) -> dict[str, str]:
        """Stop or terminate the claimed WorkSpaces; the report's text of each."""
        failed = self.api.act(policy, [item.workspace.workspace_id for item, _ in group])
        texts: dict[str, str] = {}
        for item, entry in group:
            refusal = failed.get(item.workspace.workspace_id)
            if refusal is None:
                texts[entry.workspace_id] = self.finish(item.workspace, entry, item.judgement, start)
                continue
            logger.warning(
                "unused WorkSpace not changed",
                extra={
                    "workspace_id": entry.workspace_id,
                    "action": policy.value,
                    "error": refusal.error_code,
                },
            )
            self.settle_claim(self.ledger.release, entry)
            self._announce(
                item.workspace.workspace_id,
                action_failed_alert(
                    policy, entry, refusal, item.workspace, item.judgement, self.target, start, self.months
                ),
            )
            texts[entry.workspace_id] = f"failed: {refusal.error_code}"
        return texts

    def finish(self, workspace: Workspace, entry: ActionEntry, judgement: Judgement, start: datetime) -> str:
        """Record a made action done and announce it; the report's text."""
        done_at = self.clock()
        self.settle_claim(lambda target, claimed: self.ledger.complete(target, claimed, done_at), entry)
        logger.info(
            "unused WorkSpace changed",
            extra={"workspace_id": entry.workspace_id, "action": entry.policy.value},
        )
        self._announce(
            workspace.workspace_id,
            action_made_alert(entry, done_at, workspace, judgement, self.target, start, self.months),
        )
        return entry.policy.done

    def settle_claim(self, write: Callable[[Target, ActionEntry], bool], entry: ActionEntry) -> None:
        """Complete or release a claim. A failure is logged, not raised: the action itself was
        made (or refused) already, and the WorkSpace's state tells later runs the truth."""
        try:
            if not write(self.target, entry):
                logger.warning(
                    "unused ledger entry changed by another run", extra={"workspace_id": entry.workspace_id}
                )
        except AwsCallFailed as exc:
            logger.warning(
                "unused ledger not updated", extra={"workspace_id": entry.workspace_id, "error": str(exc)}
            )

    def _announce(self, workspace_id: str, message: AlertMessage) -> None:
        try:
            self.notifier.send(message)
        except AwsCallFailed as exc:
            logger.warning(
                "unused WorkSpace not announced",
                extra={"workspace_id": workspace_id, "error": str(exc)},
            )
