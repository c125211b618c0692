"""Records each WorkSpaces login (EventBridge `WorkSpaces Access`, from every covered account and
region) and alerts on disallowed ones."""

from datetime import UTC, datetime
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from ws_autopilot.aws.accounts import function_sessions
from ws_autopilot.aws.fleet import WorkspacesFleet
from ws_autopilot.aws.notifications import Notifier
from ws_autopilot.aws.organization import OrganizationAccounts
from ws_autopilot.aws.workspace_users import WorkspaceUserMap
from ws_autopilot.core.errors import InvalidLoginEvent, UncoveredLoginEvent
from ws_autopilot.core.models import Target
from ws_autopilot.core.targets import account_of_function_arn
from ws_autopilot.logins.events import WorkSpacesAccessEvent, parse_access_event
from ws_autopilot.logins.lookup_budget import LookupBudget
from ws_autopilot.logins.recorder import LoginRecorder
from ws_autopilot.logins.settings import LoginSettings
from ws_autopilot.logins.sources import LoginSources
from ws_autopilot.logins.store import LoginStore
from ws_autopilot.logins.user_names import UserNameCache, UserNames

logger = Logger()
metrics = Metrics()
tracer = Tracer()
settings = LoginSettings.from_env()
users = UserNameCache()
# EventBridge and Lambda's async retries can deliver an event again hours later.
idempotency = IdempotencyConfig(event_key_jmespath="id", expires_after_seconds=24 * 3600)
persistence = DynamoDBPersistenceLayer(table_name=settings.idempotency_table_name)


def now() -> datetime:
    return datetime.now(UTC)


@cache
def sources(function_arn: str) -> LoginSources:
    return LoginSources(settings.coverage, account_of_function_arn(function_arn), OrganizationAccounts, now)


@cache
def recorder(function_arn: str) -> LoginRecorder:
    sessions = function_sessions(function_arn)  # member roles, and the optimizer's rate limit
    store = LoginStore(settings.table_name)

    def fleet_for(target: Target) -> WorkspacesFleet:
        return WorkspacesFleet(sessions.client("workspaces", target))

    names = UserNames(
        WorkspaceUserMap(settings.user_table_name, clock=now),
        LookupBudget(settings.user_table_name, settings.lookups_per_minute, clock=now),
        store,
        fleet_for,
        users,
    )
    return LoginRecorder(settings, store, names, Notifier(settings.alert_topic_arn), now)


# powertools declares idempotent_function as returning Any, an untyped decorator to mypy --strict;
# record_once keeps its signature at run time, and handler() types what it returns.
@idempotent_function(  # type: ignore[untyped-decorator]
    data_keyword_argument="event", config=idempotency, persistence_store=persistence
)
def record_once(event: WorkSpacesAccessEvent, function_arn: str) -> dict[str, Any]:
    outcome = recorder(function_arn).record(event)
    metrics.add_metric(name="Logins", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="LoginAlerts", unit=MetricUnit.Count, value=len(outcome.alerts))
    if not outcome.user_name_resolved:
        metrics.add_metric(name="LoginUserUnresolved", unit=MetricUnit.Count, value=1)
    with single_metric(name="LoginsByPlatform", unit=MetricUnit.Count, value=1) as by_platform:
        by_platform.add_dimension(name="Platform", value=event.detail.client_platform or "unknown")
    with single_metric(name="LoginsByAccountRegion", unit=MetricUnit.Count, value=1) as by_target:
        by_target.add_dimension(name="AccountId", value=outcome.account_id)
        by_target.add_dimension(name="Region", value=outcome.region)
    return outcome.to_dict()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # Both refusals are raised, so that Lambda retries the event and then sends it to the
    # dead-letter queue: a person sees it, and can send it again once the cause is fixed.
    try:
        login = parse_access_event(event)
    except InvalidLoginEvent as exc:
        metrics.add_metric(name="MalformedLoginEvents", unit=MetricUnit.Count, value=1)
        logger.error("malformed WorkSpaces Access event", extra={"reason": exc.reason})
        raise
    try:
        sources(context.invoked_function_arn).check(login.account, login.region)
    except UncoveredLoginEvent as exc:
        metrics.add_metric(name="RejectedLoginEvents", unit=MetricUnit.Count, value=1)
        logger.error(
            "WorkSpaces Access event from an account or region this deployment does not cover",
            extra={
                "event_id": login.id,
                "account_id": exc.account_id,
                "region": exc.region,
                "reason": exc.reason,
            },
        )
        raise
    idempotency.register_lambda_context(context)
    outcome: dict[str, Any] = record_once(event=login, function_arn=context.invoked_function_arn)
    return outcome
