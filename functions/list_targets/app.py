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
from ws_autopilot.core.targets import account_of_function_arn, plan_targets
from ws_autopilot.cost.contracts import StartRun
from ws_autopilot.cost.report_store import ReportStore
from ws_autopilot.cost.run_lock import take_lock
from ws_autopilot.cost.run_lock_store import RunLock
from ws_autopilot.cost.runs import RunStatus
from ws_autopilot.cost.settings import RunSettings

logger = Logger()
tracer = Tracer()


@cache
def settings() -> RunSettings:
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
    config = settings()
    run = {
        "run_id": request.run_id,
        "run_date": request.started_at[:10],
        "max_concurrency": config.map_concurrency,
    }
    holder = take_lock(
        lock or RunLock(config.ledger_table),
        executions or Executions(),
        request.run_id,
        request.execution_arn,
        request.started_at,
        datetime.now(UTC),
    )
    if holder is not None:
        reason = (
            f"run {holder.run_id} (started {holder.started_at}) is still in progress; "
            "this run ended at once and converted nothing"
        )
        logger.warning("run not started", extra={"run_id": request.run_id, "reason": reason})
        return {
            **run,
            "status": RunStatus.NOT_STARTED,
            "reason": reason,
            "targets_key": None,
            "results_prefix": None,
            "targets": 0,
            "skipped": 0,
        }
    accounts = list(config.member_accounts)
    if config.organization_parents:
        accounts += (organization or OrganizationAccounts()).active_accounts(
            list(config.organization_parents)
        )
    targets = plan_targets(account_of_function_arn(context.invoked_function_arn), accounts, config.regions)
    offered = set(boto3.session.Session().get_available_regions("workspaces"))
    covered = [t for t in targets if t.region in offered]
    skipped = [(t, f"WorkSpaces is not offered in {t.region}") for t in targets if t.region not in offered]
    # What the later steps check their input against, and the items of the state machine's
    # Distributed Map: the lists go to S3, whatever their length, never into the payload.
    store = store or ReportStore(config.report_bucket)
    store.write_targets(request.run_id, covered)
    store.write_skipped(request.run_id, skipped)
    logger.info(
        "run started", extra={"run_id": request.run_id, "targets": len(covered), "skipped": len(skipped)}
    )
    return {
        **run,
        "status": RunStatus.STARTED,
        "reason": "",
        "targets_key": store.targets_key(request.run_id),
        "results_prefix": store.results_prefix(request.run_id),
        "targets": len(covered),
        "skipped": len(skipped),
    }
