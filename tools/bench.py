"""`make bench`: the daily optimization on simulated fleets of 1,000 to 50,000 WorkSpaces.

For each size, this process seeds the simulator (moto with the project's extensions) and serves
it on 127.0.0.1; a child process runs the state machine definition with the real handlers
against that endpoint, as Lambda would run them against AWS. So the child's numbers are the
optimizer's own: AWS calls by service and operation (counted by botocore as they are sent),
wall time with the simulator's answers taken out, CPU time, peak memory. The WorkSpaces rate
limit (2 requests per second, burst 5) and botocore's retries wait on a virtual clock; the
virtual wait is what the same run would wait in AWS.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import math
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.lambda_runtime import FakeContext, use_simulated_environment

# The month-end run (template default MonthEndScheduleExpression, cron(0 12 L * ? *)): ALWAYS_ON
# resets are decided too, and must all be made before billing renews at midnight.
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
MIDNIGHT = datetime(2026, 12, 1, tzinfo=UTC)
DEADLINE_SIZE, DEADLINE_RESETS = 50_000, 15_000  # the month-end deadline fleet (issue 8)
ACCOUNT, REGION = "123456789012", "us-east-1"
LAMBDA_SECONDS = 900
DECISION_WORK_CHECK = "decision work under 1 ms per WorkSpace"
TIMING_CHECKS = frozenset({DECISION_WORK_CHECK})  # depend on the machine and its load, not the code
# Real time for one run, inside the parent's wait for the child. 50,000 WorkSpaces on a month-end
# day took over 55 minutes on a loaded 2-core machine once right-sizing's series were read.
RUN_WAIT_SECONDS = 7000
CHILD_WAIT_SECONDS = 7200
PRICING_CALLS_TARGET = 5  # one region's WorkSpaces products, 100 a page, once a day
TOOL_REFERENCE = {"size": 1000, "conversions": 250, "workspaces_calls": 4291, "aws_calls": 11015}


def directories_for(size: int) -> int:
    return max(2, min(20, size // 5000))


# ------------------------------------------------------------------------------------------
# Parent: seed and serve the simulator, run the child, print and check the figures
# ------------------------------------------------------------------------------------------
def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000,50000")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument(
        "--counts-only",
        action="store_true",
        help="judge what the run did (calls, reports, memory), not how fast this machine did it:"
        " the timing checks are printed but do not fail the run (make test, on a shared machine)",
    )
    args = parser.parse_args(argv)
    if args.child:
        return child(args.endpoint)
    os.environ.update(
        {
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "simulated",
            "AWS_SECRET_ACCESS_KEY": "simulated",
            "AWS_SESSION_TOKEN": "simulated",
        }
    )
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        result = measure(size)
        if args.counts_only:
            result["checks_passed"] = all(
                ok for name, ok in result["checks"].items() if name not in TIMING_CHECKS
            )
        results.append(result)
        report(result, args.counts_only)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=2)
    return 0 if all(r["checks_passed"] for r in results) else 1


def measure(size: int) -> dict[str, Any]:
    import boto3
    from moto import mock_aws
    from moto.server import ThreadedMotoServer

    from tests.support import fleet, simulator

    simulator.install()
    with mock_aws():
        clients = {n: boto3.client(n, region_name=REGION) for n in ("workspaces", "cloudwatch", "ec2", "ds")}
        started = time.perf_counter()
        resets = DEADLINE_RESETS if size == DEADLINE_SIZE else 0
        seeded = fleet.seed_fleet(
            clients, ACCOUNT, REGION, NOW, size, directories_for(size), seed=11, resets=resets
        )
        seed_seconds = time.perf_counter() - started
        port = _free_port()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        simulator.CALLS.clear()
        try:
            child_run = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "tools.bench",
                    "--child",
                    "--endpoint",
                    f"http://127.0.0.1:{port}",
                ],
                capture_output=True,
                text=True,
                check=False,
                timeout=CHILD_WAIT_SECONDS,
            )
        finally:
            server.stop()
        server_calls = dict(simulator.CALLS)
    if child_run.returncode != 0:
        raise RuntimeError(f"the optimization run failed:\n{child_run.stderr[-4000:]}")
    figures = json.loads(child_run.stdout.strip().splitlines()[-1])
    figures.update(
        size=size,
        planned_resets=resets,
        directories=directories_for(size),
        seed_seconds=seed_seconds,
        server_calls={f"{s}:{o}": n for (s, o), n in server_calls.items()},
        decision_cpu_ms_per_workspace=decision_cpu_ms(seeded),
    )
    return check(figures)


def decision_cpu_ms(seeded: list[Any]) -> float:
    """CPU time of the decision work alone (billable hours and rules) per WorkSpace."""
    from tests.support.fleet import usage_series
    from ws_autopilot.core.calendar import evaluation_window
    from ws_autopilot.core.models import HourlyUsage, Workspace
    from ws_autopilot.cost.rules import evaluate

    window = evaluation_window(NOW)
    cache: dict[tuple[str, str], HourlyUsage] = {}
    items = []
    for s in seeded:
        key = (s.profile, s.running_mode)
        if key not in cache:
            cache[key] = HourlyUsage(dict(usage_series(s.profile, s.running_mode, window.start, window.end)))
        ws = Workspace(
            s.workspace_id,
            s.directory_id,
            s.user_name,
            s.state,
            s.running_mode,
            s.compute_type,
            60 if s.running_mode == "AUTO_STOP" else None,
        )
        items.append((ws, cache[key]))
    thresholds = {
        "VALUE": 81,
        "STANDARD": 85,
        "PERFORMANCE": 80,
        "POWER": 92,
        "POWERPRO": 78,
        "GRAPHICS_G4DN": 334,
    }
    started = time.process_time()
    for ws, usage in items:
        evaluate(ws, usage, thresholds, NOW)
    return (time.process_time() - started) * 1000 / len(items)


def check(f: dict[str, Any]) -> dict[str, Any]:
    ws_calls = {
        op: n for key, n in f["calls"].items() for service, op in [key.split(":")] if service == "workspaces"
    }
    conversions = f["actions"]["to_always_on"] + f["actions"]["to_auto_stop"]
    per_directory = math.ceil(f["size"] / f["directories"] / 25)
    constant_per_directory = 3
    from ws_autopilot.aws.usage import batch_size, load_per_call
    from ws_autopilot.core.calendar import is_last_day_of_month

    hours = int((NOW.replace(minute=0) - NOW.replace(day=1, hour=0, minute=0)) / timedelta(hours=1))
    # "+ 1 per directory batch": each batch of WorkSpaces read together may need one more call
    per_batch = batch_size(hours)
    batches = f["directories"] * math.ceil(f["size"] / f["directories"] / per_batch)
    # the unused check: connection status for WorkSpaces with no connection this month that
    # neither their UserConnected history nor their login records show in use, 25 per call
    status_target = math.ceil(f["unused_looked_up"] / 25) + batches
    # tags come from the tagging API (its own quota): the WorkSpaces API lists and converts only
    ws_target = f["directories"] * (per_directory + constant_per_directory) + conversions + 1 + status_target
    # + 1 per batch: the daily UserConnected history of the batch's WorkSpaces with no connection this month
    # + right-sizing on the month's last day (NOW): the CPUUsage and MemoryUsage of a batch's
    #   WorkSpaces, load_per_call of them per call (71 at 708 hours: 2 calls per batch of 125,
    #   16 per 1,000 WorkSpaces), fewer when some are not read (too little use, standby...)
    rightsizing_target = (
        batches * math.ceil(per_batch / load_per_call(hours)) if is_last_day_of_month(NOW) else 0
    )
    cw_target = math.ceil(f["size"] * hours / 100_800) + 2 * batches + rightsizing_target
    total_ws = sum(ws_calls.values())
    f.update(
        status_calls=ws_calls.get("DescribeWorkspacesConnectionStatus", 0),
        workspaces_calls=total_ws,
        workspaces_calls_target=ws_target,
        workspaces_calls_per_1000=total_ws * 1000 / f["size"],
        conversions=conversions,
        cloudwatch_calls=f["calls"].get("cloudwatch:GetMetricData", 0),
        cloudwatch_calls_target=cw_target,
        rightsizing_calls_target=rightsizing_target,
        # the ledger and the lock; the user map's one BatchWriteItem per page is checked apart
        dynamodb_calls=sum(
            n for k, n in f["calls"].items() if k.startswith("dynamodb:") and k != "dynamodb:BatchWriteItem"
        ),
        shortest_wall_seconds=total_ws / 2,
        cpu_seconds_per_1000=f["cpu_seconds"] * 1000 / f["size"],
    )
    f["checks"] = {
        "every WorkSpace reported once": f["reported"] == f["size"],
        "no part of the fleet failed": not f["failed"],
        "WorkSpaces calls within target": total_ws <= ws_target,
        "no per-WorkSpace DescribeTags": ws_calls.get("DescribeTags", 0) == 0,
        # every WorkSpace the rules judge has its tags read (Autopilot_Threshold), 100 per call
        "tagging API: 1 call per 100 WorkSpaces of a batch": f["calls"].get(
            "resource-groups-tagging-api:GetResources", 0
        )
        <= batches * math.ceil(per_batch / 100),
        "Price List: a handful of calls per run, whatever the fleet's size": f["calls"].get(
            "pricing:GetProducts", 0
        )
        <= PRICING_CALLS_TARGET,
        "CloudWatch calls within target": f["cloudwatch_calls"] <= cw_target,
        DECISION_WORK_CHECK: f["decision_cpu_ms_per_workspace"] < 1,
        "peak memory under 512 MB": f["peak_rss_mb"] < 512,
        "no per-WorkSpace STS or S3 calls": sum(
            n for k, n in f["calls"].items() if k.split(":")[0] in ("sts", "s3")
        )
        < f["size"] / 25,
        "DynamoDB: 2 per conversion, 2 per 100 WorkSpaces of a batch (ledger, logins), 2 per run": f[
            "dynamodb_calls"
        ]
        <= 2 * conversions + 2 * batches * math.ceil(per_batch / 100) + 2,
        "unused check: connection status 25 per call, only for WorkSpaces with no connection this month": ws_calls.get(
            "DescribeWorkspacesConnectionStatus", 0
        )
        <= status_target,
        "the login function's user map: 1 DynamoDB batch per page listed": f["calls"].get(
            "dynamodb:BatchWriteItem", 0
        )
        <= f["directories"] * per_directory,
        "every month-end reset made before midnight": f["last_reset_at"] is None
        or f["last_reset_at"] < MIDNIGHT.isoformat(),
    }
    if f["planned_resets"]:
        # the planned light users, plus any heavy one whose compute type's threshold is higher
        f["checks"]["the fleet's month-end resets were all made"] = (
            f["actions"]["to_auto_stop"] >= f["planned_resets"]
        )
    if f["size"] >= 50_000:
        invocations = f["invocations"].get("OptimizeDirectoryFunctionArn", 0)
        f["checks"]["completed through continuation"] = invocations > f["directories"]
    f["checks_passed"] = all(f["checks"].values())
    return f


def report(f: dict[str, Any], counts_only: bool = False) -> None:
    print(
        f"\n=== {f['size']:,} WorkSpaces in {f['directories']} directories, {NOW:%Y-%m-%d %H:%M} UTC (month end) ==="
    )
    print(f"decisions: {f['actions']}  reported: {f['reported']:,}  failed: {f['failed'] or 'none'}")
    print("AWS calls by service and operation:")
    for key, n in sorted(f["calls"].items()):
        print(f"  {key:<50}{n:>8,}")
    print(
        f"WorkSpaces API calls: {f['workspaces_calls']:,} (target <= {f['workspaces_calls_target']:,}: "
        f"ceil(N/25) + 3 per directory, 1 per conversion ({f['conversions']:,}), 1); "
        f"{f['workspaces_calls_per_1000']:.0f} per 1,000 WorkSpaces"
    )
    print(
        f"CloudWatch GetMetricData calls: {f['cloudwatch_calls']:,} (target <= {f['cloudwatch_calls_target']:,},"
        f" of which right-sizing's CPUUsage and MemoryUsage <= {f['rightsizing_calls_target']:,});"
        f" right-sizing recommendations: {f.get('rightsizing', {})}"
    )
    print(
        f"Price List GetProducts calls: {f['calls'].get('pricing:GetProducts', 0):,} "
        f"(target <= {PRICING_CALLS_TARGET}, whatever the size); tagging API GetResources calls: "
        f"{f['calls'].get('resource-groups-tagging-api:GetResources', 0):,}"
    )
    print(
        f"unused check: {f['unused_looked_up']:,} WorkSpaces with no connection this month looked up, "
        f"{f['status_calls']:,} DescribeWorkspacesConnectionStatus calls "
        f"({f['status_calls'] * 100 / max(1, f['workspaces_calls'] - f['status_calls']):.1f}% more WorkSpaces calls)"
    )
    print(
        f"shortest possible wall time at 2 WorkSpaces requests/s: {f['shortest_wall_seconds']:,.0f} s "
        f"(the run's virtual waits for the rate limit and retries: {f['virtual_wait_seconds']:,.0f} s)"
    )
    print(
        f"measured wall time {f['wall_seconds']:.1f} s, of which simulator answers {f['http_seconds']:.1f} s: "
        f"the code's own time {f['own_seconds']:.1f} s"
    )
    print(
        f"CPU: {f['cpu_seconds']:.1f} s in all, {f['cpu_seconds_per_1000']:.2f} s per 1,000 WorkSpaces; "
        f"decision work {f['decision_cpu_ms_per_workspace'] * 1000:.1f} us per WorkSpace"
    )
    print(
        f"peak memory of the optimizing process: {f['peak_rss_mb']:.0f} MB (after imports: {f['base_rss_mb']:.0f} MB)"
    )
    print(f"Lambda invocations: {f['invocations']}")
    print(
        f"Step Functions history events: the run {f['history_events']}, "
        f"the account and region's execution {f['pair_history_events']} (limit 25,000 each)"
    )
    if f["last_reset_at"]:
        last = datetime.fromisoformat(f["last_reset_at"])
        print(
            f"month-end resets: {f['actions']['to_auto_stop']:,}; run started {NOW:%H:%M} UTC, last reset made at "
            f"{last:%H:%M:%S} UTC (virtual time), {(MIDNIGHT - last) / timedelta(minutes=1):,.0f} minutes before midnight; "
            f"run finished {f['finished_at'][11:19]} UTC"
        )
    for name, ok in f["checks"].items():
        verdict = (
            "ok"
            if ok
            else "slow, not counted (--counts-only)"
            if counts_only and name in TIMING_CHECKS
            else "FAILED"
        )
        print(f"  [{verdict}] {name}")
    if f["size"] == TOOL_REFERENCE["size"]:
        print(
            f"  reference, best-known existing tool on 1,000 WorkSpaces with 250 conversions: "
            f"{TOOL_REFERENCE['workspaces_calls']:,} WorkSpaces calls, {TOOL_REFERENCE['aws_calls']:,} AWS calls"
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ------------------------------------------------------------------------------------------
# Child: the optimization itself, against the served simulator
# ------------------------------------------------------------------------------------------
def child(endpoint: str) -> int:
    # The served simulator for every service the functions call; Step Functions (the engine),
    # Lambda (the handlers it invokes) and IAM (their role) in this process, on moto's engine.
    use_simulated_environment(
        "ERROR",
        AWS_ENDPOINT_URL=endpoint,
        AWS_ENDPOINT_URL_SFN=f"https://states.{REGION}.amazonaws.com",
        AWS_ENDPOINT_URL_LAMBDA=f"https://lambda.{REGION}.amazonaws.com",
        AWS_ENDPOINT_URL_IAM="https://iam.amazonaws.com",
    )
    import boto3
    import pytest
    from moto import mock_aws

    from tests.support import step_functions

    mock_aws(config=step_functions.ENGINE).start()  # before the default session is set up: it resets it

    from tests.support.virtual_time import VirtualTime
    from tools.local_run import deployed, histories, run_daily

    boto3.setup_default_session(region_name=REGION)

    def virtual_now() -> str:
        # the run's own clock: the start plus every virtual wait (rate limit, retries)
        return (NOW + timedelta(seconds=virtual.waited - waited_before)).isoformat()

    calls: Counter[str] = Counter()
    http = {"seconds": 0.0}
    local = threading.local()

    def sent(event_name: str, **_: Any) -> None:
        _, service, operation = event_name.split(".", 2)
        calls[f"{service}:{operation}"] += 1
        local.sent_at = time.perf_counter()

    def received(**_: Any) -> None:
        http["seconds"] += time.perf_counter() - local.sent_at

    boto3.DEFAULT_SESSION.events.register("before-send", sent)
    boto3.DEFAULT_SESSION.events.register("before-parse", received)  # parsing is the code's own work
    clients = {n: boto3.client(n) for n in ("s3", "dynamodb", "sns", "sqs")}
    base_rss = _rss_mb()
    with pytest.MonkeyPatch.context() as patch:
        virtual = VirtualTime().install(patch)
        with deployed(clients, {"DryRun": "false", "LogLevel": "ERROR"}) as stack:
            calls.clear()
            http["seconds"] = 0.0

            def context_for(_function: str) -> FakeContext:
                return LambdaClock(virtual)

            waited_before = virtual.waited
            wall, cpu = time.perf_counter(), time.process_time()
            output, execution = run_daily(
                stack.state_machine,
                NOW,
                run_id="bench",
                context_factory=context_for,
                wait_limit=RUN_WAIT_SECONDS,  # 50,000 WorkSpaces take longer than a test may
            )
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            peak_rss = _rss_mb()  # the run's own peak, before the benchmark reads the report below
            finished_at = virtual_now()
            run_calls = dict(calls)  # what follows is the benchmark's own look at the results
            pair_events = [len(h) for h in histories(stack.machines["OptimizeTargetStateMachine"])]
            body = clients["s3"].get_object(Bucket=stack.refs["ReportBucket"], Key=output["report_key"])[
                "Body"
            ]
            rows = list(csv.DictReader(io.StringIO(body.read().decode())))
            resets_at = [
                item["done_at"]["S"]
                for page in clients["dynamodb"]
                .get_paginator("scan")
                .paginate(TableName=stack.refs["LedgerTable"])
                for item in page["Items"]
                if item.get("to_mode", {}).get("S") == "AUTO_STOP" and "done_at" in item
            ]
    print(
        json.dumps(
            {
                "actions": output["actions"],
                "reported": output["workspaces"],
                "failed": output["failed"],
                "calls": run_calls,
                "invocations": dict(execution.invocations),
                "history_events": len(execution.history),
                "pair_history_events": max(pair_events),
                "opted_out": sum(1 for r in rows if r["reason"] == "Skip_Convert tag"),
                # right-sizing's recommendations by compute type, e.g. "STANDARD > VALUE": 40
                "rightsizing": dict(
                    Counter(f"{r['compute_type']} > {r['rightsize_to']}" for r in rows if r["rightsize_to"])
                ),
                # every candidate of this fleet (no history, no login records) had its status asked
                "unused_looked_up": sum(1 for r in rows if r["unused_action"] or r["last_connection"]),
                "wall_seconds": wall,
                "http_seconds": http["seconds"],
                "own_seconds": wall - http["seconds"],
                "cpu_seconds": cpu,
                "virtual_wait_seconds": virtual.waited,
                "last_reset_at": max(resets_at, default=None),
                "finished_at": finished_at,
                "peak_rss_mb": peak_rss,
                "base_rss_mb": base_rss,
            }
        )
    )
    return 0


class LambdaClock(FakeContext):
    """A Lambda context whose remaining time runs on real time plus the virtual waits, so an
    invocation that would have waited on the WorkSpaces rate limit in AWS runs short as it would."""

    def __init__(self, virtual: Any) -> None:
        super().__init__()
        self._virtual = virtual
        self._start = virtual.now()  # the real clock plus the virtual waits, never a frozen one

    def get_remaining_time_in_millis(self) -> int:
        return int((LAMBDA_SECONDS - (self._virtual.now() - self._start)) * 1000)


def _rss_mb() -> float:
    """Peak resident memory of this process (VmHWM: unlike ru_maxrss, not carried over from the
    parent across exec)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
