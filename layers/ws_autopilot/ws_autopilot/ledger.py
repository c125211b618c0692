"""Memory across runs: what the conversion ledger says about a WorkSpace this month, as a pure
policy (billing rules, "Memory across runs").

Every conversion is claimed in the ledger before the running mode is changed, and marked done
after. `recall()` reads a WorkSpace's entry for the run's month together with its current running
mode and tells the optimizer what to report and whether to change anything, so that retried
batches, second runs and overlapping runs change a WorkSpace at most once a month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from ws_autopilot.models import Action, Decision, RunningMode, Workspace

# A claim is made and completed within one invocation (at most 15 minutes); an older claim that
# was never completed belongs to an invocation that died, and another run may take it over.
CLAIM_STALE_AFTER = timedelta(minutes=15)


class LedgerStatus(StrEnum):
    CLAIMED = "claimed"  # written before ModifyWorkspaceProperties
    DONE = "done"  # the change was made


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


def ledger_month(run_day: date) -> str:
    """The ledger's month key of a run: YYYY-MM of the run's day."""
    return run_day.strftime("%Y-%m")


class Step(StrEnum):
    """What the optimizer does after recalling the ledger."""

    CLAIM = "claim"  # no entry: claim the conversion, then make it
    RESUME = "resume"  # this run claimed it and never made the change (its invocation died): make it
    TAKE_OVER = "take_over"  # a dead invocation of another run left a stale claim: claim it, make it
    RECORDED = "recorded"  # this run already made it (a retried batch): report it, change nothing
    NOTHING = "nothing"  # nothing to change


@dataclass(frozen=True, slots=True)
class Recall:
    decision: Decision
    step: Step
    mode_after: str | None = None
    made_at: datetime | None = None  # RECORDED: when this run made the change


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
        return Recall(decision, Step.CLAIM if decision.action.is_conversion else Step.NOTHING)
    converted = workspace.running_mode == entry.to_mode
    if entry.run_id == run_id:
        if converted:
            reason = (
                f"{entry.reason} (converted by this run at {entry.when}; batch retried, not changed again)"
            )
            return Recall(
                Decision(
                    entry.action, reason, billable_hours=entry.billable_hours, threshold=entry.threshold
                ),
                Step.RECORDED,
                entry.to_mode,
                entry.done_at or entry.claimed_at,
            )
        if entry.status is LedgerStatus.CLAIMED:
            return Recall(
                Decision(
                    entry.action, entry.reason, billable_hours=entry.billable_hours, threshold=entry.threshold
                ),
                Step.RESUME,
            )
        return Recall(_changed_by_someone_else(workspace, entry), Step.NOTHING)
    if converted or (entry.done_at is not None and entry.done_at >= listed_at):
        if not decision.action.is_conversion:
            return Recall(decision, Step.NOTHING)
        reason = (
            f"converted to {entry.to_mode} by run {entry.run_id} at {entry.when}; "
            "not converted again this month"
        )
        return Recall(
            Decision(Action.NONE, reason, decision.billable_hours, decision.threshold), Step.NOTHING
        )
    if entry.status is LedgerStatus.CLAIMED:
        if now - entry.claimed_at < CLAIM_STALE_AFTER:
            reason = f"being converted to {entry.to_mode} by run {entry.run_id} (claimed at {entry.when})"
            return Recall(
                Decision(Action.NONE, reason, decision.billable_hours, decision.threshold), Step.NOTHING
            )
        return Recall(decision, Step.TAKE_OVER if decision.action.is_conversion else Step.NOTHING)
    return Recall(_changed_by_someone_else(workspace, entry), Step.NOTHING)


def _changed_by_someone_else(workspace: Workspace, entry: LedgerEntry) -> Decision:
    return Decision(
        Action.SKIPPED,
        f"running mode changed to {workspace.running_mode} by someone else after run {entry.run_id} "
        f"converted it to {entry.to_mode} at {entry.when}; left alone until next month",
        entry.billable_hours,
        entry.threshold,
    )
