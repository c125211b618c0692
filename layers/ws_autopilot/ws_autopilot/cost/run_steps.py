"""The first and the last step of a daily run: start it (take the one-run-at-a-time lock, list
the accounts and regions it covers) and end it (merge every report part into one CSV and a
summary, release the lock). The directories in between are the optimizer's."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime
from typing import Any

from aws_lambda_powertools import Logger

from ws_autopilot.aws.executions import Executions
from ws_autopilot.aws.organization import OrganizationAccounts
from ws_autopilot.core.models import Target
from ws_autopilot.core.targets import plan_targets
from ws_autopilot.cost.contracts import StartRun, TargetResult, WriteReportRequest
from ws_autopilot.cost.report import CsvLine, Failure, csv_text, failure_rows, summarize, unique_lines
from ws_autopilot.cost.report_store import ReportStore
from ws_autopilot.cost.run_lock import release_lock, take_lock
from ws_autopilot.cost.run_lock_store import RunLock
from ws_autopilot.cost.runs import RunStatus
from ws_autopilot.cost.settings import ReportSettings, RunSettings

logger = Logger(child=True)


class RunStart:
    """Starts a run. A run that finds another one in progress ends at once, converting nothing."""

    def __init__(
        self,
        settings: RunSettings,
        lock: RunLock,
        executions: Executions,
        organization: OrganizationAccounts,
        store: ReportStore,
        offered_regions: Collection[str],
    ) -> None:
        self.settings = settings
        self.lock = lock
        self.executions = executions
        self.organization = organization
        self.store = store
        self.offered = frozenset(offered_regions)

    def start(self, request: StartRun, home_account: str, now: datetime) -> dict[str, Any]:
        config = self.settings
        run = {
            "run_id": request.run_id,
            "run_date": request.started_at[:10],
            "max_concurrency": config.map_concurrency,
        }
        holder = take_lock(
            self.lock, self.executions, request.run_id, request.execution_arn, request.started_at, now
        )
        if holder is not None:
            reason = (
                f"run {holder.run_id} (started {holder.started_at}) is still in progress; "
                "this run ended at once and converted nothing"
            )
            logger.warning("run not started", extra={"run_id": request.run_id, "reason": reason})
            return {
                **run,
                "status": RunStatus.NOT_STARTED,
                "reason": reason,
                "targets_key": None,
                "results_prefix": None,
                "targets": 0,
                "skipped": 0,
            }
        accounts = list(config.member_accounts)
        if config.organization_parents:
            accounts += self.organization.active_accounts(list(config.organization_parents))
        targets = plan_targets(home_account, accounts, config.regions)
        covered = [t for t in targets if t.region in self.offered]
        skipped = [
            (t, f"WorkSpaces is not offered in {t.region}") for t in targets if t.region not in self.offered
        ]
        # What the later steps check their input against, and the items of the state machine's
        # Distributed Map: the lists go to S3, whatever their length, never into the payload.
        self.store.write_targets(request.run_id, covered)
        self.store.write_skipped(request.run_id, skipped)
        logger.info(
            "run started", extra={"run_id": request.run_id, "targets": len(covered), "skipped": len(skipped)}
        )
        return {
            **run,
            "status": RunStatus.STARTED,
            "reason": "",
            "targets_key": self.store.targets_key(request.run_id),
            "results_prefix": self.store.results_prefix(request.run_id),
            "targets": len(covered),
            "skipped": len(skipped),
        }


class RunEnd:
    """Ends a run: one CSV and a summary from every account and region's parts and outcomes."""

    def __init__(self, settings: ReportSettings, store: ReportStore, lock: RunLock) -> None:
        self.settings = settings
        self.store = store
        self.lock = lock

    def finish(self, request: WriteReportRequest) -> dict[str, Any]:
        config, store = self.settings, self.store
        request.check(config.report_bucket, store.results_prefix(request.run_id))
        targets = outcomes(
            store.read_target_list(request.run_id),
            [TargetResult.model_validate(r) for r in store.read_map_results(request.results.details.key)],
        )
        targets += [TargetResult.model_validate(s) for s in store.read_skipped(request.run_id)]
        failures = [Failure(t.target, "", t.error) for t in targets if t.error]
        failures += [
            Failure(t.target, d.directory_id, d.error) for t in targets for d in t.directories if d.error
        ]
        # Rows are read part by part and kept as CSV lines: a 50,000-WorkSpace report is
        # assembled in tens of MB, not the hundreds its rows would take (docs/benchmarks.md).
        rows = unique_lines(store.read_parts(request.run_id))
        summary = {
            "status": RunStatus.COMPLETED.value,
            **summarize(
                rows,
                failures,
                config.dry_run,
                [t.target for t in targets],
                date.fromisoformat(request.run_date),
            ),
            "notes": store.read_notes(request.run_id),
        }
        unfinished = failure_rows(failures, config.dry_run, request.run_date)
        report = csv_text(rows + [CsvLine.of(row) for row in unfinished])
        csv_key, summary_key = store.write_report(request.run_id, request.run_date, report, summary)
        release_lock(self.lock, request.run_id)
        logger.info("run report written", extra={"report_key": csv_key, "summary_key": summary_key})
        # Counts only: the lists are in the summary object, and a state's payload is at most 256 KiB.
        return {
            "run_id": request.run_id,
            "report_key": csv_key,
            "summary_key": summary_key,
            "status": summary["status"],
            "workspaces": summary["workspaces"],
            "actions": summary["actions"],
            "targets": len(targets),
            "failed": len(failures),
        }


def outcomes(covered: list[Target], results: list[TargetResult]) -> list[TargetResult]:
    """One outcome per account and region the run covers, in its order: the result of its child
    execution, or a failure when there is none (it never ran)."""
    by_target = {r.target: r for r in results}
    return [
        by_target.get(t) or TargetResult(account_id=t.account_id, region=t.region, error="NoResult")
        for t in covered
    ]
