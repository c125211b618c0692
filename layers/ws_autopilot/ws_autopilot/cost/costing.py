"""What one batch of WorkSpaces is judged by, and what it costs: the tags and the list prices of
the batch's WorkSpaces, read for the whole batch at once; a threshold for each WorkSpace (its
`Autopilot_Threshold` tag, else the break-even of its prices, else its compute type's parameter);
and each report row's threshold source, prices and dollars.

Split from the optimizer along the line its name says: the optimizer decides and acts, this
module supplies the thresholds it decides by and prices the rows it reports.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from ws_autopilot.aws.tags import WorkspaceTags
from ws_autopilot.core.calendar import evaluation_window
from ws_autopilot.core.claims import LedgerStatus
from ws_autopilot.core.errors import AwsCallFailed
from ws_autopilot.core.models import RunningMode, Tags, Target, Workspace
from ws_autopilot.cost.bill import SwitchToAlwaysOn, WorkspaceMonth, month_start, row_dollars, use_rate
from ws_autopilot.cost.ledger import LedgerEntry
from ws_autopilot.cost.models import Action, Decision, ReportRow
from ws_autopilot.cost.price_keys import price_key
from ws_autopilot.cost.price_list import PriceList
from ws_autopilot.cost.pricing import BundlePrices, NoPrice, Priced, price_digits
from ws_autopilot.cost.rules import Threshold, choose_threshold, is_evaluated
from ws_autopilot.cost.settings import OptimizerSettings


@dataclass(slots=True)
class BatchCosting:
    """One batch's tags (WorkSpaces the rules judge), prices and chosen thresholds, by WorkSpace."""

    tags: dict[str, Tags] = field(default_factory=dict)
    priced: dict[str, Priced | NoPrice] = field(default_factory=dict)
    chosen: dict[str, Threshold] = field(default_factory=dict)


