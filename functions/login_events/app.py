"""Records each WorkSpaces login (EventBridge `WorkSpaces Access`) and alerts on disallowed ones."""

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

from ws_autopilot.access_events import WorkSpacesAccessEvent, parse_access_event
from ws_autopilot.adapters.fleet import WorkspacesFleet
from ws_autopilot.adapters.logins import LoginStore
from ws_autopilot.adapters.notifications import Notifier
from ws_autopilot.errors import InvalidLoginEvent
from ws_autopilot.login_recorder import LoginRecorder, UserNameCache
from ws_autopilot.settings import LoginSettings

logger = Logger()
metrics = Metrics()
tracer = Tracer()
settings = LoginSettings.from_env()
users = UserNameCache()
# EventBridge and Lambda's async retries can deliver an event again hours later.
idempotency = IdempotencyConfig(event_key_jmespath="id", expires_after_seconds=24 * 3600)
persistence = DynamoDBPersistenceLayer(table_name=settings.idempotency_table_name)


@cache
def recorder() -> LoginRecorder:
    return LoginRecorder(
        settings,
        LoginStore(settings.table_name),
        WorkspacesFleet(),
        Notifier(settings.alert_topic_arn),
        users,
    )


# powertools declares idempotent_function as returning Any, an untyped decorator to mypy --strict;
# record_once keeps its signature at run time, and handler() types what it returns.
@idempotent_function(  # type: ignore[untyped-decorator]
    data_keyword_argument="event", config=idempotency, persistence_store=persistence
)
def record_once(event: WorkSpacesAccessEvent) -> dict[str, Any]:
    outcome = recorder().record(event)
    metrics.add_metric(name="Logins", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="LoginAlerts", unit=MetricUnit.Count, value=len(outcome.alerts))
    if not outcome.user_name_resolved:
        metrics.add_metric(name="LoginUserUnresolved", unit=MetricUnit.Count, value=1)
    with single_metric(name="LoginsByPlatform", unit=MetricUnit.Count, value=1) as by_platform:
        by_platform.add_dimension(name="Platform", value=event.detail.client_platform or "unknown")
    return outcome.to_dict()


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        login = parse_access_event(event)
    except InvalidLoginEvent as exc:
        # Raised again so that Lambda retries it and then sends it to the dead-letter queue.
        metrics.add_metric(name="MalformedLoginEvents", unit=MetricUnit.Count, value=1)
        logger.error("malformed WorkSpaces Access event", extra={"reason": exc.reason})
        raise
    idempotency.register_lambda_context(context)
    outcome: dict[str, Any] = record_once(event=login)
    return outcome
