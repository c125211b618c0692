"""Optimizes one directory until done or until the invocation's time runs short."""

from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from ws_autopilot.aws.accounts import function_sessions
from ws_autopilot.core.member_access import MemberAccess, optimizer_access
from ws_autopilot.core.models import Target
from ws_autopilot.core.settings import AccessSettings
from ws_autopilot.cost.billing import month_end_behind_schedule
from ws_autopilot.cost.contracts import OptimizeDirectoryRequest
from ws_autopilot.cost.optimizer import BatchReview, Continuation, DirectoryOptimizer, DirectoryProgress
from ws_autopilot.cost.report_store import ReportStore
from ws_autopilot.cost.settings import OptimizerSettings, UserMapSettings
from ws_autopilot.cost.wiring import DailyPass
from ws_autopilot.unused.policy import UnusedPolicy
from ws_autopilot.unused.settings import UnusedSettings
from ws_autopilot.unused.wiring import unused_review

logger = Logger()
metrics = Metrics()
tracer = Tracer()
SETTINGS = (OptimizerSettings, UnusedSettings, UserMapSettings, AccessSettings)

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


@cache
def config() -> tuple[OptimizerSettings, UnusedSettings]:
    return OptimizerSettings.from_env(), UnusedSettings.from_env()


@cache
def wiring(function_arn: str) -> DailyPass:
    """Built once per container: the member-account sessions and their rate limits carry over."""
    user_table = UserMapSettings.from_env().table_name
    return DailyPass(config()[0], function_sessions(function_arn, member_access()), user_table, now)


def member_access() -> MemberAccess:
    """What this function may do in member accounts: its running-mode changes, and the unused
    WorkSpaces' action its settings allow (none with the unused check off); only reads during a
    dry run."""
    unused = config()[1]
    return optimizer_access(
        dry_run=unused.dry_run,
        unused_action=unused.policy if unused.enabled else UnusedPolicy.REPORT,
        terminate_confirmed=unused.terminate_confirmed,
    )


def now() -> datetime:
    return datetime.now(UTC)


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(
    event: dict[str, Any], context: LambdaContext, *, optimizer: DirectoryOptimizer | None = None
) -> dict[str, Any]:
    request = parse(event=event, model=OptimizeDirectoryRequest)
    settings, unused_settings = config()
    request.check(run_targets(settings.report_bucket, request.run_id))
    if optimizer is None:
        daily = wiring(context.invoked_function_arn)
        clients = daily.clients(request.target)
        prices = daily.price_list()
        reviews: list[BatchReview] = [daily.user_map(request.target)]
        if unused_settings.enabled:  # EnableUnusedCheck
            reviews.append(unused_review(unused_settings, clients, now))
        reviews.append(daily.rightsizing(clients, prices))
        optimizer = daily.optimizer(clients, reviews, prices)
    start = request.continuation
    run_day = date.fromisoformat(request.run_date)
    progress = optimizer.run(
        run_id=request.run_id,
        run_day=run_day,
        directory_id=request.directory_id,
        time_left=lambda: context.get_remaining_time_in_millis() > SAFETY_MARGIN_MS,
        start=Continuation(start.next_token, start.sequence) if start else None,
    )
    behind = not progress.done and month_end_behind_schedule(run_day, now())
    publish(progress, optimizer, settings.dry_run, behind)
    where = {"target": str(request.target), "directory_id": request.directory_id}
    if behind:
        logger.warning(
            "month-end run still going near midnight: later month-end resets will be late", extra=where
        )
    logger.info(
        "directory batch finished", extra={**where, "done": progress.done, "counts": dict(progress.counts)}
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


def publish(progress: DirectoryProgress, optimizer: DirectoryOptimizer, dry_run: bool, behind: bool) -> None:
    """The invocation's metrics: its decisions, late resets, what each batch review counted, and
    whether a month-end run is still at work near midnight."""
    metrics.add_dimension(name="DryRun", value=str(dry_run).lower())
    metrics.add_metric(name="WorkspacesEvaluated", unit=MetricUnit.Count, value=progress.counts.total())
    for action, name in METRIC_NAMES.items():
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=progress.counts[action])
    metrics.add_metric(name="LateMonthEndConversions", unit=MetricUnit.Count, value=progress.late)
    for review in optimizer.reviews:
        for name, value in review.metrics().items():
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
    metrics.add_metric(name="MonthEndBehindSchedule", unit=MetricUnit.Count, value=int(behind))


@cache
def run_targets(bucket: str, run_id: str) -> frozenset[Target]:
    """The accounts and regions the run covers (written by ListTargets), once per container and run."""
    return ReportStore(bucket).read_targets(run_id)
