"""One remediation scan: find UNHEALTHY WorkSpaces cheaply, decide each one's next step, then
carry the steps out under optimistic locks and announce them.

`plan()` reads; `execute()` writes. A scan is `execute(plan(now), now)`; keeping them apart is
what lets a test interleave two scans and see that only one of them acts.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime

from aws_lambda_powertools import Logger

from ws_autopilot.adapters.fleet import FailedRequest, WorkspacesFleet
from ws_autopilot.adapters.notifications import Notifier
from ws_autopilot.adapters.remediation_store import RemediationStore
from ws_autopilot.adapters.usage import UsageMetrics
from ws_autopilot.errors import AwsCallFailed
from ws_autopilot.models import TagsUnavailable, Workspace
from ws_autopilot.remediation import (
    Action,
    Record,
    RemediationSettings,
    Step,
    after,
    breaker_open,
    guard_opt_out,
    guard_rebuild,
    needs_notice,
    step,
)

logger = Logger(child=True)
BREAKER_OPEN_MEANING = (
    "nothing is done to this directory's WorkSpaces while it is open: "
    "the cause is probably shared (directory, DNS, network)"
)


@dataclass(frozen=True, slots=True)
class Planned:
    workspace: Workspace
    record: Record | None
    step: Step


@dataclass(frozen=True, slots=True)
class DirectoryHealth:
    unhealthy: int
    total: int
    breaker_open: bool


@dataclass
class Plan:
    items: list[Planned] = field(default_factory=list)
    directories: dict[str, DirectoryHealth] = field(default_factory=dict)  # the directories listed
    vanished: list[Record] = field(default_factory=list)  # records of WorkSpaces no longer listed


@dataclass
class ScanResult:
    counts: Counter[str] = field(default_factory=Counter)
    outcomes: list[dict[str, str]] = field(default_factory=list)

    def add(self, workspace_id: str, action: str, reason: str) -> None:
        self.counts[action] += 1
        self.outcomes.append({"workspace_id": workspace_id, "action": action, "reason": reason})


class Remediator:
    def __init__(
        self,
        settings: RemediationSettings,
        fleet: WorkspacesFleet,
        usage: UsageMetrics,
        store: RemediationStore,
        notifier: Notifier,
    ) -> None:
        self.settings = settings
        self.fleet = fleet
        self.usage = usage
        self.store = store
        self.notifier = notifier

    # -- reading ------------------------------------------------------------------------------
    def plan(self, now: datetime) -> Plan:
        """Decide every candidate's next step. WorkSpaces API calls: one directory listing, the
        pages of the directories that report UNHEALTHY WorkSpaces or have WorkSpaces under
        remediation, connection status for the UNHEALTHY ones (25 per call), and tags and
        snapshots only for WorkSpaces about to be rebooted or rebuilt."""
        records = self.store.open_records()
        directories = self.fleet.directory_ids()
        flagged = self.usage.directories_reporting_unhealthy(directories, now)
        if flagged is None:
            logger.warning("Unhealthy metric unreadable; listing every directory")
            flagged = set(directories)
        watched = {r.directory_id for r in records.values()}
        plan = Plan()
        candidates: list[Workspace] = []
        for directory_id in [d for d in directories if d in flagged or d in watched]:
            listed = [ws for page in self.fleet.pages(directory_id) for ws in page.workspaces]
            unhealthy = sum(1 for ws in listed if ws.state == "UNHEALTHY")
            is_open = breaker_open(unhealthy, len(listed), self.settings)
            plan.directories[directory_id] = DirectoryHealth(unhealthy, len(listed), is_open)
            candidates += [ws for ws in listed if ws.state == "UNHEALTHY" or ws.workspace_id in records]
        listed_ids = {ws.workspace_id for ws in candidates}
        plan.vanished = [
            r
            for r in records.values()
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
            plan.items.append(Planned(ws, record, self._guarded(ws, decided, now)))
        return plan

    def _connected(self, workspace_ids: list[str]) -> set[str]:
        try:
            return self.fleet.connected(workspace_ids)
        except AwsCallFailed as exc:
            # Unknown means "maybe connected": nobody is rebooted out of a session on a guess.
            logger.warning(
                "connection status unreadable; treating every candidate as connected",
                extra={"error": str(exc)},
            )
            return set(workspace_ids)

    def _guarded(self, ws: Workspace, decided: Step, now: datetime) -> Step:
        if decided.action.acts:
            tags = self.fleet.tags(ws.workspace_id)
            decided = guard_opt_out(decided, None if isinstance(tags, TagsUnavailable) else tags)
        if decided.action is Action.REBUILD:
            try:
                snapshot = self.fleet.latest_rebuild_snapshot(ws.workspace_id)
            except AwsCallFailed as exc:
                return Step(
                    Action.WAIT, f"snapshots unreadable ({exc.error_code}); not rebuilding", guard=True
                )
            decided = guard_rebuild(decided, snapshot, now, self.settings)
        return decided

    # -- writing ------------------------------------------------------------------------------
    def execute(self, plan: Plan, now: datetime) -> ScanResult:
        """Carry the plan out. Each WorkSpace's record is written (conditionally) before its
        action, so a second scan working from the same reading acts on nothing."""
        result = ScanResult()
        self._announce_breakers(plan, now)
        for record in plan.vanished:
            self.store.delete(record)
            result.add(record.workspace_id, Action.CLOSE.value, "no longer listed")
        reboots: list[tuple[Planned, Record]] = []
        reboots_left = self.settings.max_reboots_per_run
        for planned in plan.items:
            decided = planned.step
            if decided.action is Action.REBOOT:
                if reboots_left == 0:
                    decided = Step(Action.WAIT, "reboot limit of this scan reached", guard=True)
                reboots_left -= decided.action is Action.REBOOT
            if decided.action is Action.REBUILD and not self.store.take_rebuild_slot(
                now.date().isoformat(), self.settings.max_rebuilds_per_day, now
            ):
                decided = Step(Action.WAIT, "daily rebuild limit reached", guard=True)
            won, claimed = self._claim(planned, decided, now)
            if not won:
                result.add(planned.workspace.workspace_id, "conflict", "another scan acted first")
                continue
            if decided.action is Action.REBOOT and claimed is not None:
                reboots.append((replace(planned, step=decided), claimed))
                continue
            if decided.action is Action.REBUILD and claimed is not None and not self.settings.dry_run:
                failure = self._rebuild(planned.workspace.workspace_id)
                if failure is not None:
                    self._undo(planned, claimed, f"rebuild refused: {failure.error_code}", result, now)
                    continue
            self._finish(planned, decided, claimed, result, now)
        self._reboot(reboots, result, now)
        return result

    def _claim(self, planned: Planned, decided: Step, now: datetime) -> tuple[bool, Record | None]:
        """Write the record the step leads to: (False, None) when another scan changed it first,
        else (True, the record now stored, or None when the WorkSpace is forgotten)."""
        new = after(planned.record, planned.workspace, decided, now)
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
                self._undo(planned, claimed, f"reboot refused: {failure.error_code}", result, now)
            else:
                self._finish(planned, planned.step, claimed, result, now)

    def _rebuild(self, workspace_id: str) -> FailedRequest | None:
        try:
            return self.fleet.rebuild(workspace_id)
        except AwsCallFailed as exc:
            return FailedRequest(workspace_id, exc.error_code, str(exc))

    def _undo(
        self, planned: Planned, claimed: Record, reason: str, result: ScanResult, now: datetime
    ) -> None:
        """A refused action is not assumed done: restore the record so the next scan tries again."""
        if planned.record is None:
            self.store.delete(claimed)
        else:
            self.store.save(replace(planned.record, last_notice=reason), claimed, now)
        logger.warning(
            "remediation action refused",
            extra={"workspace_id": planned.workspace.workspace_id, "reason": reason},
        )
        self._notify(planned.workspace, "failed", reason, planned.record)
        result.add(planned.workspace.workspace_id, "failed", reason)

    def _finish(
        self, planned: Planned, decided: Step, claimed: Record | None, result: ScanResult, now: datetime
    ) -> None:
        result.add(planned.workspace.workspace_id, decided.action.value, decided.reason)
        if not needs_notice(planned.record, decided):
            return
        self._notify(planned.workspace, decided.action.value, decided.reason, claimed)
        if claimed is not None and decided.guard:
            self.store.save(replace(claimed, last_notice=decided.reason), claimed, now)

    def _notify(self, ws: Workspace, action: str, reason: str, record: Record | None) -> None:
        prefix = "[dry run] " if self.settings.dry_run else ""
        self.notifier.publish(
            f"remediation_{action}",
            f"{prefix}WorkSpace {ws.workspace_id} ({ws.user_name}): {action}",
            {
                "workspace_id": ws.workspace_id,
                "user_name": ws.user_name,
                "directory_id": ws.directory_id,
                "state": ws.state,
                "action": action,
                "reason": reason,
                "dry_run": self.settings.dry_run,
                "reboots_so_far": record.reboots if record else 0,
                "unhealthy_since": record.unhealthy_since.isoformat() if record else None,
            },
        )

    def _announce_breakers(self, plan: Plan, now: datetime) -> None:
        for directory_id, health in plan.directories.items():
            is_open, unhealthy, total = health.breaker_open, health.unhealthy, health.total
            if not self.store.set_breaker(directory_id, is_open, now):
                continue
            state = "opened" if is_open else "closed"
            self.notifier.publish(
                f"remediation_breaker_{state}",
                f"Remediation circuit breaker {state} for directory {directory_id}",
                {
                    "directory_id": directory_id,
                    "unhealthy": unhealthy,
                    "workspaces": total,
                    "breaker_percent": self.settings.breaker_percent,
                    "meaning": BREAKER_OPEN_MEANING if is_open else "remediation resumes",
                },
            )
