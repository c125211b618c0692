"""One remediation scan: UNHEALTHY WorkSpaces are rebooted and, only when allowed, rebuilt."""

from datetime import UTC, datetime
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ws_autopilot.adapters.fleet import WorkspacesFleet
from ws_autopilot.adapters.notifications import Notifier
from ws_autopilot.adapters.remediation_store import RemediationStore
from ws_autopilot.adapters.usage import UsageMetrics
from ws_autopilot.remediator import Remediator
from ws_autopilot.settings import RemediationConfig

logger = Logger()
metrics = Metrics()
tracer = Tracer()

METRIC_NAMES = {
    "reboot": "Reboots",
    "rebuild": "Rebuilds",
    "recovered": "Recovered",
    "needs_person": "NeedsPerson",
    "skip": "RemediationSkips",
    "failed": "RemediationFailures",
    "conflict": "RemediationConflicts",
}


@cache
def config() -> RemediationConfig:
    return RemediationConfig.from_env()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(
    event: dict[str, Any], context: LambdaContext, *, remediator: Remediator | None = None
) -> dict[str, Any]:
    settings = config()
    remediator = remediator or Remediator(
        settings.policy,
        WorkspacesFleet(),
        UsageMetrics(),
        RemediationStore(settings.table_name),
        Notifier(settings.alert_topic_arn),
    )
    now = datetime.now(UTC)
    result = remediator.execute(remediator.plan(now), now)
    metrics.add_dimension(name="DryRun", value=str(settings.policy.dry_run).lower())
    for action, name in METRIC_NAMES.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=result.counts[action])
    logger.info("remediation scan finished", extra={"counts": dict(result.counts)})
    return {"scanned_at": now.isoformat(), "counts": dict(result.counts), "outcomes": result.outcomes}
