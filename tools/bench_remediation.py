"""`make bench-remediation`: remediation scans of many accounts and regions (default 20 accounts
x 10 regions = 200 pairs).

The simulator (moto plus the project's extensions, in this process) is seeded with one directory
per pair; the real Remediate handler, deployed from template.yaml as `make demo` does, then runs
three scans: the quiet fleet, the first scan of an incident (UNHEALTHY WorkSpaces in some pairs,
one of them a directory of 2,000 WorkSpaces), and the scan 30 minutes later that reboots, up to
the per-scan cap. For each scan it prints the AWS calls by service and operation and per pair,
the code's measured time and memory here, and the time the scan would take in AWS.

That time is modelled from the calls each pair made, because the simulator answers at once: a
pair's calls go one after another, each taking `--latency-ms`, and its WorkSpaces calls wait for
tokens of its own bucket (RemediationApiRate, burst 2); the pairs run on the handler's workers
(16), in the order the scan starts them. Here the scan runs on one worker: the rate limiter and
botocore wait on a virtual clock shared by every thread, so only then do the calls' (virtual)
times show each pair's own waits, and the per-pair rate is checked on them. Peak memory is this
whole process's, the simulator and its fleet included; "memory the scan kept" is its growth
over one scan (the first one creates every pair's clients).
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import os
import random
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.support.lambda_runtime import FakeContext, use_simulated_environment

HOME = "123456789012"
REGIONS = [
    "us-east-1",
    "eu-west-1",
    "us-west-2",
    "eu-central-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "ca-central-1",
    "eu-west-2",
    "ap-south-1",
    "sa-east-1",
]
T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
SCHEDULE_SECONDS = 15 * 60
LAMBDA_TIMEOUT_SECONDS, SAFETY_MARGIN_SECONDS = 600, 60
API_BURST = 2
# The real clocks, whatever is frozen later: freezegun swaps module attributes that *are* the
# time functions, so they are kept inside a tuple it does not look into.
_CLOCKS = (time.perf_counter, time.process_time)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, default=20, help="accounts (the deployment account first)")
    parser.add_argument("--regions", type=int, default=10, help=f"regions, at most {len(REGIONS)}")
    parser.add_argument("--workspaces", type=int, default=40, help="WorkSpaces per pair")
    parser.add_argument("--incident-pairs", type=int, default=20, help="pairs with UNHEALTHY WorkSpaces")
    parser.add_argument("--unhealthy", type=int, default=2, help="UNHEALTHY WorkSpaces in each of them")
    parser.add_argument("--big", type=int, default=2000, help="WorkSpaces in the one big incident directory")
    parser.add_argument("--latency-ms", type=float, default=150, help="one AWS call's round trip, modelled")
    parser.add_argument("--rate", default="0.5", help="RemediationApiRate")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    if not 1 <= args.regions <= len(REGIONS):
        parser.error(f"--regions must be from 1 to {len(REGIONS)}")
    use_simulated_environment("ERROR")
    figures = run(args)
    report(figures)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(figures, out, indent=2, default=str)
    return 0 if all(all(s["checks"].values()) for s in figures["scans"]) else 1


def run(args: argparse.Namespace) -> dict[str, Any]:
    import boto3
    import pytest
    from freezegun import freeze_time
    from moto import mock_aws

    from tests.support import simulator
    from tests.support.virtual_time import VirtualTime
    from tools.local_run import FREEZE_IGNORE, deployed

    simulator.install()
    accounts = [HOME] + [f"{210000000000 + n:012d}" for n in range(1, args.accounts)]
    regions = REGIONS[: args.regions]
    pairs = [(a, r) for a in accounts for r in regions]
    with mock_aws(), pytest.MonkeyPatch.context() as patch:
        virtual = VirtualTime().install(patch)
        home = {n: boto3.client(n, region_name=REGIONS[0]) for n in ("dynamodb", "sns", "sqs", "s3")}
        started = _CLOCKS[0]()
        seeded = {pair: seed(*pair, args.workspaces) for pair in pairs}
        chosen = random.Random(7).sample(pairs, min(len(pairs), args.incident_pairs + 1))
        big_pair, sick = chosen[0], chosen[1:]
        big = seed(*big_pair, args.big)
        seed_seconds = _CLOCKS[0]() - started
        inbox = subscribe(home)
        overrides = {
            "DryRun": "false",
            "Remediation": "On",
            "LogLevel": "ERROR",
            "Regions": ",".join(regions),
            "MemberAccounts": ",".join(accounts[1:]),
            "RemediationApiRate": args.rate,
        }
        with deployed(home, overrides) as stack:
            home["sns"].subscribe(TopicArn=stack.refs["AlertTopic"], Protocol="sqs", Endpoint=inbox[1])
            handler = stack.handlers["RemediateFunction"]
            # One worker here: the virtual clock is shared by every thread, so only then do the
            # calls' times show each pair's own waits; the model puts the pairs on 16 workers.
            patch.setattr(sys.modules[handler.__module__], "WORKERS", 1)
            scans = []
            for label, at in (
                ("quiet fleet", T0 - timedelta(minutes=30)),
                ("incident, first seen", T0),
                ("incident, 30 min later", T0 + timedelta(minutes=30)),
            ):
                if label == "incident, first seen":
                    for pair in sick:
                        unhealthy(pair, seeded[pair], args.unhealthy, at)
                    unhealthy(big_pair, big, 30, at)
                first_log, calls_before = len(simulator.CALL_LOG), Counter(simulator.CALLS)
                rss_before = rss_mb("VmRSS")
                wall, cpu = _CLOCKS[0](), _CLOCKS[1]()
                with freeze_time(at, ignore=FREEZE_IGNORE):
                    result = handler({}, FakeContext(remaining_ms=[LAMBDA_TIMEOUT_SECONDS * 1000]))
                    wall, cpu = _CLOCKS[0]() - wall, _CLOCKS[1]() - cpu
                    grown = rss_mb("VmRSS") - rss_before
                    calls = Counter(simulator.CALLS)
                    calls.subtract(calls_before)
                    log = simulator.CALL_LOG[first_log:]
                    alerts = drain(home["sqs"], inbox[0])  # the benchmark's own calls, not counted
                scans.append(
                    measure(
                        label,
                        result,
                        {f"{s}:{o}": n for (s, o), n in calls.items() if n},
                        log,
                        alerts,
                        wall,
                        cpu,
                        args,
                    )
                    | {"rss_growth_mb": grown}
                )
    return {
        "pairs": len(pairs),
        "accounts": len(accounts),
        "regions": len(regions),
        "workspaces": len(pairs) * args.workspaces + args.big,
        "incident_pairs": len(sick) + 1,
        "big": args.big,
        "seed_seconds": seed_seconds,
        "virtual_wait_seconds": virtual.waited,
        "peak_rss_mb": rss_mb("VmHWM"),
        "latency_ms": args.latency_ms,
        "rate": float(args.rate),
        "scans": scans,
        "parameters": fleet_parameters(),
    }


def fleet_parameters() -> dict[str, str]:
    from tools.local_run import parameter_defaults

    defaults = parameter_defaults()
    return {k: defaults[k] for k in ("MaxRebootsPerRun", "UnhealthyGraceMinutes", "RemediationSchedule")}


def seed(account: str, region: str, size: int) -> tuple[str, list[str]]:
    from tests.support import fleet

    clients = fleet.clients_in(account, HOME, region, ("workspaces", "cloudwatch", "ec2", "ds"))
    directory_id = fleet.create_directory(clients, f"corp{size}")
    specs = [
        {"user": f"u{n:05d}", "compute_type": "STANDARD", "running_mode": "AUTO_STOP"} for n in range(size)
    ]
    return directory_id, fleet.create_workspaces(clients, directory_id, specs)


def unhealthy(pair: tuple[str, str], seeded: tuple[str, list[str]], count: int, at: datetime) -> None:
    from tests.support import fleet, simulator

    directory_id, ids = seeded
    for workspace_id in ids[:count]:
        simulator.set_state(*pair, workspace_id, "UNHEALTHY")
    fleet.report_unhealthy(*pair, directory_id, count, at - timedelta(minutes=5))


def subscribe(home: dict[str, Any]) -> tuple[str, str]:
    url = home["sqs"].create_queue(QueueName="bench-alerts")["QueueUrl"]
    arn = home["sqs"].get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return url, arn


def drain(sqs: Any, url: str) -> list[str]:
    kinds = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            kinds.append(json.loads(message["Body"])["MessageAttributes"]["alert_type"]["Value"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return kinds


# ------------------------------------------------------------------------------------------
# The model of a scan's time in AWS, and the checks
# ------------------------------------------------------------------------------------------
def bucket_seconds(calls: int, rate: float, burst: int, latency: float) -> float:
    """Sequential calls through a token bucket, each taking `latency` once sent."""
    now, tokens, last = 0.0, float(burst), 0.0
    for _ in range(calls):
        tokens, last = min(burst, tokens + (now - last) * rate), now
        if tokens < 1:
            now += (1 - tokens) / rate
            tokens, last = 1.0, now
        tokens -= 1
        now += latency
    return now


def makespan(durations: list[float], workers: int) -> float:
    """Items started in order, each on the first worker free (as ThreadPoolExecutor.map does)."""
    free = [0.0] * workers
    for duration in durations:
        heapq.heappush(free, heapq.heappop(free) + duration)
    return max(free, default=0.0)


def max_rate_excess(times: list[float], rate: float, burst: int) -> float:
    """How far the busiest stretch of calls goes past what rate and burst allow (<= 0: within)."""
    times = sorted(times)
    worst = -math.inf
    for i in range(len(times)):
        for j in range(i, len(times)):
            worst = max(worst, (j - i + 1) - (burst + rate * (times[j] - times[i])))
    return worst


def measure(
    label: str,
    result: dict[str, Any],
    calls: dict[str, int],
    log: list[Any],
    alerts: list[str],
    wall: float,
    cpu: float,
    args: argparse.Namespace,
) -> dict[str, Any]:
    from ws_autopilot.remediation.scan import WORKERS

    latency, rate = args.latency_ms / 1000, float(args.rate)
    per_pair: dict[str, Counter[str]] = defaultdict(Counter)
    ws_times: dict[str, list[float]] = defaultdict(list)
    for call in log:
        if call.service in ("workspaces", "cloudwatch", "sts"):
            per_pair[f"{call.account}/{call.region}"][call.service] += 1
        if call.service == "workspaces":
            ws_times[f"{call.account}/{call.region}"].append(call.at)
    outcomes: Counter[str] = Counter(f"{o['account_id']}/{o['region']}" for o in result["outcomes"])
    durations = []
    for target in result["targets"]:
        counts = per_pair[target]
        durations.append(
            bucket_seconds(counts["workspaces"], rate, API_BURST, latency)
            + (counts["cloudwatch"] + counts["sts"]) * latency
            + 2 * outcomes[target] * latency  # a conditional write and an alert per outcome, at most
        )
    shared = (calls.get("dynamodb:Scan", 0) + 1) * latency  # the records, then the reboot-limit message
    modelled = shared + makespan(durations, WORKERS)
    sequential = shared + sum(durations)
    ws_per_pair = sorted(c["workspaces"] for c in per_pair.values())
    quiet = [per_pair[t] for t in result["targets"] if outcomes[t] == 0]
    reboots = result["counts"].get("reboot", 0)
    figures = {
        "label": label,
        "counts": result["counts"],
        "failed": result["failed"],
        "calls": calls,
        "aws_calls": sum(calls.values()),
        "workspaces_calls": sum(n for k, n in calls.items() if k.startswith("workspaces:")),
        "workspaces_calls_per_pair_max": ws_per_pair[-1] if ws_per_pair else 0,
        "workspaces_calls_per_quiet_pair_max": max((c["workspaces"] for c in quiet), default=0),
        "cloudwatch_calls_per_pair_max": max((c["cloudwatch"] for c in per_pair.values()), default=0),
        "alerts": dict(Counter(alerts)),
        "slowest_pair_seconds": max(durations, default=0.0),
        "modelled_seconds": modelled,
        "modelled_sequential_seconds": sequential,
        "wall_seconds": wall,
        "cpu_seconds": cpu,
        "quiet_pair_ws_rate": max((c["workspaces"] for c in quiet), default=0) / SCHEDULE_SECONDS,
    }
    figures["checks"] = {
        "every pair scanned": not result["failed"] and not result["unfinished"],
        "within the schedule interval (modelled)": modelled <= SCHEDULE_SECONDS,
        "within the Lambda timeout less the safety margin (modelled)": modelled
        <= LAMBDA_TIMEOUT_SECONDS - SAFETY_MARGIN_SECONDS,
        "a quiet pair costs 1 WorkSpaces call": figures["workspaces_calls_per_quiet_pair_max"] <= 1,
        "1 GetMetricData per pair": figures["cloudwatch_calls_per_pair_max"] <= 1,
        "the records table read once": calls.get("dynamodb:Scan", 0) == 1,
        "each pair within RemediationApiRate": all(
            max_rate_excess(times, rate, API_BURST) <= 0.01 for times in ws_times.values()
        ),
        "at most MaxRebootsPerRun reboots": reboots <= int(fleet_parameters()["MaxRebootsPerRun"]),
        "at most one reboot-limit message": figures["alerts"].get("remediation_reboot_limit", 0) <= 1,
    }
    return figures


def report(f: dict[str, Any]) -> None:
    print(
        f"\n=== remediation: {f['pairs']} pairs ({f['accounts']} accounts x {f['regions']} regions), "
        f"{f['workspaces']:,} WorkSpaces; incident in {f['incident_pairs']} pairs, one with a directory of {f['big']:,} ==="
    )
    print(
        f"model: {f['latency_ms']:.0f} ms per call, RemediationApiRate {f['rate']} req/s burst {API_BURST} per pair, "
        f"16 workers; seeding took {f['seed_seconds']:.0f} s"
    )
    for s in f["scans"]:
        print(f"\n-- {s['label']}: {s['counts'] or 'nothing to do'}; failed pairs: {s['failed'] or 'none'}")
        for key, n in sorted(s["calls"].items()):
            print(f"  {key:<50}{n:>8,}")
        print(
            f"  AWS calls {s['aws_calls']:,}, WorkSpaces calls {s['workspaces_calls']:,} "
            f"(busiest pair {s['workspaces_calls_per_pair_max']}, a quiet pair {s['workspaces_calls_per_quiet_pair_max']}: "
            f"{s['quiet_pair_ws_rate']:.4f} req/s on average)"
        )
        print(f"  alerts: {s['alerts'] or 'none'}")
        print(
            f"  modelled time in AWS: {s['modelled_seconds']:.1f} s (slowest pair {s['slowest_pair_seconds']:.1f} s; "
            f"pairs one after another: {s['modelled_sequential_seconds']:.1f} s); schedule {SCHEDULE_SECONDS} s"
        )
        print(
            f"  measured here, one worker: wall {s['wall_seconds']:.1f} s, CPU {s['cpu_seconds']:.1f} s (simulator included); "
            f"memory the scan kept: {s['rss_growth_mb']:+.0f} MB"
        )
        for name, ok in s["checks"].items():
            print(f"  [{'ok' if ok else 'FAILED'}] {name}")
    print(f"\npeak memory of this process (simulator and fleet included): {f['peak_rss_mb']:.0f} MB")


def rss_mb(field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of this process."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return 0.0


if __name__ == "__main__":
    os.environ.setdefault("AWS_DEFAULT_REGION", REGIONS[0])
    sys.exit(main(sys.argv[1:]))
