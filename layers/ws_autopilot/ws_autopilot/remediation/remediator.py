"""One account and region's part of a remediation scan: find UNHEALTHY WorkSpaces cheaply,
decide each one's next step, then carry the steps out under optimistic locks and announce them.

`plan()` reads the fleet; `execute()` reads only the guards of the WorkSpaces it is about to
act on (tags, rebuild snapshots), then writes. A scan is `execute(plan(now), now)`; keeping them
apart is what lets a test interleave two scans and see that only one of them acts, and what lets
the fleet-wide scan (remediation/scan.py) share the per-scan reboot cap out between the plans of
every account and region before any of them acts, so that no tags are read for the WorkSpaces
the cap holds back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from aws_lambda_powertools import Logger

from ws_autopilot.aws.fleet import FailedRequest, WorkspacesFleet
from ws_autopilot.aws.notifications import Notifier
from ws_autopilot.aws.usage import UsageMetrics
from ws_autopilot.core.errors import AwsCallFailed
from ws_autopilot.core.models import TagsUnavailable, Target, Workspace
from ws_autopilot.remediation.alerts import Alert, breaker_alert, describe, workspace_alert
from ws_autopilot.remediation.policy import (
    REBOOT_LIMIT_REASON,
    REFUSALS_BEFORE_PERSON,
    Phase,
    Record,
    RemediationAction,
    RemediationSettings,
    RemediationStep,
    after,
    breaker_open,
    escalation_due,
    guard_opt_out,
    guard_rebuild,
    needs_notice,
    refused,
    step,
)
from ws_autopilot.remediation.store import RemediationStore

logger = Logger(child=True)


@dataclass(frozen=True, slots=True)
class Planned:
    workspace: Workspace
    record: Record | None
    step: RemediationStep


@dataclass(frozen=True, slots=True)
class DirectoryHealth:
    unhealthy: int
    total: int
    breaker_open: bool


@dataclass
class RemediationPlan:
    items: list[Planned] = field(default_factory=list)
    directories: dict[str, DirectoryHealth] = field(default_factory=dict)  # the directories listed
    vanished: list[Record] = field(default_factory=list)  # records of WorkSpaces no longer listed
    unfinished: list[str] = field(default_factory=list)  # directories left for the next scan (time)


@dataclass
class ScanResult:
    target: Target
    counts: Counter[str] = field(default_factory=Counter)
    outcomes: list[dict[str, str]] = field(default_factory=list)
    held_back: list[dict[str, str]] = field(default_factory=list)  # by the reboot cap, not yet announced

    def add(self, workspace_id: str, action: str, reason: str) -> None:
        self.counts[action] += 1
        self.outcomes.append(
            {
                "account_id": self.target.account_id,
                "region": self.target.region,
                "workspace_id": workspace_id,
                "action": action,
                "reason": reason,
            }
        )


class Remediator:
    def __init__(
        self,
        settings: RemediationSettings,
        fleet: WorkspacesFleet,
        usage: UsageMetrics,
        store: RemediationStore,
        notifier: Notifier,
        target: Target,
    ) -> None:
        self.settings = settings
        self.fleet = fleet
        self.usage = usage
        self.store = store
        self.notifier = notifier
        self.target = target

    # -- reading ------------------------------------------------------------------------------
    def plan(
        self,
        now: datetime,
        records: Mapping[str, Record] | None = None,
        time_left: Callable[[], bool] = lambda: True,
    ) -> RemediationPlan:
        """Decide every candidate's next step, before the guards that need tags or snapshots.
        `records` are this account and region's (read from the store when not given). WorkSpaces
        API calls: one directory listing, the pages of the directories that report UNHEALTHY
        WorkSpaces or have WorkSpaces under remediation, and connection status for the UNHEALTHY
        ones (25 per call). No page is read once `time_left()` is False; a directory not listed
        whole is left for the next scan."""
        if records is None:
            records = self.store.records().get(self.target, {})
        active = {i: r for i, r in records.items() if r.active}
        directories = self.fleet.directory_ids()
        flagged = self.usage.directories_reporting_unhealthy(directories, now)
        if flagged is None:
            logger.warning("Unhealthy metric unreadable; listing every directory", extra=self._where())
            flagged = set(directories)
        watched = {r.directory_id for r in active.values()}
        plan = RemediationPlan()
        candidates: list[Workspace] = []
        for directory_id in [d for d in directories if d in flagged or d in watched]:
            listed = self._listing(directory_id, time_left)
            if listed is None:
                plan.unfinished.append(directory_id)
                continue
            unhealthy = sum(1 for ws in listed if ws.state == "UNHEALTHY")
            is_open = breaker_open(unhealthy, len(listed), self.settings)
            plan.directories[directory_id] = DirectoryHealth(unhealthy, len(listed), is_open)
            candidates += [ws for ws in listed if ws.state == "UNHEALTHY" or ws.workspace_id in active]
        listed_ids = {ws.workspace_id for ws in candidates}
        plan.vanished = [
            r
            for r in active.values()
            if r.workspace_id not in listed_ids and r.directory_id in plan.directories
        ]
        connected = self._connected([ws.workspace_id for ws in candidates if ws.state == "UNHEALTHY"])
        for ws in candidates:
            record = records.get(ws.workspace_id)
            decided = step(
                ws,
                record,
                self.settings,
                now,
                plan.directories[ws.directory_id].breaker_open,
                ws.workspace_id in connected,
            )
            plan.items.append(Planned(ws, record, decided))
        return plan

    def _listing(self, directory_id: str, time_left: Callable[[], bool]) -> list[Workspace] | None:
        """The directory's WorkSpaces, or None when time ran short before the listing was whole
        (a part would miscount the circuit breaker and take the rest for vanished)."""
        listed: list[Workspace] = []
        if not time_left():
            return None
        for page in self.fleet.pages(directory_id):
            listed += page.workspaces
            if page.next_token is not None and not time_left():
                return None
        return listed

    def _connected(self, workspace_ids: list[str]) -> set[str]:
        try:
            return self.fleet.connected(workspace_ids)
        except AwsCallFailed as exc:
            # Unknown means "maybe connected": nobody is rebooted out of a session on a guess.
            logger.warning(
                "connection status unreadable; treating every candidate as connected",
                extra={**self._where(), "error": str(exc)},
            )
            return set(workspace_ids)

    def _guarded(self, ws: Workspace, decided: RemediationStep, now: datetime) -> RemediationStep:
        if decided.action.acts:
            tags = self.fleet.tags(ws.workspace_id)
            decided = guard_opt_out(decided, None if isinstance(tags, TagsUnavailable) else tags)
        if decided.action is RemediationAction.REBUILD:
            try:
                snapshot = self.fleet.latest_rebuild_snapshot(ws.workspace_id)
            except AwsCallFailed as exc:
                return RemediationStep(
                    RemediationAction.WAIT,
                    f"snapshots unreadable ({exc.error_code}); not rebuilding",
                    guard=True,
                )
            decided = guard_rebuild(decided, snapshot, now, self.settings)
        return decided

    # -- writing ------------------------------------------------------------------------------
    def execute(self, plan: RemediationPlan, now: datetime) -> ScanResult:
        """Carry the plan out: the guards of each action first (tags: one DescribeTags per
        WorkSpace; a rebuild's snapshot), then its record is written (conditionally) before the
        action, so a second scan working from the same reading acts on nothing."""
        result = ScanResult(self.target)
        self._announce_breakers(plan, now)
        for record in plan.vanished:
            self.store.delete(record)
            result.add(record.workspace_id, RemediationAction.CLOSE.value, "no longer listed")
        reboots: list[tuple[Planned, Record]] = []
        for planned in plan.items:
            decided = self._guarded(planned.workspace, planned.step, now)
            if decided.action is RemediationAction.REBUILD and not self.store.take_rebuild_slot(
                now.date().isoformat(), self.settings.max_rebuilds_per_day, now
            ):
                decided = RemediationStep(RemediationAction.WAIT, "daily rebuild limit reached", guard=True)
            won, claimed = self._claim(planned, decided, now)
            if not won:
                result.add(planned.workspace.workspace_id, "conflict", "another scan acted first")
                continue
            if decided.action is RemediationAction.REBOOT and claimed is not None:
                reboots.append((replace(planned, step=decided), claimed))
                continue
            if (
                decided.action is RemediationAction.REBUILD
                and claimed is not None
                and not self.settings.dry_run
            ):
                failure = self._rebuild(planned.workspace.workspace_id)
                if failure is not None:
                    self._refused(planned, claimed, failure, result, now)
                    continue
            self._finish(planned, decided, claimed, result, now)
        self._reboot(reboots, result, now)
        return result

    def _claim(self, planned: Planned, decided: RemediationStep, now: datetime) -> tuple[bool, Record | None]:
        """Write the record the step leads to: (False, None) when another scan changed it first,
        else (True, the record now stored, or None when the WorkSpace is forgotten)."""
        new = after(planned.record, planned.workspace, decided, now, self.target)
        if new is None:
            return (planned.record is None or self.store.delete(planned.record)), None
        if new == planned.record:
            return True, planned.record  # nothing changed, nothing to claim
        stored = self.store.save(new, planned.record, now)
        return stored is not None, stored

    def _reboot(self, reboots: list[tuple[Planned, Record]], result: ScanResult, now: datetime) -> None:
        if not reboots:
            return
        ids = [p.workspace.workspace_id for p, _ in reboots]
        if self.settings.dry_run:
            failures: list[FailedRequest] = []
        else:
            try:
                failures = self.fleet.reboot(ids)
            except AwsCallFailed as exc:  # the whole call failed: nothing was rebooted
                failures = [FailedRequest(i, exc.error_code, str(exc)) for i in ids]
        failed = {f.workspace_id: f for f in failures}
        for planned, claimed in reboots:
            failure = failed.get(planned.workspace.workspace_id)
            if failure is not None:
                self._refused(planned, claimed, failure, result, now)
            else:
                self._finish(planned, planned.step, claimed, result, now)

    def _rebuild(self, workspace_id: str) -> FailedRequest | None:
        try:
            return self.fleet.rebuild(workspace_id)
        except AwsCallFailed as exc:
            return FailedRequest(workspace_id, exc.error_code, str(exc))

    def _refused(
        self, planned: Planned, claimed: Record, failure: FailedRequest, result: ScanResult, now: datetime
    ) -> None:
        """A refused action is not assumed done: the record is put back with the refusal counted.
        The first refusal is announced; a reboot refused REFUSALS_BEFORE_PERSON times in a row goes
        to a person (then it is tried again hourly, quietly); a refused rebuild at once."""
        previous = planned.record
        assert previous is not None, "only a WorkSpace under remediation is acted on"
        action = planned.step.action.value
        reason = f"{action} refused: {failure.error_code}"
        due = escalation_due(previous, now)
        alert: Alert | None = None
        if planned.step.action is RemediationAction.REBUILD:
            escalated = now if due else previous.escalated_at
            restored = replace(previous, phase=Phase.NEEDS_PERSON, escalated_at=escalated)
            alert, reason = (Alert.NEEDS_PERSON if due else None), f"{reason}; a person decides"
        else:
            restored = refused(previous, failure.error_code, now)
            if restored.refusals == 1:
                alert = Alert.FAILED
            elif restored.refusals == REFUSALS_BEFORE_PERSON and due:
                alert = Alert.NEEDS_PERSON
                restored = replace(restored, escalated_at=now)
                reason = (
                    f"{action} refused {restored.refusals} times in a row ({failure.error_code}); "
                    "a person should look; tried again hourly"
                )
        self.store.save(restored, claimed, now)
        logger.warning(
            "remediation action refused",
            extra={**self._where(), "workspace_id": planned.workspace.workspace_id, "reason": reason},
        )
        if alert is not None:
            self._notify(planned.workspace, alert, reason, restored)
        result.add(planned.workspace.workspace_id, "failed", reason)

    def _finish(
        self,
        planned: Planned,
        decided: RemediationStep,
        claimed: Record | None,
        result: ScanResult,
        now: datetime,
    ) -> None:
        ws = planned.workspace
        result.add(ws.workspace_id, decided.action.value, decided.reason)
        if not needs_notice(planned.record, decided, now):
            return
        if decided.reason == REBOOT_LIMIT_REASON:  # announced with the others in one message
            result.held_back.append(describe(ws, self.target))
        else:
            self._notify(ws, Alert.of(decided.action), decided.reason, claimed)
        if claimed is not None and decided.guard:
            self.store.save(replace(claimed, last_notice=decided.reason), claimed, now)

    def _where(self) -> dict[str, str]:
        return {"account_id": self.target.account_id, "region": self.target.region}

    def _notify(self, ws: Workspace, alert: Alert, reason: str, record: Record | None) -> None:
        self.notifier.send(workspace_alert(alert, ws, self.target, reason, record, self.settings.dry_run))

    def _announce_breakers(self, plan: RemediationPlan, now: datetime) -> None:
        for directory_id, health in plan.directories.items():
            is_open, unhealthy, total = health.breaker_open, health.unhealthy, health.total
            if not self.store.set_breaker(self.target, directory_id, is_open, now):
                continue
            self.notifier.send(
                breaker_alert(
                    self.target, directory_id, is_open, unhealthy, total, self.settings.breaker_percent
                )
            )