class Costing:
    """Thresholds and dollars for the batches of one account and region."""

    def __init__(
        self, settings: OptimizerSettings, tags: WorkspaceTags, prices: PriceList | None, target: Target
    ) -> None:
        self.settings = settings
        self.tags = tags
        self.prices = prices
        self.target = target

    def prepare(self, workspaces: Sequence[Workspace], run_day: date) -> BatchCosting:
        """Read the batch's tags and prices. The tags of every WorkSpace the rules judge are read
        (an `Autopilot_Threshold` tag can make any of them a conversion), 100 per tagging API
        call; when that API is denied none are, and `read_tags` reads those about to change one
        by one. Never raises: what cannot be read is a reason in the rows."""
        judged = [ws.workspace_id for ws in workspaces if is_evaluated(ws)]
        found = self.tags.bulk(judged) if judged else {}
        return BatchCosting(tags=found or {}, priced=self._priced(workspaces, run_day))

    def threshold(self, costing: BatchCosting, workspace: Workspace) -> Threshold:
        """The WorkSpace's threshold, by its tags as read so far and its prices."""
        chosen = choose_threshold(
            workspace,
            self.settings.thresholds,
            costing.tags.get(workspace.workspace_id),
            costing.priced.get(workspace.workspace_id, NoPrice("not priced")),
            use_prices=self.settings.use_prices,
        )
        costing.chosen[workspace.workspace_id] = chosen
        return chosen

    def read_tags(self, costing: BatchCosting, workspaces: Sequence[Workspace]) -> list[Workspace]:
        """Read the tags the batch read did not cover of `workspaces` (about to change; DescribeTags,
        one call each, when the tagging API is denied). Returns those whose threshold is now
        another: they must be judged again."""
        unread = [ws for ws in workspaces if ws.workspace_id not in costing.tags]
        if not unread:
            return []
        costing.tags.update(self.tags.tags([ws.workspace_id for ws in unread]))
        changed = []
        for ws in unread:
            before = costing.chosen.get(ws.workspace_id)
            if self.threshold(costing, ws) != before:
                changed.append(ws)
        return changed

    def _priced(self, workspaces: Sequence[Workspace], run_day: date) -> dict[str, Priced | NoPrice]:
        """Each WorkSpace's list prices, or why it has none. The region's prices are looked up
        only when a WorkSpace of the batch has prices to look up (then from memory, the day's
        cache object or the Price List)."""
        keyed = [ws for ws in workspaces if is_evaluated(ws) and not isinstance(price_key(ws), str)]
        if self.prices is None or not keyed:
            return {ws.workspace_id: _unpriced(ws, self.prices is None) for ws in workspaces}
        try:
            book = self.prices.book(self.target.region, run_day)
        except AwsCallFailed as exc:
            return {ws.workspace_id: NoPrice(f"price list unavailable: {exc}") for ws in workspaces}
        return {ws.workspace_id: book.lookup(ws) for ws in workspaces}

    def prices_of(self, costing: BatchCosting, workspace: Workspace) -> BundlePrices | None:
        found = costing.priced.get(workspace.workspace_id)
        return found.prices if isinstance(found, Priced) else None

    def priced_row(
        self,
        costing: BatchCosting,
        row: ReportRow,
        workspace: Workspace,
        decision: Decision,
        entry: LedgerEntry | None,
        now: datetime,
        run_day: date,
    ) -> ReportRow:
        """The row with where its threshold came from (only when one applied), the prices behind
        it or why there were none, and its dollars from the bill model (None without prices or
        billable hours). `entry` is the WorkSpace's conversion of this month in the ledger, if
        any: it says how the month began and when a switch to ALWAYS_ON was made."""
        chosen = costing.chosen.get(workspace.workspace_id)
        if chosen is None or not is_evaluated(workspace):
            return row
        source = chosen.source.value if chosen.source is not None and decision.threshold is not None else ""
        row = replace(row, threshold_source=source, prices=chosen.prices)
        prices = self.prices_of(costing, workspace)
        if prices is None or decision.billable_hours is None:
            return row
        month = evaluation_window(now, run_day).start
        facts = month_so_far(RunningMode(workspace.running_mode), month, decision, entry, now)
        rate = use_rate(decision.billable_hours, decision.measured_hours or 0)
        dollars = row_dollars(prices, facts, decision.action, rate, now)
        return replace(
            row,
            month_cost=dollars.month_cost,
            saving_this_month=dollars.saving_this_month,
            saving_next_month=dollars.saving_next_month,
            price_always_on_monthly=price_digits(prices.always_on_monthly),
            price_auto_stop_monthly=price_digits(prices.auto_stop_monthly),
            price_auto_stop_hourly=price_digits(prices.auto_stop_hourly),
        )


def month_so_far(
    mode: RunningMode, month: datetime, decision: Decision, entry: LedgerEntry | None, now: datetime
) -> WorkspaceMonth:
    """The WorkSpace's month as its bill depends on it, with the decision carried out: how it
    began (before a conversion the product made this month, as the ledger remembers it) and the
    switch to ALWAYS_ON made this month, by an earlier run (the ledger's time and hours) or by
    this decision (now). A switch made after the month ended (late) is next month's."""
    hours = decision.billable_hours or 0
    done = entry is not None and entry.status is LedgerStatus.DONE and entry.to_mode == mode
    if done and entry is not None and mode is RunningMode.AUTO_STOP:
        return WorkspaceMonth(month, RunningMode.ALWAYS_ON, hours)  # reset this month: billed M
    switch = None
    if done and entry is not None and mode is RunningMode.ALWAYS_ON:
        switch = SwitchToAlwaysOn(entry.done_at or entry.claimed_at, entry.billable_hours or 0)
    elif decision.action is Action.TO_ALWAYS_ON:
        switch = SwitchToAlwaysOn(now, hours)
    if switch is None or month_start(switch.at) != month:
        return WorkspaceMonth(month, mode, hours)
    return WorkspaceMonth(month, RunningMode.AUTO_STOP, hours, switched_on=switch)


def _unpriced(workspace: Workspace, no_price_list: bool) -> NoPrice:
    if no_price_list:
        return NoPrice("no price list")
    key = price_key(workspace)
    return NoPrice(key if isinstance(key, str) else "not priced")
