"""Starts a run: takes the one-run-at-a-time lock, names the run and lists the accounts and
regions it covers. A run that finds another one in progress ends at once, converting nothing."""

from datetime import UTC, datetime
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from ws_autopilot.aws.executions import Executions
from ws_autopilot.aws.organization import OrganizationAccounts
from ws_autopilot.core.targets import account_of_function_arn
from ws_autopilot.cost.contracts import StartRun
from ws_autopilot.cost.report_store import ReportStore
from ws_autopilot.cost.run_lock_store import RunLock
from ws_autopilot.cost.run_steps import RunStart
from ws_autopilot.cost.settings import RunSettings

logger = Logger()
tracer = Tracer()
SETTINGS = (RunSettings,)


@cache
def config() -> RunSettings:
    return RunSettings.from_env()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(
    event: dict[str, Any],
    context: LambdaContext,
    *,
    organization: OrganizationAccounts | None = None,
    lock: RunLock | None = None,
    executions: Executions | None = None,
    store: ReportStore | None = None,
) -> dict[str, Any]:
    request = parse(event=event, model=StartRun)
    settings = config()
    start = RunStart(
        settings,
        lock or RunLock(settings.ledger_table),
        executions or Executions(),
        organization or OrganizationAccounts(),
        store or ReportStore(settings.report_bucket),
        boto3.session.Session().get_available_regions("workspaces"),
    )
    return start.start(request, account_of_function_arn(context.invoked_function_arn), datetime.now(UTC))
