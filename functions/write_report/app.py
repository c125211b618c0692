"""Ends a run: merges the report parts of every account and region into one CSV and a summary."""

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from ws_autopilot.core.models import Target
from ws_autopilot.cost.contracts import TargetResult, WriteReportRequest
from ws_autopilot.cost.report import Failure, failure_rows, summarize, to_csv, unique_rows
from ws_autopilot.cost.report_store import ReportStore
from ws_autopilot.cost.run_lock import release_lock
from ws_autopilot.cost.run_lock_store import RunLock
from ws_autopilot.cost.runs import RunStatus
from ws_autopilot.cost.settings import ReportSettings

logger = Logger()
metrics = Metrics()
tracer = Tracer()


@cache
def settings() -> ReportSettings:
    return ReportSettings.from_env()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(
    event: dict[str, Any],
    context: LambdaContext,
    *,
    store: ReportStore | None = None,
    lock: RunLock | None = None,
) -> dict[str, Any]:
    request = parse(event=event, model=WriteReportRequest)
    config = settings()
    store = store or ReportStore(config.report_bucket)
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
    rows = unique_rows(store.read_parts(request.run_id))
    summary = {
        "status": RunStatus.COMPLETED.value,
        **summarize(rows, failures, config.dry_run, [t.target for t in targets]),
        "notes": store.read_notes(request.run_id),
    }
    report = to_csv(rows + failure_rows(failures, config.dry_run, request.run_date))
    csv_key, summary_key = store.write_report(request.run_id, request.run_date, report, summary)
    release_lock(lock or RunLock(config.ledger_table), request.run_id)
    metrics.add_metric(name="RunsCompleted", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="DirectoriesFailed", unit=MetricUnit.Count, value=len(failures))
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
