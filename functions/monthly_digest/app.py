"""On the 1st, sends the digest of the previous month: one message to the alert topic and one
HTML file in the report bucket. A second delivery of the same month sends nothing new."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from ws_autopilot.aws.notifications import Notifier
from ws_autopilot.digest.archive import ReportArchive
from ws_autopilot.digest.content import DigestRequest
from ws_autopilot.digest.monthly import MonthlyDigest
from ws_autopilot.digest.settings import DigestSettings

logger = Logger()
metrics = Metrics()
tracer = Tracer()
SETTINGS = (DigestSettings,)
# One record per month in the ledger table (pk DIGEST#monthly), kept past any repeat of the
# schedule's delivery; a digest that failed leaves none, so a retry sends it.
IDEMPOTENCY = IdempotencyConfig(expires_after_seconds=int(timedelta(days=45).total_seconds()))


def now() -> datetime:
    return datetime.now(UTC)


@cache
def config() -> DigestSettings:
    return DigestSettings.from_env()


@cache
def send_once() -> Callable[..., dict[str, Any]]:
    """Sends a month's digest at most once (Powertools idempotency, in the ledger table)."""
    settings = config()
    persistence = DynamoDBPersistenceLayer(
        table_name=settings.ledger_table,
        key_attr="pk",
        sort_key_attr="sk",
        static_pk_value="DIGEST#monthly",
        expiry_attr="expires_at",
    )

    # powertools declares idempotent_function as returning Any, an untyped decorator to mypy --strict.
    @idempotent_function(  # type: ignore[untyped-decorator]
        data_keyword_argument="month", config=IDEMPOTENCY, persistence_store=persistence
    )
    def send(month: str) -> dict[str, Any]:
        digest = MonthlyDigest(ReportArchive(settings.report_bucket), Notifier(settings.alert_topic_arn), now)
        return digest.send(month)

    return send  # type: ignore[no-any-return]


@logger.inject_lambda_context
@metrics.log_metrics
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = parse(event=event, model=DigestRequest)
    IDEMPOTENCY.register_lambda_context(context)
    sent: dict[str, Any] = send_once()(month=request.covered_month)
    metrics.add_metric(name="MonthlyDigests", unit=MetricUnit.Count, value=1)
    return sent
