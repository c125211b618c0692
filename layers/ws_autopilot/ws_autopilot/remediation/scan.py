"""A remediation scan of every covered account and region.

The WorkSpaces quota is per account and region, so the pairs are scanned at the same time
(`workers` threads), each through its own clients and token bucket. A scan reads first and
writes after: every pair's plan is made (reads only), the per-scan reboot cap is shared out over
all of them (the WorkSpaces UNHEALTHY longest first), then the plans are carried out, and the
WorkSpaces the cap held back are announced together in one message. A pair that cannot be read
(role not assumable, region denied) is reported and the others go on; a pair not reached before
the time runs short is left for the next scan.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TypeVar

from aws_lambda_powertools import Logger

from ws_autopilot.aws.notifications import Notifier
from ws_autopilot.aws.organization import OrganizationAccounts
from ws_autopilot.core.errors import AwsCallFailed
from ws_autopilot.core.models import Target
from ws_autopilot.core.settings import CoverageSettings
from ws_autopilot.core.targets import plan_targets
from ws_autopilot.remediation.alerts import reboot_limit_alert
from ws_autopilot.remediation.policy import (
    REBOOT_LIMIT_REASON,
    RemediationAction,
    RemediationSettings,
    RemediationStep,
    hold_reboots,
)
from ws_autopilot.remediation.remediator import RemediationPlan, Remediator, ScanResult
from ws_autopilot.remediation.store import RemediationStore

logger = Logger(child=True)
WORKERS = 16  # pairs scanned at once; each waits mostly on its own account and region's API
_In = TypeVar("_In")
_Out = TypeVar("_Out")


@dataclass
class FleetResult:
    """A whole scan: counts and outcomes over every pair, and the pairs that were not scanned."""

    pairs: list[ScanResult] = field(default_factory=list)
    failed: dict[Target, str] = field(default_factory=dict)  # not scanned: why
    unfinished: dict[Target, list[str]] = field(default_factory=dict)  # directories left (time)

    @property
    def counts(self) -> Counter[str]:
        return sum((p.counts for p in self.pairs), Counter())

    @property
    def outcomes(self) -> list[dict[str, str]]:
        return [o for p in self.pairs for o in p.outcomes]


class RemediationScan:
    def __init__(
        self,
        settings: RemediationSettings,
        store: RemediationStore,
        notifier: Notifier,
        remediator_for: Callable[[Target], Remediator],
        workers: int = WORKERS,
    ) -> None:
        self.settings = settings
        self.store = store
        self.notifier = notifier
        self.remediator_for = remediator_for
        self.workers = workers

    def run(
        self, targets: Sequence[Target], now: datetime, time_left: Callable[[], bool] = lambda: True
    ) -> FleetResult:
        """Scan `targets`; the records table is read once for all of them."""
        records = self.store.records()
        result = FleetResult()

        def plan(target: Target) -> tuple[Remediator, RemediationPlan] | None:
            if not time_left():
                return None
            remediator = self.remediator_for(target)
            return remediator, remediator.plan(now, records.get(target, {}), time_left)

        planned: list[tuple[Target, Remediator, RemediationPlan]] = []
        for target, outcome in self._each(targets, plan):
            if isinstance(outcome, str):
                result.failed[target] = outcome
            elif outcome is None:
                result.failed[target] = "not scanned: the scan ran short of time"
            else:
                planned.append((target, *outcome))
                if outcome[1].unfinished:
                    result.unfinished[target] = outcome[1].unfinished
        self._cap_reboots([p for _, _, p in planned])

        def execute(item: tuple[Target, Remediator, RemediationPlan]) -> ScanResult:
            return item[1].execute(item[2], now)

        for (target, _, _), done in self._each(planned, execute):
            if isinstance(done, str):
                result.failed[target] = done
            else:
                result.pairs.append(done)
        self._announce_held_back([h for p in result.pairs for h in p.held_back])
        for target, reason in result.failed.items():
            logger.warning("account/region not scanned", extra={"target": str(target), "reason": reason})
        return result

    def _each(self, items: Iterable[_In], work: Callable[[_In], _Out]) -> list[tuple[_In, _Out | str]]:
        """`work` on every item, `workers` at a time, in the items' order; a pair's failure is
        returned as its reason, so one pair never stops the others."""

        def guarded(item: _In) -> _Out | str:
            try:
                return work(item)
            except AwsCallFailed as exc:
                return f"{exc.operation} failed: {exc.error_code}"
            except Exception as exc:  # a bug met in one pair: reported and alarmed, the rest go on
                logger.exception("account/region scan failed unexpectedly")
                return f"internal error: {type(exc).__name__}"

        items = list(items)
        if len(items) <= 1 or self.workers == 1:
            return [(item, guarded(item)) for item in items]
        with ThreadPoolExecutor(max_workers=min(self.workers, len(items))) as pool:
            return list(zip(items, pool.map(guarded, items), strict=True))

    def _cap_reboots(self, plans: list[RemediationPlan]) -> None:
        """At most `max_reboots_per_run` reboots in the whole scan: the rest wait, guarded."""
        slots = [(plan, n) for plan in plans for n in range(len(plan.items))]
        held = hold_reboots(
            ((plan.items[n].record, plan.items[n].step) for plan, n in slots),
            self.settings.max_reboots_per_run,
        )
        for position in held:
            plan, n = slots[position]
            plan.items[n] = replace(
                plan.items[n], step=RemediationStep(RemediationAction.WAIT, REBOOT_LIMIT_REASON, guard=True)
            )

    def _announce_held_back(self, held_back: list[dict[str, str]]) -> None:
        """One message for the WorkSpaces the cap held back this scan, each named once per
        episode (their records remember it)."""
        if not held_back:
            return
        self.notifier.send(
            reboot_limit_alert(held_back, self.settings.max_reboots_per_run, self.settings.dry_run)
        )


class Coverage:
    """The accounts and regions remediation covers: the optimizer's (the deployment account and
    `MemberAccounts` or the accounts under `OrganizationParentIds`, times `Regions`), minus the
    regions where WorkSpaces is not offered. Accounts found in the organization are looked up
    again at most every `refresh`; when that fails the last ones found are kept."""

    def __init__(
        self,
        home_account: str,
        settings: CoverageSettings,
        offered_regions: Iterable[str],
        organization: Callable[[], OrganizationAccounts] = OrganizationAccounts,
        refresh: timedelta = timedelta(hours=1),
    ) -> None:
        self.home_account = home_account
        self.settings = settings
        self.offered = frozenset(offered_regions)
        self._organization = organization
        self.refresh = refresh
        self._discovered: tuple[datetime, list[str]] | None = None

    def targets(self, now: datetime) -> tuple[list[Target], list[Target]]:
        """(the pairs to scan, the pairs skipped because WorkSpaces is not offered in their region)."""
        pairs = plan_targets(
            self.home_account,
            [*self.settings.member_accounts, *self._organization_accounts(now)],
            self.settings.regions,
        )
        return [t for t in pairs if t.region in self.offered], [
            t for t in pairs if t.region not in self.offered
        ]

    def _organization_accounts(self, now: datetime) -> list[str]:
        if not self.settings.organization_parents:
            return []
        if self._discovered is not None and now - self._discovered[0] < self.refresh:
            return self._discovered[1]
        try:
            accounts = self._organization().active_accounts(list(self.settings.organization_parents))
        except AwsCallFailed as exc:
            known = self._discovered[1] if self._discovered else []
            logger.warning(
                "organization accounts unreadable; keeping the last ones found",
                extra={"error": str(exc), "accounts": len(known)},
            )
            return known
        self._discovered = (now, accounts)
        return accounts
