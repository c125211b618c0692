"""Records each WorkSpaces login (EventBridge `WorkSpaces Access`, from every covered account and
region) and alerts on disallowed ones."""

from collections.abc import Callable
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
from ws_autopilot.core.errors import InvalidLoginEvent, UncoveredLoginEvent
from ws_autopilot.core.member_access import MemberAccess, MemberFunction, read_only
from ws_autopilot.core.settings import AccessSettings
from ws_autopilot.logins.events import WorkSpacesAccessEvent, parse_access_event
from ws_autopilot.logins.inputs import platform_of
from ws_autopilot.logins.recorder import LoginOutcome
from ws_autopilot.logins.settings import LoginSettings
from ws_autopilot.logins.user_names import UserNameCache
from ws_autopilot.logins.wiring import LoginWiring

logger = Logger()
metrics = Metrics()
tracer = Tracer()
SETTINGS = (LoginSettings, AccessSettings)
# EventBridge and Lambda's async retries can deliver an event again hours later.
IDEMPOTENCY = IdempotencyConfig(event_key_jmespath="id", expires_after_seconds=24 * 3600)
USERS = UserNameCache()  # user names looked up, kept for the container's life


def now() -> datetime:
    return datetime.now(UTC)


@cache
def config() -> LoginSettings:
    return LoginSettings.from_env()


@cache
def wiring(function_arn: str) -> LoginWiring:
    """Built once per container: member sessions (and the optimizer's rate limit), the stores."""
    return LoginWiring(config(), function_arn, function_sessions(function_arn, member_access()), USERS, now)


def member_access() -> MemberAccess:
    """This function only reads in member accounts (a WorkSpace's user name), whatever DryRun says."""
    return read_only(MemberFunction.LOGIN_EVENTS)


@cache
def record_once() -> Callable[..., dict[str, Any]]:
    """Records an event at most once per event id (Powertools idempotency, in its own table)."""
    persistence = DynamoDBPersistenceLayer(table_name=config().idempotency_table_name)

    # powertools declares idempotent_function as returning Any, an untyped decorator to mypy --strict;
    # record keeps its signature at run time, and handler() types what it returns.
    @idempotent_function(  # type: ignore[untyped-decorator]
        data_keyword_argument="event", config=IDEMPOTENCY, persistence_store=persistence
    )
    def record(event: WorkSpacesAccessEvent, function_arn: str) -> dict[str, Any]:
        outcome = wiring(function_arn).recorder.record(event)
        publish(event, outcome)
        return outcome.to_dict()

    return record  # type: ignore[no-any-return]


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
        wiring(context.invoked_function_arn).sources.check(login.account, login.region)
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
    IDEMPOTENCY.register_lambda_context(context)
    outcome: dict[str, Any] = record_once()(event=login, function_arn=context.invoked_function_arn)
    return outcome


def publish(event: WorkSpacesAccessEvent, outcome: LoginOutcome) -> None:
    metrics.add_metric(name="Logins", unit=MetricUnit.Count, value=1)
    held = len(outcome.held_back)
    metrics.add_metric(name="LoginAlerts", unit=MetricUnit.Count, value=len(outcome.alerts) - held)
    metrics.add_metric(name="LoginAlertsHeldBack", unit=MetricUnit.Count, value=held)
    if not outcome.user_name_resolved:
        metrics.add_metric(name="LoginUserUnresolved", unit=MetricUnit.Count, value=1)
    with single_metric(name="LoginsByPlatform", unit=MetricUnit.Count, value=1) as by_platform:
        # one of the documented platforms or `other`: each new dimension value is a paid metric
        by_platform.add_dimension(name="Platform", value=platform_of(event.detail.client_platform).value)
    with single_metric(name="LoginsByAccountRegion", unit=MetricUnit.Count, value=1) as by_target:
        by_target.add_dimension(name="AccountId", value=outcome.account_id)
        by_target.add_dimension(name="Region", value=outcome.region)
