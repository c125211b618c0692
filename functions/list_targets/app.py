"""Starts a run: names it and lists the accounts and regions it covers."""

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from ws_autopilot.adapters.organization import OrganizationAccounts
from ws_autopilot.contracts import StartRun
from ws_autopilot.settings import RunSettings
from ws_autopilot.targets import account_of_function_arn, plan_targets

logger = Logger()
tracer = Tracer()


@cache
def settings() -> RunSettings:
    return RunSettings.from_env()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(
    event: dict[str, Any], context: LambdaContext, *, organization: OrganizationAccounts | None = None
) -> dict[str, Any]:
    request = parse(event=event, model=StartRun)
    config = settings()
    accounts = list(config.member_accounts)
    if config.organization_parents:
        accounts += (organization or OrganizationAccounts()).active_accounts(
            list(config.organization_parents)
        )
    targets = plan_targets(account_of_function_arn(context.invoked_function_arn), accounts, config.regions)
    offered = set(boto3.session.Session().get_available_regions("workspaces"))
    logger.info("run started", extra={"run_id": request.run_id, "targets": [str(t) for t in targets]})
    return {
        "run_id": request.run_id,
        "run_date": request.started_at[:10],
        "max_concurrency": config.map_concurrency,
        "targets": [{"account_id": t.account_id, "region": t.region} for t in targets if t.region in offered],
        "skipped": [
            {
                "account_id": t.account_id,
                "region": t.region,
                "error": f"WorkSpaces is not offered in {t.region}",
            }
            for t in targets
            if t.region not in offered
        ],
    }
