"""One remediation scan of every covered account and region: UNHEALTHY WorkSpaces are rebooted
and, only when allowed, rebuilt."""

from datetime import UTC, datetime
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from ws_autopilot.aws.accounts import AccountSessions
from ws_autopilot.aws.clients import RETRY_CONFIG
from ws_autopilot.aws.fleet import WorkspacesFleet
from ws_autopilot.aws.notifications import Notifier
from ws_autopilot.aws.usage import UsageMetrics
from ws_autopilot.core.member_access import MemberAccess, remediation_access
from ws_autopilot.core.models import Target
from ws_autopilot.core.targets import account_of_function_arn
from ws_autopilot.remediation.remediator import Remediator
from ws_autopilot.remediation.scan import WORKERS, Coverage, FleetResult, RemediationScan
from ws_autopilot.remediation.settings import RemediationConfig
from ws_autopilot.remediation.store import RemediationStore

logger = Logger()
metrics = Metrics()
tracer = Tracer()
SETTINGS = (RemediationConfig,)

# No pair is started, and no directory listed, with less than this left: what is already
# decided is still carried out and recorded.
SAFETY_MARGIN_MS = 60_000
# Requests remediation may send at once in one account and region before its rate applies.
API_BURST = 2
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


@cache
def wiring(function_arn: str) -> tuple[RemediationScan, Coverage]:
    """Built once per container: each account and region's clients, credentials and rate limit
    carry over from one scan to the next."""
    settings = config()
    home = account_of_function_arn(function_arn)
    coverage = settings.coverage
    sessions = AccountSessions(
        function_arn,
        coverage.member_role_name,
        coverage.external_id,
        settings.api_rate,
        API_BURST,
        member_access(),
    )
    shared = RETRY_CONFIG.merge(Config(max_pool_connections=WORKERS))  # one connection per worker
    store = RemediationStore(settings.table_name, boto3.client("dynamodb", config=shared))
    notifier = Notifier(settings.alert_topic_arn, boto3.client("sns", config=shared))

    @cache
    def remediator_for(target: Target) -> Remediator:
        fleet = WorkspacesFleet(sessions.client("workspaces", target))
        usage = UsageMetrics(sessions.client("cloudwatch", target))
        return Remediator(settings.policy, fleet, usage, store, notifier, target)

    offered = boto3.session.Session().get_available_regions("workspaces")
    scan = RemediationScan(settings.policy, store, notifier, remediator_for, workers=WORKERS)
    return scan, Coverage(home, coverage, offered)


def member_access() -> MemberAccess:
    """What this function may do in member accounts: reboot, and rebuild only under
    RebuildPolicy=Auto; only reads during its dry run."""
    settings = config()
    return remediation_access(dry_run=settings.policy.dry_run, rebuild_policy=settings.rebuild_policy)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    scan, coverage = wiring(context.invoked_function_arn)
    now = datetime.now(UTC)
    targets, not_offered = coverage.targets(now)
    result = scan.run(targets, now, lambda: context.get_remaining_time_in_millis() > SAFETY_MARGIN_MS)
    publish(result, dry_run=config().dry_run)
    counts = dict(result.counts)
    logger.info("remediation scan finished", extra={"counts": counts, "targets": len(targets)})
    return {
        "scanned_at": now.isoformat(),
        "counts": counts,
        "outcomes": result.outcomes,
        "targets": [str(t) for t in targets],
        "failed": {str(t): reason for t, reason in result.failed.items()},
        "unfinished": {str(t): directories for t, directories in result.unfinished.items()},
        "skipped": {str(t): "WorkSpaces is not offered in this region" for t in not_offered},
    }


def publish(result: FleetResult, dry_run: bool) -> None:
    """Totals (the dashboard's), and each account and region's non-zero counts with its own
    dimensions: a pair gets metrics of its own only when something happened there."""
    dry = str(dry_run).lower()
    metrics.add_dimension(name="DryRun", value=dry)
    totals = result.counts
    for action, name in METRIC_NAMES.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=totals[action])
    metrics.add_metric(name="RemediationTargetsFailed", unit=MetricUnit.Count, value=len(result.failed))
    for pair in result.pairs:
        for action, name in METRIC_NAMES.items():
            if pair.counts[action]:
                with single_metric(name=name, unit=MetricUnit.Count, value=pair.counts[action]) as metric:
                    metric.add_dimension(name="AccountId", value=pair.target.account_id)
                    metric.add_dimension(name="Region", value=pair.target.region)
                    metric.add_dimension(name="DryRun", value=dry)
