"""Starts a run: names it and lists the WorkSpaces directories of the region."""

from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from ws_autopilot.adapters.fleet import WorkspacesFleet
from ws_autopilot.contracts import StartRun
from ws_autopilot.settings import RunSettings

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(
    event: dict[str, Any], context: LambdaContext, *, fleet: WorkspacesFleet | None = None
) -> dict[str, Any]:
    request = parse(event=event, model=StartRun)
    settings = RunSettings.from_env()
    fleet = fleet or WorkspacesFleet()
    directory_ids = fleet.directory_ids()
    logger.info("run started", extra={"run_id": request.run_id, "directories": len(directory_ids)})
    return {
        "run_id": request.run_id,
        "run_date": request.started_at[:10],
        "max_concurrency": settings.map_concurrency,
        "directories": [{"directory_id": d} for d in directory_ids],
    }
