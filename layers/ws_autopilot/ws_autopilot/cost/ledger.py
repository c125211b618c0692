"""Memory across runs: what the conversion ledger says about a WorkSpace this month, as a pure
policy (billing rules, "Memory across runs").

Every conversion is claimed in the ledger before the running mode is changed, and marked done
after. `recall()` reads a WorkSpace's entry for the run's month together with its current running
mode and tells the optimizer what to report and whether to change anything, so that retried
batches, second runs and overlapping runs change a WorkSpace at most once a month.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from ws_autopilot.core.claims import CLAIM_STALE_AFTER, LedgerStatus
from ws_autopilot.core.models import RunningMode, Workspace
from ws_autopilot.cost.models import Action, Decision


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One conversion the product made (or is making) to one WorkSpace in one month."""

    workspace_id: str
    directory_id: str
    month: str
    from_mode: str
    to_mode: str
    run_id: str
    status: LedgerStatus
    claimed_at: datetime
    reason: str
    billable_hours: int | None = None
    threshold: int | None = None
    done_at: datetime | None = None

    @property
    def action(self) -> Action:
        return Action.TO_ALWAYS_ON if self.to_mode == RunningMode.ALWAYS_ON else Action.TO_AUTO_STOP

    @property
    def when(self) -> str:
        return (self.done_at or self.claimed_at).strftime("%Y-%m-%d %H:%M UTC")


class RecallStep(StrEnum):
    """What the optimizer does after recalling the ledger."""

    CLAIM = "claim"  # no entry: claim the conversion, then make it
    RESUME = "resume"  # this run claimed it and never made the change (its invocation died): make it
    TAKE_OVER = "take_over"  # a dead invocation of another run left a stale claim: claim it, make it
    RECORDED = "recorded"  # this run already made it (a retried batch): report it, change nothing
    NOTHING = "nothing"  # nothing to change


@dataclass(frozen=True, slots=True)
class Recall:
    decision: Decision
    step: RecallStep
    mode_after: str | None = None
    made_at: datetime | None = None  # RECORDED: when this run made the change
    # An entry of unknown outcome this listing settles: done when the WorkSpace shows its new
    # mode, released when it does not (the converter writes it before anything else)
    settles: LedgerEntry | None = None
    settled_made: bool = False


def recall(
    decision: Decision,
    workspace: Workspace,
    entry: LedgerEntry | None,
    run_id: str,
    now: datetime,
    listed_at: datetime,
) -> Recall:
    """The decision for `workspace` once this month's ledger `entry` (None: no conversion this
    month) is taken into account.

    `decision` is what the billing rules and the opt-out gave; `listed_at` is when the WorkSpace
    was listed (its running mode is as of then), `now` when it is evaluated.
    """
    if entry is None:
        return Recall(decision, RecallStep.CLAIM if decision.action.is_conversion else RecallStep.NOTHING)
    converted = workspace.running_mode == entry.to_mode
    if entry.status is LedgerStatus.UNKNOWN:
        # A change whose response was lost: this listing shows whether it was made. Made, it is
        # remembered as done when it was requested; not made, as if it had never been claimed.
        if converted:
            done = replace(entry, status=LedgerStatus.DONE, done_at=entry.claimed_at)
            settled = recall(decision, workspace, done, run_id, now, listed_at)
            return replace(settled, settles=entry, settled_made=True)
        return replace(recall(decision, workspace, None, run_id, now, listed_at), settles=entry)
    if entry.run_id == run_id:
        if converted:
            reason = (
                f"{entry.reason} (converted by this run at {entry.when}; batch retried, not changed again)"
            )
            return Recall(
                Decision(
                    entry.action,
                    reason,
                    billable_hours=entry.billable_hours,
                    threshold=entry.threshold,
                    measured_hours=decision.measured_hours,
                ),
                RecallStep.RECORDED,
                entry.to_mode,
                entry.done_at or entry.claimed_at,
            )
        if entry.status is LedgerStatus.CLAIMED:
            return Recall(
                Decision(
                    entry.action,
                    entry.reason,
                    billable_hours=entry.billable_hours,
                    threshold=entry.threshold,
                    measured_hours=decision.measured_hours,
                ),
                RecallStep.RESUME,
            )
        return Recall(_changed_by_someone_else(workspace, entry), RecallStep.NOTHING)
    if converted or (entry.done_at is not None and entry.done_at >= listed_at):
        if not decision.action.is_conversion:
            return Recall(decision, RecallStep.NOTHING)
        reason = (
            f"converted to {entry.to_mode} by run {entry.run_id} at {entry.when}; "
            "not converted again this month"
        )
        return Recall(
            Decision(Action.NONE, reason, decision.billable_hours, decision.threshold), RecallStep.NOTHING
        )
    if entry.status is LedgerStatus.CLAIMED:
        if now - entry.claimed_at < CLAIM_STALE_AFTER:
            reason = f"being converted to {entry.to_mode} by run {entry.run_id} (claimed at {entry.when})"
            return Recall(
                Decision(Action.NONE, reason, decision.billable_hours, decision.threshold), RecallStep.NOTHING
            )
        return Recall(decision, RecallStep.TAKE_OVER if decision.action.is_conversion else RecallStep.NOTHING)
    return Recall(_changed_by_someone_else(workspace, entry), RecallStep.NOTHING)


def _changed_by_someone_else(workspace: Workspace, entry: LedgerEntry) -> Decision:
    return Decision(
        Action.SKIPPED,
        f"running mode changed to {workspace.running_mode} by someone else after run {entry.run_id} "
        f"converted it to {entry.to_mode} at {entry.when}; left alone until next month",
        entry.billable_hours,
        entry.threshold,
    )
