"""`make demo`: WorkSpaces Autopilot end to end on a simulated fleet, no AWS account needed.

Seeds a local AWS simulator (moto plus this project's WorkSpaces extensions) with a mixed fleet,
"deploys" template.yaml locally (every function gets the environment the template gives it) and
runs the real handlers at a frozen date, in three parts:

  1. Daily optimization: the state machine definition runs ListTargets, ListDirectories,
     OptimizeDirectory and WriteReport; each WorkSpace stays or is converted between ALWAYS_ON
     and AUTO_STOP by its billable hours, and the run's CSV report is saved.
  2. Login events: a few `WorkSpaces Access` events through the login function (an allowed
     network, one outside the allow-list, the same event delivered twice, IPv6, no client IP,
     a malformed event): what it returned, stored and alerted on.
  3. Remediation: UNHEALTHY WorkSpaces through scans at the grace period and reboot wait
     (RebuildPolicy Auto, MaxReboots 1): reboot, rebuild from a fresh snapshot, the
     Skip_Remediation tag.

With --dry-run every part decides and reports, but nothing is converted, rebooted or rebuilt.

--parameter NAME=VALUE (repeatable) deploys with a template parameter set as `sam deploy
--parameter-overrides` would, checked as CloudFormation checks it, to preview a change before
making it, e.g. `--parameter ThresholdSource=Parameters --parameter ThresholdStandard=100`. A
feature switched off (EnableOptimizer, EnableLoginEvents, Remediation=Off) is not deployed and
its part is left out.
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
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

import boto3
import pytest
from freezegun import freeze_time
from moto import mock_aws

from tests.support import cfn_template, fleet, simulator, step_functions
from tests.support.lambda_runtime import ROOT, FakeContext, load_event
from tests.support.logins import access_event
from tests.support.virtual_time import VirtualTime
from tools.local_run import FREEZE_IGNORE, deployed, parameter_defaults, run_daily, template
from ws_autopilot.core.errors import InvalidLoginEvent

ACCOUNT = "123456789012"
SIZE_LIMITS = (10, 5000)
DIRECTORY_LIMITS = (1, 10)
SHOWN_CONVERSIONS = 15
DEMO_ALLOWED_NETWORKS = "203.0.113.0/24,2001:db8::/32"
REMEDIATION = {"Remediation": "On", "RebuildPolicy": "Auto", "MaxReboots": "1"}
# The demo's own settings, under the operator's --parameter values: a live deployment needs an
# alert destination (the template's rule), and the demo shows every part.
DEMO_PARAMETERS = {
    "LogLevel": "CRITICAL",  # the demo prints its own summary; the rejected event logs an error
    "NotificationEmail": "ops@example.com",
    "ExtraThresholds": "GENERALPURPOSE_4XLARGE=120",
    "AllowedClientNetworks": DEMO_ALLOWED_NETWORKS,
    "NewNetworkAlerts": "true",
    **REMEDIATION,
}


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """The description as written, and every option's default."""


def _run_time(text: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 date and time, e.g. 2026-11-30T21:00:00Z"
        ) from None
    if parsed.tzinfo is None:  # a time without an offset is UTC, whatever the machine's zone
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def whole_number(low: int, high: int) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text.replace(",", "").replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low:,} to {high:,}, not {value:,}")
        return value

    return parse


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.demo", description=__doc__, formatter_class=HelpFormatter
    )
    parser.add_argument(
        "--date",
        dest="now",
        metavar="DATE",
        type=_run_time,
        default="2026-11-30T21:00:00Z",
        help="the run's time, ISO 8601 (UTC when it has no offset); any date works, the fleet's "
        "usage is seeded up to it",
    )
    parser.add_argument(
        "--size",
        type=whole_number(*SIZE_LIMITS),
        default=300,
        metavar="N",
        help=f"WorkSpaces in the simulated fleet, {SIZE_LIMITS[0]:,} to {SIZE_LIMITS[1]:,}",
    )
    parser.add_argument(
        "--directories",
        type=whole_number(*DIRECTORY_LIMITS),
        default=3,
        metavar="N",
        help=f"directories the fleet is spread over, {DIRECTORY_LIMITS[0]} to {DIRECTORY_LIMITS[1]}",
    )
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="every part decides and reports; nothing is converted, rebooted or rebuilt",
    )
    parser.add_argument(
        "--parameter",
        dest="parameters",
        action="append",
        default=[],
        type=_parameter,
        metavar="NAME=VALUE",
        help="a template parameter, as `sam deploy --parameter-overrides` sets it (repeatable); "
        "e.g. ThresholdSource=Parameters, EnableLoginEvents=false, Remediation=DryRun",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "build" / "demo",
        metavar="FOLDER",
        help="folder the CSV report is saved in",
    )
    args = parser.parse_args(argv)
    given = dict(args.parameters)
    if args.dry_run and given.get("DryRun", "true") != "true":
        parser.error("--dry-run and --parameter DryRun=false contradict each other")
    args.overrides = {**DEMO_PARAMETERS, "DryRun": str(args.dry_run).lower(), **given}
    for name, value in given.items():
        if (error := cfn_template.parameter_error(template(), name, value)) is not None:
            parser.error(f"--parameter {error}")
    for refused in cfn_template.failed_rules(template(), args.overrides):
        parser.error(f"CloudFormation would refuse these parameters: {refused}")
    args.dry_run = args.overrides["DryRun"] == "true"
    return args


