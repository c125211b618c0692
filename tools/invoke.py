"""`make invoke FUNCTION=<name> EVENT=events/<file>.json`: one handler, one sample event, against a
seeded simulator (no AWS account, no Docker; `sam local invoke` needs Docker).

The template is deployed against the simulator as `make demo` does, a small fleet is seeded, and
the sample's placeholders are pointed at it: its directory and WorkSpace ids become seeded ones,
and a function that continues a run (ListDirectories, OptimizeDirectory, WriteReport) finds that
run started by ListTargets first, as the state machine would. The login function's deployment
covers a member account in two regions too, and a login sample's fleet is seeded in the account
and region the event comes from when they are covered: a forwarded sample is recorded with its
user name read through the member role, and a sample from elsewhere is refused. WriteReport
finds the results its sample points at, as the state machine's Distributed Map writes them. The
clock is frozen at the sample's own time, so the result does not depend on today's date. The
handler's return value is printed as JSON; a raised error is printed with its type and the exit
status is 1. A function whose return value is only the state machine's bookkeeping
(OptimizeDirectory returns where it got to: `done`, `continuation`) gets a summary of what it did
printed first, read where the run keeps it (its report part: one row per WorkSpace, counted by
action).
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from freezegun import freeze_time
from moto import mock_aws

from tests.support import fleet, simulator, step_functions
from tests.support.lambda_runtime import FakeContext, use_simulated_environment
from tests.support.virtual_time import VirtualTime
from tools.local_run import FREEZE_IGNORE, deployed, run_daily, template
from ws_autopilot.cost.report_store import ReportStore

ACCOUNT, REGION = "123456789012", "us-east-1"
DEFAULT_TIME = datetime(2026, 11, 30, 21, 5, tzinfo=UTC)
EXECUTIONS = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:autopilot-optimizer"
RUN_CONTINUED = {"list_directories", "optimize_directory", "write_report"}
# Functions that read what earlier runs left: a run on the last day of the month before the
# sample's time is made first (the monthly digest reads that month's reports).
READS_LAST_MONTH = {"monthly_digest"}
MEMBER, OTHER_REGION = "222222222222", "eu-west-1"
LOGIN_COVERAGE = {"MemberAccounts": MEMBER, "Regions": f"{REGION},{OTHER_REGION}"}
SEEDED_SERVICES = ("workspaces", "cloudwatch", "ec2", "ds")


def functions() -> dict[str, str]:
    """Function folder name -> the template's logical id."""
    return {
        str(r["Properties"]["CodeUri"]).rstrip("/").split("/")[-1]: name
        for name, r in template()["Resources"].items()
        if r["Type"] == "AWS::Serverless::Function"
    }


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--function", required=True, choices=sorted(functions()), help="functions/<name>")
    parser.add_argument(
        "--event", required=True, type=Path, help="a sample event, e.g. events/list_targets.json"
    )
    args = parser.parse_args(argv)
    if not args.event.is_file():
        parser.error(f"--event: {args.event} is not a file")
    return args


def event_time(event: dict[str, Any]) -> datetime:
    """The sample's own time: a run's start or date, a login's time, else month end."""
    for key in ("started_at", "time", "scheduled_time"):
        if isinstance(event.get(key), str):
            return datetime.fromisoformat(event[key].replace("Z", "+00:00"))
    if isinstance(event.get("run_date"), str):
        return datetime.fromisoformat(event["run_date"]).replace(hour=21, minute=5, tzinfo=UTC)
    return DEFAULT_TIME


def point_at(event: dict[str, Any], directory_id: str, workspace_id: str) -> dict[str, Any]:
    """The sample with its directory and WorkSpace ids replaced by seeded ones."""
    text = json.dumps(event)
    for placeholder in {event.get("directory_id"), (event.get("continuation") or {}).get("directory_id")}:
        if placeholder:
            text = text.replace(placeholder, directory_id)
    detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
    if isinstance(detail.get("workspaceId"), str) and detail["workspaceId"]:
        text = text.replace(detail["workspaceId"], workspace_id)
    if isinstance(detail.get("directoryId"), str) and detail["directoryId"].startswith("domain/"):
        text = text.replace(detail["directoryId"], f"domain/{directory_id}")
    return dict(json.loads(text))


