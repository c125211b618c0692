"""Ends a run: merges the report parts of every account and region into one CSV and a summary."""

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from ws_autopilot.cost.contracts import WriteReportRequest
from ws_autopilot.cost.report_store import ReportStore
from ws_autopilot.cost.run_lock_store import RunLock
from ws_autopilot.cost.run_steps import RunEnd
from ws_autopilot.cost.settings import ReportSettings

logger = Logger()
metrics = Metrics()
tracer = Tracer()
SETTINGS = (ReportSettings,)


@cache
def config() -> ReportSettings:
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
    settings = config()
    end = RunEnd(
        settings, store or ReportStore(settings.report_bucket), lock or RunLock(settings.ledger_table)
    )
    result = end.finish(request)
    publish(result)
    return result


def publish(result: dict[str, Any]) -> None:
    metrics.add_metric(name="RunsCompleted", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="DirectoriesFailed", unit=MetricUnit.Count, value=result["failed"])
