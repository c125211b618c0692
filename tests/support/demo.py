"""`make demo`: the daily optimization end to end on a simulated fleet, no AWS account needed.

Seeds the simulator with a mixed fleet, "deploys" template.yaml locally (the functions get the
environment the template gives them), runs the state machine definition with the real handlers
at a frozen date, then prints the run's summary and where its CSV report is.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
for _name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
    os.environ[_name] = "simulated"  # never reach a real account from the demo
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")

import boto3  # noqa: E402
from moto import mock_aws  # noqa: E402

from tests.support import fleet, simulator  # noqa: E402
from tests.support.lambda_runtime import ROOT  # noqa: E402
from tests.support.local_run import deployed, run_daily  # noqa: E402

ACCOUNT = "123456789012"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--date",
        default="2026-11-30T21:00:00Z",
        help="the run's UTC time, ISO 8601 (default: the last day of November 2026, 21:00)",
    )
    parser.add_argument("--size", type=int, default=300, help="WorkSpaces in the simulated fleet")
    parser.add_argument("--directories", type=int, default=3, help="directories the fleet is spread over")
    parser.add_argument("--dry-run", action="store_true", help="decide and report, change nothing")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "demo", help="where to save the report")
    args = parser.parse_args(argv)
    try:
        args.now = datetime.fromisoformat(args.date.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        parser.error(f"--date {args.date!r} is not an ISO 8601 date and time")
    if not 1 <= args.size <= 5000:
        parser.error("--size must be from 1 to 5000")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    region = os.environ["AWS_DEFAULT_REGION"]
    started = time.perf_counter()
    simulator.install()
    with mock_aws():
        clients = {
            name: boto3.client(name, region_name=region)
            for name in ("workspaces", "cloudwatch", "s3", "ec2", "ds", "dynamodb", "sns", "sqs")
        }
        seeded = fleet.seed_fleet(clients, ACCOUNT, region, args.now, args.size, args.directories)
        seeded_in = time.perf_counter() - started
        overrides = {
            "DryRun": str(args.dry_run).lower(),
            "LogLevel": "ERROR",
            "ExtraThresholds": "GENERALPURPOSE_4XLARGE=120",
        }
        before = Counter(simulator.CALLS)
        with deployed(clients, overrides) as stack:
            output, execution = run_daily(
                stack.state_machine, args.now, run_id=f"demo-{args.now:%Y%m%dT%H%M}"
            )
            calls = Counter(simulator.CALLS) - before
            bucket = stack.refs["ReportBucket"]
            report = clients["s3"].get_object(Bucket=bucket, Key=output["report_key"])["Body"].read().decode()
    rows = list(csv.DictReader(io.StringIO(report)))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / Path(output["report_key"]).name
    path.write_text(report)
    print_summary(
        args,
        seeded,
        rows,
        output,
        execution.invocations,
        calls,
        seeded_in,
        time.perf_counter() - started,
        path,
    )
    return 0


def print_summary(args, seeded, rows, output, invocations, calls, seeded_in, elapsed, path) -> None:  # type: ignore[no-untyped-def]
    now = args.now
    print(f"\nWorkSpaces Autopilot - daily optimization on a simulated fleet at {now:%Y-%m-%d %H:%M} UTC")
    print(
        f"  fleet: {len(seeded)} WorkSpaces in {args.directories} directories "
        f"({Counter(s.running_mode for s in seeded).most_common()})"
    )
    effect = "yes (nothing modified)" if args.dry_run else "no (running modes changed in the simulator)"
    print(f"  dry run: {effect}")
    print("\nDecisions")
    for action, count in output["actions"].items():
        print(f"  {action:<14}{count:>6}")
    print(f"  {'total':<14}{output['workspaces']:>6}")
    conversions = [r for r in rows if r["action"] in ("to_always_on", "to_auto_stop")]
    if conversions:
        print(f"\nConversions ({len(conversions)}; first 15)")
        header = ("WorkSpace", "user", "compute type", "from", "to", "hours", "thr.")
        print("  {:<14} {:<10} {:<24} {:<10} {:<10} {:>5} {:>5}".format(*header))
        for r in conversions[:15]:
            target = "ALWAYS_ON" if r["action"] == "to_always_on" else "AUTO_STOP"
            print(
                f"  {r['workspace_id']:<14} {r['user_name']:<10} {r['compute_type']:<24} "
                f"{r['running_mode_before']:<10} {target:<10} {r['billable_hours']:>5} {r['threshold']:>5}"
            )
    reasons = Counter(r["reason"].split(":")[0] for r in rows if r["action"] in ("skipped", "error"))
    if reasons:
        print("\nSkips and errors by reason")
        for reason, count in reasons.most_common(8):
            print(f"  {count:>5}  {reason}")
    workspaces_calls = {op: n for (service, op), n in sorted(calls.items()) if service == "workspaces"}
    print("\nRun")
    print(f"  function invocations: {dict(invocations)}")
    print(f"  WorkSpaces API calls: {sum(workspaces_calls.values())} {workspaces_calls}")
    print(f"  CloudWatch GetMetricData calls: {calls[('cloudwatch', 'GetMetricData')]}")
    print(f"  seeded in {seeded_in:.1f} s, whole demo {elapsed:.1f} s")
    print(f"\nCSV report: {path}")
    print(f"  (in AWS: s3://<ReportBucketName>/{output['report_key']})\n")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