def seeded_in(function: str, event: dict[str, Any]) -> tuple[str, str]:
    """Where the sample's fleet is seeded: a login event's own account and region when the
    deployment covers them, else the deployment account and region."""
    if function == "login_events":
        where = (event.get("account"), event.get("region"))
        if where in {(a, r) for a in (ACCOUNT, MEMBER) for r in (REGION, OTHER_REGION)}:
            return str(where[0]), str(where[1])
    return ACCOUNT, REGION


def write_sample_results(s3: Any, event: dict[str, Any], bucket: str) -> None:
    """What the state machine's Distributed Map would have written where the sample's results
    point: every account and region of the run finished."""
    run = {"run_id": event["run_id"], "run_date": event["run_date"]}
    children = [
        step_functions.MapChild(
            {**run, "account_id": t.account_id, "region": t.region},
            {"account_id": t.account_id, "region": t.region, "error": None, "directories": []},
        )
        for t in ReportStore(bucket).read_target_list(event["run_id"])
    ]
    details = event["results"]["ResultWriterDetails"]
    step_functions.write_map_results(
        s3, details["Bucket"], details["Key"], event["results"]["MapRunArn"], children
    )


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    use_simulated_environment("WARNING")
    event = json.loads(args.event.read_text())
    at = event_time(event)
    simulator.install()
    # The simulator answers at once; the WorkSpaces rate limits wait on a virtual clock (under
    # the frozen clock a real wait would never refill a token bucket).
    with mock_aws(config=step_functions.ENGINE), pytest.MonkeyPatch.context() as patch:
        VirtualTime().install(patch)
        clients = {
            n: boto3.client(n, region_name=REGION)
            for n in (
                "workspaces",
                "cloudwatch",
                "ec2",
                "ds",
                "s3",
                "dynamodb",
                "sns",
                "sqs",
                "stepfunctions",
            )
        }
        last_month = at.replace(day=1, hour=21, minute=5, second=0, microsecond=0) - timedelta(days=1)
        seed_at = last_month if args.function in READS_LAST_MONTH else at
        account, region = seeded_in(args.function, event)
        seeded = fleet.seed_fleet(
            fleet.clients_in(account, ACCOUNT, region, SEEDED_SERVICES),
            account,
            region,
            seed_at,
            size=30,
            directories=1,
            seed=3,
        )
        overrides = {"DryRun": "true", "LogLevel": "WARNING"}
        if args.function == "login_events":
            overrides.update(LOGIN_COVERAGE)
        with deployed(clients, overrides) as stack:
            if args.function in READS_LAST_MONTH:
                run_daily(stack.state_machine, last_month)
            handler = stack.handlers[functions()[args.function]]
            event = point_at(event, seeded[0].directory_id, seeded[0].workspace_id)
            with freeze_time(at, ignore=FREEZE_IGNORE):
                if args.function in RUN_CONTINUED:
                    start = {
                        "run_id": event["run_id"],
                        "execution_arn": f"{EXECUTIONS}:{event['run_id']}",
                        "started_at": at.isoformat().replace("+00:00", "Z"),
                    }
                    stack.handlers["ListTargetsFunction"](start, FakeContext())
                if args.function == "write_report":
                    write_sample_results(clients["s3"], event, stack.refs["ReportBucket"])
                try:
                    result = handler(event, FakeContext())
                except Exception as exc:
                    traceback.print_exc(limit=1)
                    print(json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}, indent=2))
                    return 1
                if args.function == "optimize_directory":
                    print(directory_summary(stack.refs["ReportBucket"], event))
    print(json.dumps(result, indent=2, default=str))
    return 0


def directory_summary(bucket: str, event: dict[str, Any]) -> str:
    """What an OptimizeDirectory invocation did, from the report part it wrote: its WorkSpaces
    counted by action (the rows WriteReport merges into the run's CSV report)."""
    rows = [
        r for r in ReportStore(bucket).read_parts(event["run_id"]) if r.directory_id == event["directory_id"]
    ]
    actions = Counter(r.action for r in rows)
    listed = ", ".join(f"{n} {action}" for action, n in actions.most_common()) or "none"
    return f"directory {event['directory_id']}: {len(rows)} WorkSpaces in its report part ({listed})"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
