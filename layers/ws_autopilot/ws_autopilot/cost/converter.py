"""Making one conversion: claimed in the conversion ledger first, then the running-mode change,
then marked done (or the claim released when the API refuses the change). Two runs can never
both change one WorkSpace, whatever the interleaving of their batches. Dry run is decided here
and nowhere else."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime

from aws_lambda_powertools import Logger

from ws_autopilot.aws.fleet import WorkspacesFleet
from ws_autopilot.core.claims import LedgerStatus, ledger_month
from ws_autopilot.core.errors import AwsCallFailed
from ws_autopilot.core.models import Target, Workspace
from ws_autopilot.cost.ledger import LedgerEntry, Recall, RecallStep
from ws_autopilot.cost.ledger_store import ConversionLedger
from ws_autopilot.cost.models import Action, Decision
from ws_autopilot.cost.rules import mark_if_late

logger = Logger(child=True)

ACTING = frozenset(
    {RecallStep.CLAIM, RecallStep.RESUME, RecallStep.TAKE_OVER}
)  # the steps that change a WorkSpace


@dataclass(frozen=True, slots=True)
class Batch:
    """What one batch of WorkSpaces is judged with: the run, its day, when the batch was listed
    and evaluated, and this month's ledger entries of its WorkSpaces (None: unreadable)."""

    run_id: str
    run_day: date
    listed_at: datetime
    now: datetime
    entries: dict[str, LedgerEntry] | None


class Converter:
    """Carries out the decisions of one account and region's batches."""

    def __init__(
        self,
        fleet: WorkspacesFleet,
        ledger: ConversionLedger,
        target: Target,
        clock: Callable[[], datetime],
        dry_run: bool,
        auto_stop_timeout_minutes: int,
    ) -> None:
        self.fleet = fleet
        self.ledger = ledger
        self.target = target
        self.clock = clock
        self.dry_run = dry_run
        self.auto_stop_timeout_minutes = auto_stop_timeout_minutes

    def carry_out(self, workspace: Workspace, remembered: Recall, batch: Batch) -> tuple[Decision, str]:
        """Make the change a conversion asks for, claimed in the ledger first and marked done
        after. Dry run is decided here and nowhere else."""
        decision = remembered.decision
        if remembered.settles is not None and not self.dry_run:
            self._settle_unknown(remembered.settles, remembered.settled_made)
        if remembered.step is RecallStep.RECORDED:  # a retried batch: marked late as the change was
            made_at = remembered.made_at or batch.now
            return mark_if_late(
                decision, batch.run_day, made_at
            ), remembered.mode_after or workspace.running_mode
        if remembered.step is RecallStep.NOTHING or self.dry_run:
            return decision, workspace.running_mode
        target = decision.action.target_mode
        entry = LedgerEntry(
            workspace_id=workspace.workspace_id,
            directory_id=workspace.directory_id,
            month=ledger_month(batch.run_day),
            from_mode=workspace.running_mode,
            to_mode=target.value,
            run_id=batch.run_id,
            status=LedgerStatus.CLAIMED,
            claimed_at=self.clock(),
            reason=decision.reason,
            billable_hours=decision.billable_hours,
            threshold=decision.threshold,
        )
        try:
            claimed = self._claim(entry, remembered, batch)
        except AwsCallFailed as exc:
            logger.warning(
                "conversion not claimed in the ledger",
                extra={"workspace_id": workspace.workspace_id, "error": str(exc)},
            )
            failed = f"conversion ledger write failed ({exc.error_code}); not converted"
            return replace(decision, action=Action.ERROR, reason=failed, error_code=exc.error_code), (
                workspace.running_mode
            )
        if claimed is not None:
            return claimed, workspace.running_mode
        result = self.fleet.set_running_mode(workspace.workspace_id, target, self.auto_stop_timeout_minutes)
        if result.outcome_unknown:
            logger.warning(
                "running mode change of unknown outcome",
                extra={"workspace_id": workspace.workspace_id, "error_code": result.error_code},
            )
            self._settle(self.ledger.mark_unknown, entry)  # the claim stays: it may have been made
            unknown = Decision(
                Action.ERROR,
                f"ModifyWorkspaceProperties to {target.value}: outcome unknown, its response was lost"
                f" ({result.error_code}); the claim is kept and the next listing settles it",
                decision.billable_hours,
                decision.threshold,
                result.error_code,
            )
            return unknown, workspace.running_mode
        if not result.ok:
            logger.warning(
                "running mode change refused",
                extra={"workspace_id": workspace.workspace_id, "error_code": result.error_code},
            )
            self._settle(self.ledger.release, entry)
            refused = Decision(
                Action.ERROR,
                f"ModifyWorkspaceProperties to {target.value} refused: {result.error_code}",
                decision.billable_hours,
                decision.threshold,
                result.error_code,
            )
            return refused, workspace.running_mode
        done_at = self.clock()
        self._settle(lambda where, claimed: self.ledger.complete(where, claimed, done_at), entry)
        decision = mark_if_late(decision, batch.run_day, done_at)
        logger.info(
            "running mode changed",
            extra={"workspace_id": workspace.workspace_id, "to": target.value, "reason": decision.reason},
        )
        return decision, target.value

    def _settle_unknown(self, entry: LedgerEntry, made: bool) -> None:
        """Record what a listing showed of a change whose response was lost: done (when it was
        requested) or released, so that a later run may make it."""
        if made:
            self._settle(
                lambda where, unknown: self.ledger.complete(where, unknown, unknown.claimed_at), entry
            )
        else:
            self._settle(
                lambda where, unknown: self.ledger.release(where, unknown, LedgerStatus.UNKNOWN), entry
            )
        logger.info(
            "change of unknown outcome settled",
            extra={"workspace_id": entry.workspace_id, "made": made, "run_id": entry.run_id},
        )

    def _settle(self, write: Callable[[Target, LedgerEntry], bool], entry: LedgerEntry) -> None:
        """Complete or release a claim. A failure here is logged, not raised: the change itself
        was made (or refused) already, and a claim left open tells later runs the truth through
        the WorkSpace's running mode."""
        try:
            if not write(self.target, entry):
                logger.warning(
                    "ledger entry changed by another run", extra={"workspace_id": entry.workspace_id}
                )
        except AwsCallFailed as exc:
            logger.warning(
                "conversion ledger not updated", extra={"workspace_id": entry.workspace_id, "error": str(exc)}
            )

    def _claim(self, entry: LedgerEntry, remembered: Recall, batch: Batch) -> Decision | None:
        """Claim the conversion; None when this run may make it, else the decision to report
        (another run claimed it first). Raises AwsCallFailed."""
        if remembered.step is RecallStep.RESUME:
            return None
        stale = (batch.entries or {}).get(entry.workspace_id)
        if remembered.step is RecallStep.TAKE_OVER and stale is not None:
            won = self.ledger.take_over(self.target, entry, stale)
        else:
            won = self.ledger.claim(self.target, entry)
        if won:
            return None
        holder = self.ledger.entry(self.target, entry.workspace_id, entry.month)
        who = f"run {holder.run_id} at {holder.when}" if holder else "another run"
        return Decision(
            Action.NONE,
            f"conversion to {entry.to_mode} claimed by {who}; not converted by this run",
            remembered.decision.billable_hours,
            remembered.decision.threshold,
        )
