"""Optimizes one directory until done or until the invocation's time runs short."""

from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from ws_autopilot.adapters.accounts import function_sessions
from ws_autopilot.adapters.fleet import WorkspacesFleet
from ws_autopilot.adapters.ledger import ConversionLedger
from ws_autopilot.adapters.logins import LoginStore
from ws_autopilot.adapters.notifications import Notifier
from ws_autopilot.adapters.pricing import PriceList
from ws_autopilot.adapters.reports import ReportStore
from ws_autopilot.adapters.tags import WorkspaceTags
from ws_autopilot.adapters.unused_ledger import UnusedLedger
from ws_autopilot.adapters.unused_workspaces import UnusedWorkspacesApi
from ws_autopilot.adapters.usage import UsageMetrics
from ws_autopilot.adapters.workspace_users import WorkspaceUserMap
from ws_autopilot.billing import month_end_behind_schedule
from ws_autopilot.contracts import OptimizeDirectoryRequest
from ws_autopilot.models import Target
from ws_autopilot.optimizer import Continuation, DirectoryOptimizer
from ws_autopilot.settings import OptimizerSettings, UnusedSettings, UserMapSettings, known_compute_types
from ws_autopilot.unused_actor import UnusedActor
from ws_autopilot.unused_review import EvidenceReader, UnusedReview

logger = Logger()
metrics = Metrics()
tracer = Tracer()

# Stop starting new batches when less than this is left: a batch of up to 500 WorkSpaces with
# its tag reads and conversions fits well inside it at the WorkSpaces API's 2 requests per second.
SAFETY_MARGIN_MS = 240_000
METRIC_NAMES = {
    "to_always_on": "ConversionsToAlwaysOn",
    "to_auto_stop": "ConversionsToAutoStop",
    "skipped": "Skipped",
    "error": "Errors",
    "none": "Unchanged",
}


UNUSED_METRICS = {  # unused_action's first word -> metric
    "reported": "UnusedReported",
    "stopped": "UnusedStopped",
    "terminated": "UnusedTerminated",
    "would": "UnusedActionsDryRun",
    "held": "UnusedHeld",
    "failed": "UnusedActionsFailed",
    "unknown": "UnusedUnknown",
}


@cache
def settings() -> OptimizerSettings:
    return OptimizerSettings.from_env()


@cache
def unused_settings() -> UnusedSettings:
    return UnusedSettings.from_env()


def now() -> datetime:
    return datetime.now(UTC)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(
    event: dict[str, Any], context: LambdaContext, *, optimizer: DirectoryOptimizer | None = None
) -> dict[str, Any]:
    request = parse(event=event, model=OptimizeDirectoryRequest)
    config = settings()
    request.check(run_targets(config.report_bucket, request.run_id))
    if optimizer is None:
        where = function_sessions(context.invoked_function_arn)
        fleet = WorkspacesFleet(where.client("workspaces", request.target))
        usage = UsageMetrics(where.client("cloudwatch", request.target))
        tags = WorkspaceTags(request.target, fleet, where.client("resourcegroupstaggingapi", request.target))
        optimizer = DirectoryOptimizer(
            config,
            fleet,
            usage,
            ReportStore(config.report_bucket),
            ConversionLedger(config.ledger_table),
            tags,
            request.target,
            clock=now,
            prices=PriceList(config.report_bucket, known_compute_types()),
            unused=unused_review(where.client("workspaces", request.target), usage, tags, request.target),
            users=WorkspaceUserMap(UserMapSettings.from_env().table_name, clock=now),
        )
    start = request.continuation
    run_day = date.fromisoformat(request.run_date)
    progress = optimizer.run(
        run_id=request.run_id,
        run_day=run_day,
        directory_id=request.directory_id,
        time_left=lambda: context.get_remaining_time_in_millis() > SAFETY_MARGIN_MS,
        start=Continuation(start.next_token, start.sequence) if start else None,
    )
    metrics.add_dimension(name="DryRun", value=str(config.dry_run).lower())
    metrics.add_metric(name="WorkspacesEvaluated", unit=MetricUnit.Count, value=progress.counts.total())
    for action, name in METRIC_NAMES.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=progress.counts[action])
    metrics.add_metric(name="LateMonthEndConversions", unit=MetricUnit.Count, value=progress.late)
    if optimizer.unused is not None:
        for word, name in UNUSED_METRICS.items():
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=optimizer.unused.counts[word])
    behind = not progress.done and month_end_behind_schedule(run_day, now())
    if behind:
        logger.warning(
            "month-end run still going near midnight: later month-end resets will be late",
            extra={"target": str(request.target), "directory_id": request.directory_id},
        )
    metrics.add_metric(name="MonthEndBehindSchedule", unit=MetricUnit.Count, value=int(behind))
    logger.info(
        "directory batch finished",
        extra={
            "target": str(request.target),
            "directory_id": request.directory_id,
            "done": progress.done,
            "counts": dict(progress.counts),
        },
    )
    position = progress.continuation
    return {
        **request.model_dump(exclude={"continuation"}),
        "done": progress.done,
        "continuation": None
        if position is None
        else {
            "directory_id": request.directory_id,
            "next_token": position.next_token,
            "sequence": position.sequence,
        },
    }


def unused_review(
    workspaces_client: Any, usage: UsageMetrics, tags: WorkspaceTags, target: Target
) -> UnusedReview:
    """The unused check of one account and region; its WorkSpaces client shares the target's
    rate limit with the optimizer's."""
    config = unused_settings()
    api = UnusedWorkspacesApi(workspaces_client)
    actor = UnusedActor(
        config, api, UnusedLedger(config.ledger_table), tags, Notifier(config.alert_topic_arn), target, now
    )
    return UnusedReview(config, EvidenceReader(usage, LoginStore(config.login_table), api, target), actor)


@cache
def run_targets(bucket: str, run_id: str) -> frozenset[Target]:
    """The accounts and regions the run covers (written by ListTargets), once per container and run."""
    return ReportStore(bucket).read_targets(run_id)