def _parameter(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not name:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE, e.g. ThresholdSource=Parameters")
    return name.strip(), value


class EmfFilter(io.TextIOBase):
    """Stdout without the embedded-metric-format lines Powertools prints; every other line
    passes through unchanged."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.pending = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.pending += text
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            if not line.startswith('{"_aws":'):
                self.out.write(line + "\n")
        return len(text)

    def flush(self) -> None:
        if self.pending and not self.pending.startswith('{"_aws":'):
            self.out.write(self.pending)
        self.pending = ""
        self.out.flush()


@contextmanager
def metrics_silenced() -> Iterator[None]:
    filtered = EmfFilter(sys.stdout)
    try:
        with redirect_stdout(filtered):
            yield
    finally:
        filtered.flush()


def demo_environment() -> None:
    """Set before the handlers are loaded (the demo's own process: importing the module sets
    nothing)."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        os.environ[name] = "simulated"  # never reach a real account from the demo
    # Powertools Metrics prints its CloudWatch embedded metric format (EMF) JSON to stdout; the
    # demo prints its own summary. This stops the handlers' flushes; single_metric() prints even
    # so (Powertools 3.x), and the demo drops those lines (EmfFilter).
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    demo_environment()
    started = time.perf_counter()
    with metrics_silenced():
        run = simulate(args, started)
    print_parameters(args.overrides)
    if run.output is None:
        print("\nDaily optimization: not deployed (EnableOptimizer=false)\n")
    else:
        rows = list(csv.DictReader(io.StringIO(run.report)))
        args.out.mkdir(parents=True, exist_ok=True)
        path = args.out / Path(run.output["report_key"]).name
        path.write_text(run.report)
        print_summary(args, run, rows, time.perf_counter() - started, path)
    if run.logins is None:
        print("Login events: not deployed (EnableLoginEvents=false)\n")
    else:
        print_logins(run.logins)
    if run.remediation is None:
        print("Remediation: not deployed (Remediation=Off)\n")
    else:
        print_remediation(run.remediation, remediation_dry_run(args.overrides), args.overrides)
    return 0


def remediation_dry_run(parameters: dict[str, str]) -> bool:
    """Remediation acts only with DryRun=false and Remediation=On (its own dry run)."""
    return not (parameters["DryRun"] == "false" and parameters["Remediation"] == "On")


def print_parameters(overrides: dict[str, str]) -> None:
    """The parameters that differ from the template's defaults: what this preview deployed."""
    defaults = parameter_defaults()
    changed = {n: v for n, v in overrides.items() if v != defaults[n] and n != "LogLevel"}
    print("\nDeployed with (template defaults otherwise):")
    for name, value in changed.items():
        print(f"  {name}={value}")


@dataclass
class Run:
    seeded: list[fleet.SeededWorkspace]
    seeded_in: float
    output: dict[str, Any] | None  # None: the optimizer is switched off
    invocations: Counter[str]
    calls: Counter[tuple[str, str]]
    api_wait: float
    report: str
    logins: Logins | None  # None: login events are switched off
    remediation: Remediation | None  # None: remediation is switched off


def simulate(args: argparse.Namespace, started: float) -> Run:
    region = os.environ["AWS_DEFAULT_REGION"]
    simulator.install()
    with mock_aws(config=step_functions.ENGINE), pytest.MonkeyPatch.context() as patch:
        # The simulator answers at once; the WorkSpaces rate limit (2 requests per second) and
        # botocore's backoff wait on a virtual clock, and the demo tells how long they would take.
        waits = VirtualTime().install(patch)
        clients = {
            name: boto3.client(name, region_name=region)
            for name in ("workspaces", "cloudwatch", "s3", "ec2", "ds", "dynamodb", "sns", "sqs")
        }
        seeded = fleet.seed_fleet(clients, ACCOUNT, region, args.now, args.size, args.directories)
        seeded_in = time.perf_counter() - started
        before = Counter(simulator.CALLS)
        output: dict[str, Any] | None = None
        invocations: Counter[str] = Counter()
        report, logins, remediation = "", None, None
        with deployed(clients, args.overrides) as stack:
            if stack.machines:  # the optimizer is on
                output, execution = run_daily(
                    stack.state_machine, args.now, run_id=f"demo-{args.now:%Y%m%dT%H%M}"
                )
                invocations = execution.invocations
                bucket = stack.refs["ReportBucket"]
                s3 = clients["s3"]
                report = s3.get_object(Bucket=bucket, Key=output["report_key"])["Body"].read().decode()
                summary = s3.get_object(Bucket=bucket, Key=output["summary_key"])["Body"].read()
                output = {**json.loads(summary), **output}  # the dollars are in the summary only
            calls = Counter(simulator.CALLS) - before
            api_wait = waits.waited
            if "LoginEventsFunction" in stack.handlers:
                logins = replay_logins(clients, stack, seeded, args.now)
            if "RemediateFunction" in stack.handlers:
                remediation = replay_remediation(
                    clients, stack, seeded, args.now, remediation_dry_run(args.overrides), args.overrides
                )
    return Run(seeded, seeded_in, output, invocations, calls, api_wait, report, logins, remediation)


# -- login events ---------------------------------------------------------------------------------
@dataclass
class Delivery:
    label: str
    event_id: str
    returned: dict[str, Any] | None  # what the handler returned; None when it raised
    rejected: str = ""  # why it raised
    alerts_sent: int = 0  # messages the alert inbox received from this delivery
    logins_stored: int = 0  # login records this delivery added


@dataclass
class Logins:
    deliveries: list[Delivery]
    records: list[dict[str, Any]]
    alerts: list[dict[str, Any]]


def replay_logins(clients, stack, seeded, now) -> Logins:  # type: ignore[no-untyped-def]
    """Deliver a few `WorkSpaces Access` events to the login function, one of them twice; after
    each delivery, count the login records stored and the alerts received by an inbox (an SQS
    queue subscribed to the alert topic)."""
    sqs = clients["sqs"]
    inbox = sqs.create_queue(QueueName="demo-alert-inbox")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    clients["sns"].subscribe(TopicArn=stack.refs["AlertTopic"], Protocol="sqs", Endpoint=inbox_arn)
    alice, bob = seeded[0], seeded[1]
    plan = [  # label, WorkSpace, sample event, client IP, event id, minutes after 08:00
        ("office login from an allowed network", alice, "login_current", "203.0.113.10", "e1", 0),
        ("same WorkSpace, from outside the allow-list", alice, "login_current", "198.51.100.23", "e2", 1),
        ("the same event delivered again (same id)", alice, "login_current", "198.51.100.23", "e2", 1),
        ("IPv6 login inside the allow-list", bob, "login_ipv6", "2001:db8:85a3::8a2e:370:7334", "e3", 3),
        ("web login without a client IP", bob, "login_empty_ip", "", "e4", 4),
        ("malformed event", bob, "login_malformed", None, "e5", 5),
    ]
    deliveries: list[Delivery] = []
    alerts: list[dict[str, Any]] = []
    # Everything is read on the same frozen clock: the simulator's SQS drops messages older
    # than the queue's retention (4 days) by the clock it reads.
    with freeze_time(now, ignore=FREEZE_IGNORE):
        for label, ws, sample, ip, event_id, minute in plan:
            if ip is None:  # the sample as it is: a malformed event stays malformed
                event = {**load_event(sample), "id": f"demo-{event_id}"}
            else:
                at = now.replace(hour=8, minute=0) + timedelta(minutes=minute)
                event = access_event(
                    ws.workspace_id, ws.directory_id, f"demo-{event_id}", at, ip=ip, sample=sample
                )
            stored_before = len(_login_records(clients, stack))
            try:
                delivery = Delivery(
                    label, event["id"], stack.handlers["LoginEventsFunction"](event, FakeContext())
                )
            except InvalidLoginEvent as exc:
                delivery = Delivery(label, event["id"], None, rejected=exc.reason)
            received = _drain(sqs, inbox)
            delivery.alerts_sent = len(received)
            delivery.logins_stored = len(_login_records(clients, stack)) - stored_before
            alerts += received
            deliveries.append(delivery)
        records = _login_records(clients, stack)
    return Logins(deliveries, records, alerts)


def _login_records(clients, stack) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    items = clients["dynamodb"].scan(TableName=stack.refs["LoginTable"])["Items"]
    return sorted((i for i in items if i["sk"]["S"].startswith("LOGIN#")), key=lambda i: i["sk"]["S"])


def _drain(sqs, queue_url: str) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    """Every message waiting in the queue, deleted once read."""
    received: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return received
        for message in messages:
            received.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def print_logins(logins: Logins) -> None:
    print(f"Login events (allow-list {DEMO_ALLOWED_NETWORKS}, new-network alerts on)")
    print(f"  {'delivery':<44} {'alerts sent':>11} {'logins stored':>13}  handler returned")
    for d in logins.deliveries:
        if d.returned is None:
            returned = f"raised InvalidLoginEvent: {d.rejected[:34]}..."
        else:
            returned = f"alerts: {', '.join(d.returned['alerts']) or 'none'}"
        print(f"  {d.label:<44} {d.alerts_sent:>11} {d.logins_stored:>13}  {returned}")
    for note in _repeat_notes(logins.deliveries):
        print(f"  {note}")
    print(f"\n  login records stored: {len(logins.records)}")
    for item in logins.records:
        user = item.get("user_name", {}).get("S", "?")
        ip = item["client_ip"]["S"] or "(empty)"
        print(
            f"    {item['login_time']['S'][:19]}  {item['workspace_id']['S']}  {user:<10} {ip:<30} "
            f"{item['client_platform']['S']}"
        )
    print(f"  alerts received by the inbox: {len(logins.alerts)}")
    for alert in logins.alerts:
        body = json.loads(alert["Message"])
        print(
            f"    {alert['Subject']}: {body['user_name']} on {body['workspace_id']} from {body['client_ip']}"
        )
    print()


def _repeat_notes(deliveries: list[Delivery]) -> list[str]:
    """What a repeated delivery did, from what it returned and what the inbox and table got."""
    notes = []
    for n, d in enumerate(deliveries):
        first = next((e for e in deliveries[:n] if e.event_id == d.event_id), None)
        if first is None:
            continue
        if d.returned is not None and d.returned == first.returned:
            same = "the handler returned the first delivery's result (Powertools idempotency replays it)"
        else:
            same = "the handler did not return the first delivery's result"
        if d.alerts_sent == 0 and d.logins_stored == 0:
            effect = "nothing new was sent or stored (the alert inbox received no message)"
        else:
            effect = (
                f"{_count(d.alerts_sent, 'alert')} sent and {_count(d.logins_stored, 'login')} stored again"
            )
        notes += [f"{d.event_id} delivered again: {same};", f"  {effect}."]
    return notes


# -- remediation ----------------------------------------------------------------------------------
@dataclass
class Scan:
    minutes: int
    label: str
    outcomes: list[tuple[str, str, str]]  # name, action, reason


@dataclass
class Remediation:
    directory_id: str
    directory_size: int
    roles: dict[str, tuple[str, str]]  # WorkSpace id -> (name, what the demo arranged)
    note: str
    grace: int
    wait: int
    scans: list[Scan] = field(default_factory=list)


ARRANGED = {
    "quick": "made UNHEALTHY; comes back AVAILABLE when rebooted",
    "stubborn": "made UNHEALTHY; stays so when rebooted, comes back when rebuilt (fresh snapshot)",
    "tagged": "made UNHEALTHY; tagged Skip_Remediation",
}


def _state(workspace_id: str) -> str:
    return str(simulator.workspace(ACCOUNT, os.environ["AWS_DEFAULT_REGION"], workspace_id).state)


def arrange_unhealthy(
    clients, seeded, now, parameters
) -> tuple[str, list[str], dict[str, tuple[str, str]], str]:  # type: ignore[no-untyped-def]
    """Make up to three AVAILABLE WorkSpaces of one directory UNHEALTHY ("quick", "stubborn" with
    a fresh rebuild snapshot, "tagged" Skip_Remediation). Returns the directory, its WorkSpaces,
    a name and description for each of its UNHEALTHY ones (those of the seeded fleet too), and
    why fewer than three were made UNHEALTHY, if so."""
    region = os.environ["AWS_DEFAULT_REGION"]
    by_directory: dict[str, list[str]] = {}
    for ws in seeded:
        by_directory.setdefault(ws.directory_id, []).append(ws.workspace_id)
    available = {d: sum(_state(i) == "AVAILABLE" for i in ids) for d, ids in by_directory.items()}
    # The first directory with three AVAILABLE WorkSpaces; in a small fleet, the one with the most.
    directory_id = next(
        (d for d, n in available.items() if n >= len(ARRANGED)), max(available, key=available.__getitem__)
    )
    members = by_directory[directory_id]
    already = [i for i in members if _state(i) == "UNHEALTHY"]
    # No more than keeps the directory's circuit breaker closed (at most BreakerPercent of it
    # UNHEALTHY, or fewer than BreakerMinimumUnhealthy): with it open, remediation does nothing.
    defaults = {**parameter_defaults(), **parameters}
    allowed = max(
        int(defaults["BreakerMinimumUnhealthy"]) - 1, int(defaults["BreakerPercent"]) * len(members) // 100
    )
    wanted = max(0, min(len(ARRANGED), allowed - len(already)))
    candidates = [i for i in members if _state(i) == "AVAILABLE"]
    picked = candidates[:wanted]
    note = ""
    if len(picked) < len(ARRANGED):
        why = "more would open its circuit breaker" if wanted < len(ARRANGED) else "too few are AVAILABLE"
        note = f"only {len(picked)} made UNHEALTHY in this directory: {why}"
    roles = {i: (name, ARRANGED[name]) for i, name in zip(picked, ARRANGED, strict=False)}
    roles |= {
        i: (f"seeded-{n}", "UNHEALTHY in the seeded fleet; comes back AVAILABLE when rebooted")
        for n, i in enumerate(already, 1)
    }
    for workspace_id in picked:
        simulator.set_state(ACCOUNT, region, workspace_id, "UNHEALTHY")
        if roles[workspace_id][0] == "tagged":
            clients["workspaces"].create_tags(
                ResourceId=workspace_id, Tags=[{"Key": "Skip_Remediation", "Value": ""}]
            )
        if roles[workspace_id][0] == "stubborn":
            simulator.add_snapshot(ACCOUNT, region, workspace_id, "rebuild", now - timedelta(hours=2))
    return directory_id, members, roles, note


def replay_remediation(clients, stack, seeded, now, dry_run, parameters) -> Remediation:  # type: ignore[no-untyped-def]
    """Run remediation scans at the grace period and the reboot waits while the simulated fleet
    answers as AWS would: a reboot brings every UNHEALTHY WorkSpace back but "stubborn", which a
    rebuild brings back. Only what a scan really did changes a state: in a dry run, nothing does."""
    region = os.environ["AWS_DEFAULT_REGION"]
    directory_id, members, roles, note = arrange_unhealthy(clients, seeded, now, parameters)
    names = {i: name for i, (name, _) in roles.items()}
    unhealthy = [i for i in members if _state(i) == "UNHEALTHY"]
    start = now + timedelta(hours=1)
    fleet.report_unhealthy(ACCOUNT, region, directory_id, len(unhealthy), start - timedelta(minutes=5))

    defaults = {**parameter_defaults(), **parameters}
    grace, wait = int(defaults["UnhealthyGraceMinutes"]), int(defaults["RebootWaitMinutes"])
    result = Remediation(directory_id, len(members), roles, note, grace, wait)
    acted: dict[str, list[str]] = {"reboot": [], "rebuild": []}  # acted on since the last scan

    def finish(action: str, busy: str) -> str:
        """The reboots (or rebuilds) the last scan decided end: what the simulator did."""
        decided, acted[action] = acted[action], []
        done = [i for i in decided if _state(i) == busy]
        for workspace_id in done:
            fixed = action == "rebuild" or names.get(workspace_id) != "stubborn"
            simulator.set_state(ACCOUNT, region, workspace_id, "AVAILABLE" if fixed else "UNHEALTHY")
        back = sum(_state(i) == "AVAILABLE" for i in done)
        parts = []
        if done:
            effects = [f"{back} back to AVAILABLE"] * bool(back)
            effects += [f"{len(done) - back} still UNHEALTHY"] * bool(len(done) - back)
            parts.append(f"{_count(len(done), action)} finished: {', '.join(effects)}")
        if len(done) < len(decided):
            missed = len(decided) - len(done)
            reason = "dry run" if dry_run else "the simulator did not start it"
            parts.append(f"{_count(missed, action)} decided but not done ({reason}), still UNHEALTHY")
        if not decided:
            parts.append(f"no {action} to finish")
        return "; ".join(parts)

    timeline = [
        (0, lambda: f"{_count(len(unhealthy), 'WorkSpace')} UNHEALTHY"),
        (grace, lambda: f"grace period ({grace} min) over"),
        (grace + wait, lambda: finish("reboot", "REBOOTING")),
        (grace + 2 * wait, lambda: finish("rebuild", "REBUILDING")),
    ]
    order = {i: n for n, i in enumerate(roles)}
    for minutes, happened in timeline:
        label = happened()
        with freeze_time(start + timedelta(minutes=minutes), ignore=FREEZE_IGNORE):
            scanned = stack.handlers["RemediateFunction"]({}, FakeContext())
        outcomes = sorted(
            scanned["outcomes"], key=lambda o: (order.get(o["workspace_id"], len(order)), o["workspace_id"])
        )
        for o in outcomes:
            if o["action"] in acted:
                acted[o["action"]].append(o["workspace_id"])
        result.scans.append(
            Scan(
                minutes,
                label,
                [
                    (names.get(o["workspace_id"], o["workspace_id"]), o["action"], o["reason"])
                    for o in outcomes
                ],
            )
        )
    return result


def _count(n: int, word: str, plural: str = "") -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"


def print_remediation(remediation: Remediation, dry_run: bool, parameters: dict[str, str]) -> None:
    r = remediation
    settings = ", ".join(f"{name} {parameters[name]}" for name in REMEDIATION)
    print(f"Remediation scans ({settings}, grace {r.grace} min, reboot wait {r.wait} min)")
    if dry_run:
        why = "DryRun=true" if parameters["DryRun"] == "true" else f"Remediation={parameters['Remediation']}"
        print(
            f"  dry run ({why}): each scan decides and records its step as if it were taken, but nothing is\n"
            "  rebooted or rebuilt, so no WorkSpace changes state between the scans"
        )
    print(f"  directory {r.directory_id} ({_count(r.directory_size, 'WorkSpace')}):")
    for workspace_id, (name, arranged) in r.roles.items():
        print(f"    {name:<10} {workspace_id}  {arranged}")
    if r.note:
        print(f"    ({r.note})")
    for scan in r.scans:
        print(f"  t+{scan.minutes:>3} min  {scan.label}")
        for name, action, reason in scan.outcomes:
            shown = f"would {action}" if dry_run and action in ("reboot", "rebuild") else action
            print(f"             {name:<14} {shown:<14} {reason}")
    print()


# -- the optimization -----------------------------------------------------------------------------
def _month_name(month: str) -> str:
    """'November 2026' from '2026-11'."""
    return datetime.strptime(month, "%Y-%m").strftime("%B %Y")


def _listing(counts: Any) -> str:
    """'175 AUTO_STOP, 120 ALWAYS_ON' from a Counter or a mapping of counts."""
    items = counts.most_common() if isinstance(counts, Counter) else counts.items()
    return ", ".join(f"{n} {name}" for name, n in items)


def print_summary(
    args: argparse.Namespace, run: Run, rows: list[dict[str, str]], elapsed: float, path: Path
) -> None:
    now, output = args.now, run.output
    print(f"\nWorkSpaces Autopilot - daily optimization on a simulated fleet at {now:%Y-%m-%d %H:%M} UTC")
    print(
        f"  fleet: {_count(len(run.seeded), 'WorkSpace')} in {_count(args.directories, 'directory', 'directories')} "
        f"({_listing(Counter(s.running_mode for s in run.seeded))})"
    )
    effect = "yes (nothing modified)" if args.dry_run else "no (running modes changed in the simulator)"
    print(f"  dry run: {effect}")
    print("\nDecisions")
    for action, count in output["actions"].items():
        print(f"  {action:<14}{count:>6}")
    print(f"  {'total':<14}{output['workspaces']:>6}")
    sources = Counter(r["threshold_source"] or "none" for r in rows)
    month, following = (_month_name(output[key]) for key in ("month", "next_month"))
    print(f"\nDollars (list prices, USD, by the bill model; {output['priced_workspaces']} WorkSpaces priced)")
    for label, key in (
        (f"{month}: the fleet's bill so far, today's decisions included", "month_to_date_cost"),
        (f"{month}: what today's decisions take off it, projected", "saving_this_month"),
        (f"{following}: what they take off that month's bill, projected", "saving_next_month"),
    ):
        print(f"  {label:<66}{output[key]:>10}")
    print("  (projections at each WorkSpace's use so far; the monthly digest reports what was saved)")
    print(f"  thresholds from: {_listing(sources)}")
    conversions = sorted(
        (r for r in rows if r["action"] in ("to_always_on", "to_auto_stop")), key=lambda r: r["user_name"]
    )
    if conversions:
        title = "Conversions that would be made (dry run)" if args.dry_run else "Conversions made"
        shown = f", the first {SHOWN_CONVERSIONS} by user" if len(conversions) > SHOWN_CONVERSIONS else ""
        print(f"\n{title}: {len(conversions)}{shown}")
        header = (
            "WorkSpace",
            "user",
            "compute type",
            "from",
            "to",
            "hours",
            "thr.",
            month[:3],
            following[:3],
        )
        print("  {:<14} {:<10} {:<24} {:<10} {:<10} {:>5} {:>5} {:>8} {:>8}".format(*header))
        for r in conversions[:SHOWN_CONVERSIONS]:
            target = "ALWAYS_ON" if r["action"] == "to_always_on" else "AUTO_STOP"
            print(
                f"  {r['workspace_id']:<14} {r['user_name']:<10} {r['compute_type']:<24} "
                f"{r['running_mode_before']:<10} {target:<10} {r['billable_hours']:>5} {r['threshold']:>5} "
                f"{r['saving_this_month'] or '-':>8} {r['saving_next_month'] or '-':>8}"
            )
        print(f"  ({month[:3]}, {following[:3]}: what each saves in that month, projected, $)")
    reasons = Counter(r["reason"].split(":")[0] for r in rows if r["action"] in ("skipped", "error"))
    if reasons:
        print("\nSkips and errors by reason")
        for reason, count in sorted(reasons.items(), key=lambda item: (-item[1], item[0]))[:8]:
            print(f"  {count:>5}  {reason}")
    moves = Counter(f"{r['compute_type']} -> {r['rightsize_to']}" for r in rows if r["rightsize_to"])
    if moves:
        priced = [Decimal(r["rightsize_saving_next_month"]) for r in rows if r["rightsize_saving_next_month"]]
        print("\nRight-sizing, report only (month's last day; no compute type changed)")
        for move, count in sorted(moves.items(), key=lambda item: (-item[1], item[0]))[:8]:
            print(f"  {count:>5}  {move}")
        print(
            f"  with prices: {len(priced)}; in {following}, projected, smaller types would save"
            f" {sum(p for p in priced if p > 0):.2f}, larger ones cost {-sum(p for p in priced if p < 0):.2f} more"
        )
    workspaces_calls = {op: n for (service, op), n in sorted(run.calls.items()) if service == "workspaces"}
    invocations = {
        name.removesuffix("Arn").removesuffix("Function"): n for name, n in run.invocations.items()
    }
    print("\nRun")
    print(f"  function invocations: {_listing(invocations)}")
    print(f"  WorkSpaces API calls: {sum(workspaces_calls.values())} ({_listing(workspaces_calls)})")
    print(f"  CloudWatch GetMetricData calls: {run.calls[('cloudwatch', 'GetMetricData')]}")
    print(f"  Price List GetProducts calls: {run.calls[('pricing', 'GetProducts')]}")
    print(
        f"  waiting for the WorkSpaces API rate limit (virtual; AWS would take this long): {run.api_wait:.0f} s"
    )
    print(f"  seeded in {run.seeded_in:.1f} s, whole demo {elapsed:.1f} s")
    print(f"\nCSV report: {path}")
    print(f"  (in AWS: s3://<ReportBucketName>/{output['report_key']})\n")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
