"""Lists the WorkSpaces directories of one account and region; a region or account that
cannot be read (WorkSpaces not offered, access denied by a service control policy) is reported,
not raised, so the other ones go on."""

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.utilities.parser import parse
from aws_lambda_powertools.utilities.typing import LambdaContext

from ws_autopilot.aws.accounts import AccountSessions, function_sessions
from ws_autopilot.aws.fleet import WorkspacesFleet
from ws_autopilot.core.errors import PermanentAwsError
from ws_autopilot.core.member_access import MemberAccess, MemberFunction, read_only
from ws_autopilot.core.models import Target
from ws_autopilot.core.settings import AccessSettings
from ws_autopilot.cost.contracts import ListDirectoriesRequest, check_covered
from ws_autopilot.cost.report_store import ReportStore
from ws_autopilot.cost.settings import DirectorySettings

logger = Logger()
tracer = Tracer()
SETTINGS = (DirectorySettings, AccessSettings)


@cache
def config() -> DirectorySettings:
    return DirectorySettings.from_env()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(
    event: dict[str, Any], context: LambdaContext, *, sessions: AccountSessions | None = None
) -> dict[str, Any]:
    request = parse(event=event, model=ListDirectoriesRequest)
    check_covered(request.target, run_targets(config().report_bucket, request.run_id))
    where = sessions or function_sessions(context.invoked_function_arn, member_access())
    result: dict[str, Any] = {**request.model_dump(), "directories": [], "error": None}
    try:
        directory_ids = WorkspacesFleet(where.client("workspaces", request.target)).directory_ids()
    except PermanentAwsError as exc:
        logger.warning("account/region skipped", extra={"target": str(request.target), "error": str(exc)})
        return {**result, "error": f"{exc.operation} failed: {exc.error_code}"}
    logger.info(
        "directories listed", extra={"target": str(request.target), "directories": len(directory_ids)}
    )
    return {**result, "directories": [{"directory_id": d} for d in directory_ids]}


def member_access() -> MemberAccess:
    """This function only lists directories in member accounts."""
    return read_only(MemberFunction.LIST_DIRECTORIES)


@cache
def run_targets(bucket: str, run_id: str) -> frozenset[Target]:
    """The accounts and regions the run covers (written by ListTargets), once per container and run."""
    return ReportStore(bucket).read_targets(run_id)
