"""`make demo`: the daily optimization end to end on a simulated fleet, no AWS account needed.

Seeds the simulator with a mixed fleet, "deploys" template.yaml locally (the functions get the
environment the template gives them), runs the state machine definition with the real handlers
at a frozen date, then prints the run's summary and where its CSV report is.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
for _name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
    os.environ[_name] = "simulated"  # never reach a real account from the demo
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")

import boto3  # noqa: E402
import pytest  # noqa: E402
from freezegun import freeze_time  # noqa: E402
from moto import mock_aws  # noqa: E402

from tests.support import fleet, simulator  # noqa: E402
from tests.support.lambda_runtime import ROOT, FakeContext, load_event  # noqa: E402
from tests.support.local_run import FREEZE_IGNORE, deployed, run_daily  # noqa: E402
from tests.support.virtual_time import VirtualTime  # noqa: E402
from ws_autopilot.errors import InvalidLoginEvent  # noqa: E402

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
    with mock_aws(), pytest.MonkeyPatch.context() as patch:
        # The simulator answers at once; the WorkSpaces rate limit (2 requests per second) and
        # botocore's backoff wait on a virtual clock, and the demo tells how long they would take.
        waits = VirtualTime().install(patch)
        clients = {
            name: boto3.client(name, region_name=region)
            for name in ("workspaces", "cloudwatch", "s3", "ec2", "ds", "dynamodb", "sns", "sqs")
        }
        seeded = fleet.seed_fleet(clients, ACCOUNT, region, args.now, args.size, args.directories)
        seeded_in = time.perf_counter() - started
        overrides = {
            "DryRun": str(args.dry_run).lower(),
            "LogLevel": "CRITICAL",  # the demo prints its own summary; the rejected event logs an error
            "ExtraThresholds": "GENERALPURPOSE_4XLARGE=120",
            "AllowedClientNetworks": DEMO_ALLOWED_NETWORKS,
            "NewNetworkAlerts": "true",
            "RebuildPolicy": "Auto",
            "MaxReboots": "1",
        }
        before = Counter(simulator.CALLS)
        with deployed(clients, overrides) as stack:
            output, execution = run_daily(
                stack.state_machine, args.now, run_id=f"demo-{args.now:%Y%m%dT%H%M}"
            )
            calls = Counter(simulator.CALLS) - before
            api_wait = waits.waited
            bucket = stack.refs["ReportBucket"]
            report = clients["s3"].get_object(Bucket=bucket, Key=output["report_key"])["Body"].read().decode()
            logins = replay_logins(clients, stack, seeded, args.now)
            remediation = replay_remediation(clients, stack, seeded, args.now)
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
        api_wait,
    )
    print_logins(*logins)
    print_remediation(remediation, args.dry_run)
    return 0


def replay_remediation(clients, stack, seeded, now):  # type: ignore[no-untyped-def]
    """Make three WorkSpaces UNHEALTHY and run remediation scans while the simulated fleet
    answers as AWS would: one recovers after its reboot, one needs a rebuild (RebuildPolicy
    Auto, fresh snapshot), one is tagged Skip_Remediation."""
    directory_id = seeded[0].directory_id
    quick, stubborn, tagged = [
        s for s in seeded if s.directory_id == directory_id and s.state == "AVAILABLE"
    ][:3]
    names = {quick.workspace_id: "recovers", stubborn.workspace_id: "stubborn", tagged.workspace_id: "tagged"}
    for ws in (quick, stubborn, tagged):
        simulator.set_state(ACCOUNT, os.environ["AWS_DEFAULT_REGION"], ws.workspace_id, "UNHEALTHY")
    region = os.environ["AWS_DEFAULT_REGION"]
    clients["workspaces"].create_tags(
        ResourceId=tagged.workspace_id, Tags=[{"Key": "Skip_Remediation", "Value": ""}]
    )
    simulator.add_snapshot(ACCOUNT, region, stubborn.workspace_id, "rebuild", now - timedelta(hours=2))
    start = now + timedelta(hours=1)
    fleet.report_unhealthy(ACCOUNT, region, directory_id, 3, start - timedelta(minutes=5))

    def after_reboots() -> None:
        for ws in seeded:  # reboots finish; all but the stubborn one come back healthy
            if simulator.workspace(ACCOUNT, region, ws.workspace_id).state == "REBOOTING":
                simulator.set_state(ACCOUNT, region, ws.workspace_id, "AVAILABLE")
        simulator.set_state(ACCOUNT, region, stubborn.workspace_id, "UNHEALTHY")

    def after_rebuild() -> None:
        simulator.set_state(ACCOUNT, region, stubborn.workspace_id, "AVAILABLE")

    timeline = [
        (0, "3 WorkSpaces turn UNHEALTHY", None),
        (30, "grace period over", None),
        (60, "reboots done: one is healthy, one is not", after_reboots),
        (90, "rebuild done", after_rebuild),
    ]
    scans = []
    for minutes, label, happened in timeline:
        if happened:
            happened()
        with freeze_time(start + timedelta(minutes=minutes), ignore=FREEZE_IGNORE):
            result = stack.handlers["RemediateFunction"]({}, FakeContext())
        ours = [
            (names.get(o["workspace_id"], o["workspace_id"]), o["action"], o["reason"])
            for o in result["outcomes"]
        ]
        scans.append((minutes, label, ours))
    return scans


def print_remediation(scans, dry_run) -> None:  # type: ignore[no-untyped-def]
    print(
        "Remediation scans (RebuildPolicy Auto, MaxReboots 1, grace and wait 30 min"
        f"{', dry run: nothing is really rebooted' if dry_run else ''})"
    )
    for minutes, label, outcomes in scans:
        print(f"  t+{minutes:>3} min  {label}")
        for name, action, reason in outcomes:
            print(f"             {name:<14} {action:<13} {reason}")
    print()


DEMO_ALLOWED_NETWORKS = "203.0.113.0/24,2001:db8::/32"


def replay_logins(clients, stack, seeded, now):  # type: ignore[no-untyped-def]
    """Replay a few `WorkSpaces Access` events through the login function; collect what it
    stored and what it alerted on (read through an SQS subscription to the alert topic)."""
    inbox = clients["sqs"].create_queue(QueueName="demo-alert-inbox")["QueueUrl"]
    inbox_arn = clients["sqs"].get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"]
    clients["sns"].subscribe(
        TopicArn=stack.refs["AlertTopic"], Protocol="sqs", Endpoint=inbox_arn["QueueArn"]
    )
    alice, bob = seeded[0], seeded[1]
    plan = [  # label, WorkSpace, sample event, client IP, event id
        ("office login from an allowed network", alice, "login_current", "203.0.113.10", "e1"),
        ("same WorkSpace, from outside the allow-list", alice, "login_current", "198.51.100.23", "e2"),
        ("same event again (idempotent: nothing new sent)", alice, "login_current", "198.51.100.23", "e2"),
        ("IPv6 login inside the allow-list", bob, "login_ipv6", "2001:db8:85a3::8a2e:370:7334", "e3"),
        ("web login without a client IP", bob, "login_empty_ip", "", "e4"),
        ("malformed event", bob, "login_malformed", None, "e5"),
    ]
    results = []
    with freeze_time(now, ignore=FREEZE_IGNORE):
        for minute, (label, ws, sample, ip, event_id) in enumerate(plan):
            event = {**load_event(sample), "id": f"demo-{event_id}"}
            if ip is not None:
                event["detail"].update(
                    {
                        "workspaceId": ws.workspace_id,
                        "directoryId": f"domain/{ws.directory_id}",
                        "clientIpAddress": ip,
                        "loginTime": (now.replace(hour=8, minute=0) + timedelta(minutes=minute)).isoformat(),
                    }
                )
            try:
                outcome = stack.handlers["LoginEventsFunction"](event, FakeContext())
                results.append((label, ", ".join(outcome["alerts"]) or "none"))
            except InvalidLoginEvent as exc:
                results.append((label, f"rejected: {exc.reason[:50]}..."))
        # Read what was stored and sent on the same frozen clock: the simulator's SQS drops
        # messages older than the queue's retention (4 days) by the clock it reads.
        items = clients["dynamodb"].scan(TableName=stack.refs["LoginTable"])["Items"]
        messages = clients["sqs"].receive_message(QueueUrl=inbox, MaxNumberOfMessages=10).get("Messages", [])
    records = sorted((i for i in items if i["sk"]["S"].startswith("LOGIN#")), key=lambda i: i["sk"]["S"])
    return results, records, [json.loads(m["Body"]) for m in messages]


def print_logins(results, records, alerts) -> None:  # type: ignore[no-untyped-def]
    print(f"Login events (allow-list {DEMO_ALLOWED_NETWORKS}, new-network alerts on)")
    for label, outcome in results:
        print(f"  {label:<46} alerts: {outcome}")
    print(f"\n  login records stored: {len(records)}")
    for item in records:
        user = item.get("user_name", {}).get("S", "?")
        ip = item["client_ip"]["S"] or "(empty)"
        print(
            f"    {item['login_time']['S'][:19]}  {item['workspace_id']['S']}  {user:<10} {ip:<30} "
            f"{item['client_platform']['S']}"
        )
    print(f"  alerts published: {len(alerts)}")
    for alert in alerts:
        body = json.loads(alert["Message"])
        print(
            f"    {alert['Subject']}: {body['user_name']} on {body['workspace_id']} from {body['client_ip']}"
        )
    print()


def print_summary(args, seeded, rows, output, invocations, calls, seeded_in, elapsed, path, api_wait) -> None:  # type: ignore[no-untyped-def]
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
    print(
        f"  waiting for the WorkSpaces API rate limit (virtual; AWS would take this long): {api_wait:.0f} s"
    )
    print(f"  seeded in {seeded_in:.1f} s, whole demo {elapsed:.1f} s")
    print(f"\nCSV report: {path}")
    print(f"  (in AWS: s3://<ReportBucketName>/{output['report_key']})\n")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
