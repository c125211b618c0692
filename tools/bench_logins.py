"""`make bench-logins`: a login storm. The first Monday after deployment, 10,000 WorkSpaces log in
within 10 minutes (virtual time); half of them were created after the last daily run, so the
map it keeps does not know their users.

This process seeds the simulator (moto with the project's extensions) and serves it on
127.0.0.1; a child process deploys the template against it, writes the daily run's map for the
WorkSpaces the run saw (the optimizer's own call, one batch per page listed), then delivers
every `WorkSpaces Access` event to the login function's real handler at its time, spread over
20 containers (each with its own memory, sessions and token bucket, as Lambda runs them). The
clock is virtual: the frozen time the handlers read moves from one event to the next, and every
wait of the rate limiter or of botocore's retries moves it too.

Printed: the WorkSpaces API calls (and the most in any minute), how many logins were stored
without a user name and how many still lack one at the end, where the names came from, the
handler's wall time per event (and its own time, without the simulator's answers), and the
child's peak memory. The checks can fail: `make bench-logins` exits 1 when one does.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.support.lambda_runtime import FakeContext, use_simulated_environment
from tests.support.logins import access_event

ACCOUNT, REGION = "123456789012", "us-east-1"
START = datetime(2026, 11, 30, 8, 55, tzinfo=UTC)  # a Monday
DIRECTORIES = 4
CONTAINERS = 20
SEED = 12
BEFORE = "one DescribeWorkspaces per WorkSpace at its first login"
# The real clock for wall times, whatever is frozen later (freezegun swaps module attributes that
# *are* the time functions, so the function is kept inside a tuple it does not look into).
_REAL_PERF_COUNTER = (time.perf_counter,)


def _now() -> float:
    return _REAL_PERF_COUNTER[0]()


# ------------------------------------------------------------------------------------------
# Parent: seed and serve the simulator, run the child, print and check the figures
# ------------------------------------------------------------------------------------------
def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--logins", type=int, default=10_000, help="WorkSpaces logging in, once each")
    parser.add_argument("--minutes", type=int, default=10, help="the storm's length (virtual time)")
    parser.add_argument("--unseen", type=float, default=0.5, help="share of WorkSpaces the daily run missed")
    parser.add_argument("--lookups-per-minute", type=int, default=20, help="LoginLookupsPerMinute")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.endpoint)
    os.environ.update(
        {
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ACCESS_KEY_ID": "simulated",
            "AWS_SECRET_ACCESS_KEY": "simulated",
            "AWS_SESSION_TOKEN": "simulated",
        }
    )
    figures = check(measure(args.logins, args.minutes, args.unseen, args.lookups_per_minute))
    report(figures)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0 if figures["checks_passed"] else 1


def measure(logins: int, minutes: int, unseen: float, lookups_per_minute: int) -> dict[str, Any]:
    import boto3
    from moto import mock_aws
    from moto.server import ThreadedMotoServer

    from tests.support import simulator

    simulator.install()
    with mock_aws(), tempfile.TemporaryDirectory() as work:
        clients = {n: boto3.client(n, region_name=REGION) for n in ("workspaces", "ec2", "ds")}
        plan = seed(clients, logins, minutes, unseen)
        plan["lookups_per_minute"] = lookups_per_minute
        plan_file = Path(work) / "plan.json"
        plan_file.write_text(json.dumps(plan))
        port = _free_port()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        try:
            run = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "tools.bench_logins",
                    "--child",
                    str(plan_file),
                    "--endpoint",
                    f"http://127.0.0.1:{port}",
                ],
                stdout=subprocess.DEVNULL,  # Powertools' metrics lines
                stderr=subprocess.PIPE,
                text=True,
                check=False,
                timeout=7200,
            )
        finally:
            server.stop()
        if run.returncode != 0:
            raise RuntimeError(f"the login storm failed:\n{run.stderr[:3000]}\n...\n{run.stderr[-1500:]}")
        figures: dict[str, Any] = json.loads((Path(work) / "figures.json").read_text())
    figures.update(
        logins=logins,
        minutes=minutes,
        unseen=sum(1 for e in plan["events"] if not e["seen"]),
        lookups_per_minute=lookups_per_minute,
    )
    return figures


def seed(clients: dict[str, Any], logins: int, minutes: int, unseen: float) -> dict[str, Any]:
    """The fleet and the storm: every WorkSpace logs in once, at a random time of the window;
    a random `unseen` share of them was created after the last daily run."""
    from tests.support import fleet

    rng = random.Random(SEED)
    events = []
    per_directory = math.ceil(logins / DIRECTORIES)
    for d in range(DIRECTORIES):
        directory_id = fleet.create_directory(clients, f"corp{d}")
        count = min(per_directory, logins - d * per_directory)
        users = [f"user-{d}-{i:05d}" for i in range(count)]
        ids = fleet.create_workspaces(
            clients,
            directory_id,
            [{"user": u, "compute_type": "STANDARD", "running_mode": "AUTO_STOP"} for u in users],
        )
        for workspace_id, user in zip(ids, users, strict=True):
            events.append(
                {
                    "workspace_id": workspace_id,
                    "directory_id": directory_id,
                    "user": user,
                    "seen": rng.random() >= unseen,
                    "at": (START + timedelta(seconds=rng.uniform(0, minutes * 60))).isoformat(),
                }
            )
    events.sort(key=lambda e: e["at"])
    return {"events": events, "directories": sorted({e["directory_id"] for e in events})}


def check(f: dict[str, Any]) -> dict[str, Any]:
    slots = (
        f["minutes"] * f["lookups_per_minute"] + f["lookups_per_minute"]
    )  # the storm's and one more minute
    f["checks"] = {
        "every login stored, once": f["stored"] == f["logins"] and f["duplicates"] == 0,
        "no WorkSpaces call for a WorkSpace the daily run listed": f["seen_asked"] == 0,
        "WorkSpaces calls within the shared budget": f["workspaces_calls"] <= slots,
        "at most LoginLookupsPerMinute WorkSpaces calls in any minute": f["busiest_minute"]
        <= f["lookups_per_minute"],
        "every user name resolved by the end, or waiting for the next lookup": f["still_unnamed"]
        <= f["waiting_at_end"],
        "peak memory of all 20 containers together under the function's 512 MB": f["peak_rss_mb"] < 512,
    }
    f["checks_passed"] = all(f["checks"].values())
    return f


def report(f: dict[str, Any]) -> None:
    per_event, own = f["wall_ms"], f["own_ms"]
    print(
        f"\n=== {f['logins']:,} logins in {f['minutes']} minutes (virtual time), {f['unseen']:,} from "
        f"WorkSpaces the daily run has not seen; LoginLookupsPerMinute {f['lookups_per_minute']}, "
        f"{CONTAINERS} containers ==="
    )
    print("AWS calls by service and operation (the storm only):")
    for key, n in sorted(f["calls"].items()):
        print(f"  {key:<44}{n:>8,}")
    print(
        f"WorkSpaces API calls: {f['workspaces_calls']:,} (at most {f['busiest_minute']} in any minute); "
        f"before: {f['logins']:,} ({BEFORE}), {f['logins'] / (f['minutes'] * 60):.1f} per second "
        "against the 2 per second the account and region allow"
    )
    print(f"user names from: {f['sources']}")
    print(
        f"logins stored without a user name: {f['stored_unnamed']:,}; filled in during the storm: "
        f"{f['stored_unnamed'] - f['still_unnamed']:,}; still without one at the end: {f['still_unnamed']:,} "
        f"({f['waiting_at_end']:,} WorkSpaces waiting for the next lookup); a missing name was "
        f"filled in {f['name_waits_s']['mean']:.0f} s after its login on average, "
        f"{f['name_waits_s']['max']:.0f} s at most"
    )
    print(
        f"handler time per event (real wall time): mean {per_event['mean']:.1f} ms, "
        f"p50 {per_event['p50']:.1f}, p95 {per_event['p95']:.1f}, p99 {per_event['p99']:.1f}, "
        f"max {per_event['max']:.1f} ms; without the simulator's answers: mean {own['mean']:.1f} ms, "
        f"p95 {own['p95']:.1f} ms; "
        f"AWS calls per event: {f['aws_calls_per_event']:.1f}"
    )
    print(
        f"peak memory of the process holding all {CONTAINERS} containers: {f['peak_rss_mb']:.0f} MB "
        f"(after imports: {f['base_rss_mb']:.0f} MB); "
        f"virtual waits of rate limiter and retries: {f['virtual_wait_seconds']:.1f} s"
    )
    for name, ok in f["checks"].items():
        print(f"  [{'ok' if ok else 'FAILED'}] {name}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ------------------------------------------------------------------------------------------
# Child: the storm itself, against the served simulator
# ------------------------------------------------------------------------------------------
class Meter:
    """Every AWS call of the process (Powertools' own session included) by service and
    operation while `on`, the WorkSpaces each DescribeWorkspaces asked for and when (virtual
    time), and the seconds spent waiting for the simulator's answers (parsing them is the code's
    own work)."""

    def __init__(self) -> None:
        import botocore.client
        import botocore.endpoint

        self.on = False
        self.calls: Counter[str] = Counter()
        self.asked: list[tuple[datetime, list[str]]] = []
        self.http_seconds = 0.0
        make_api_call, send = botocore.client.BaseClient._make_api_call, botocore.endpoint.Endpoint._send
        meter = self

        def counted_call(client: Any, operation: str, params: dict[str, Any]) -> Any:
            if meter.on:
                meter.calls[f"{client.meta.service_model.service_name}:{operation}"] += 1
                if operation == "DescribeWorkspaces":
                    meter.asked.append((datetime.now(UTC), list(params.get("WorkspaceIds", []))))
            return make_api_call(client, operation, params)

        def timed_send(endpoint: Any, request: Any) -> Any:
            sent = _now()
            try:
                return send(endpoint, request)
            finally:
                meter.http_seconds += _now() - sent

        botocore.client.BaseClient._make_api_call = counted_call  # type: ignore[method-assign]
        botocore.endpoint.Endpoint._send = timed_send  # type: ignore[method-assign]


def child(plan_file: str, endpoint: str) -> int:
    use_simulated_environment("ERROR", AWS_ENDPOINT_URL=endpoint)
    import boto3
    import pytest
    from freezegun import freeze_time

    from tests.support.virtual_time import VirtualTime
    from tools.local_run import FREEZE_IGNORE, deployed

    boto3.setup_default_session(region_name=REGION)
    plan = json.loads(Path(plan_file).read_text())
    meter = Meter()
    clients = {n: boto3.client(n) for n in ("s3", "dynamodb", "sns", "sqs")}
    overrides = {"LogLevel": "ERROR", "LoginLookupsPerMinute": str(plan["lookups_per_minute"])}
    # the layer was imported with tests.support.lambda_runtime, before any clock is frozen
    base_rss = _rss_mb()
    with pytest.MonkeyPatch.context() as patch, freeze_time(START, ignore=FREEZE_IGNORE) as frozen:
        virtual = VirtualTime().install(patch)
        virtual.follow(frozen)
        with deployed(clients, overrides) as stack:
            write_daily_map(stack.refs["WorkspaceUserTable"], plan)
            meter.on = True
            outcomes, wall, own, gaps = storm(stack, plan, meter, virtual)
            meter.on = False
            stored, still_unnamed = _stored(clients["dynamodb"], stack.refs["LoginTable"])
            waiting = _waiting(clients["dynamodb"], stack.refs["WorkspaceUserTable"])
    seen = {e["workspace_id"] for e in plan["events"] if e["seen"]}
    per_minute = Counter(at.replace(second=0, microsecond=0) for at, _ in meter.asked)
    figures = {
        "calls": dict(meter.calls),
        "workspaces_calls": sum(n for k, n in meter.calls.items() if k.startswith("workspaces:")),
        "busiest_minute": max(per_minute.values(), default=0),
        "seen_asked": sum(1 for _, ids in meter.asked for w in ids if w in seen),
        "sources": dict(Counter(o["user_name_source"] for _, o, _ in outcomes)),
        "stored": len(stored),
        "duplicates": len(outcomes) - len(set(stored)),
        "stored_unnamed": sum(1 for _, o, _ in outcomes if not o["user_name_resolved"]),
        "still_unnamed": still_unnamed,
        "waiting_at_end": waiting,
        "name_waits_s": _distribution(_name_waits(outcomes, meter.asked) or [0.0]),
        "wall_ms": _distribution(wall),
        "own_ms": _distribution(own),
        "aws_calls_per_event": sum(meter.calls.values()) / len(outcomes),
        "virtual_wait_seconds": virtual.waited - gaps,
        "peak_rss_mb": _rss_mb(),
        "base_rss_mb": base_rss,
    }
    (Path(plan_file).parent / "figures.json").write_text(json.dumps(figures, default=str))
    return 0


def write_daily_map(table: str, plan: dict[str, Any]) -> None:
    """The map as the last daily run left it: the optimizer's own call for every page it lists,
    with the WorkSpaces created since then left out."""
    import boto3

    from ws_autopilot.aws.fleet import WorkspacesFleet
    from ws_autopilot.aws.workspace_users import WorkspaceUserMap
    from ws_autopilot.core.models import Target

    seen = {e["workspace_id"] for e in plan["events"] if e["seen"]}
    users, listing = WorkspaceUserMap(table), WorkspacesFleet(boto3.client("workspaces"))
    for directory_id in plan["directories"]:
        for page in listing.pages(directory_id):
            users.remember(Target(ACCOUNT, REGION), [w for w in page.workspaces if w.workspace_id in seen])


def storm(
    stack: Any, plan: dict[str, Any], meter: Meter, virtual: Any
) -> tuple[list[tuple[dict[str, Any], dict[str, Any], datetime]], list[float], list[float], float]:
    """Every login event delivered at its time to one of the containers, round robin; what each
    returned, its wall and own milliseconds, and the virtual seconds between events."""
    from tests.support.lambda_runtime import load_handler_module

    containers = [stack.handlers["LoginEventsFunction"]] + [
        load_handler_module("login_events").handler for _ in range(CONTAINERS - 1)
    ]
    contexts = [
        FakeContext(invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:login-events:c{i}")
        for i in range(CONTAINERS)
    ]
    outcomes, wall, own, gaps = [], [], [], 0.0
    for n, planned in enumerate(plan["events"]):
        gap = (datetime.fromisoformat(planned["at"]) - datetime.now(UTC)).total_seconds()
        if gap > 0:
            virtual.sleep(gap)
            gaps += gap
        event = access_event(
            planned["workspace_id"],
            planned["directory_id"],
            f"storm-{n:06d}",
            planned["at"],
            ip=f"198.51.{n % 200}.{n % 250}",
        )
        event["time"] = planned["at"][:19] + "Z"
        http_before, started = meter.http_seconds, _now()
        out = containers[n % CONTAINERS](event, contexts[n % CONTAINERS])
        elapsed = _now() - started
        wall.append(elapsed * 1000)
        own.append((elapsed - (meter.http_seconds - http_before)) * 1000)
        outcomes.append((planned, out, datetime.now(UTC)))
    return outcomes, wall, own, gaps


def _waiting(dynamodb: Any, table: str) -> int:
    return sum(
        1
        for page in dynamodb.get_paginator("scan").paginate(TableName=table)
        for item in page["Items"]
        if item["id"]["S"].startswith("WAIT#")
    )


def _stored(dynamodb: Any, table: str) -> tuple[list[str], int]:
    """The login records' event ids, and how many have no user name."""
    ids, unnamed = [], 0
    for page in dynamodb.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            if item["sk"]["S"].startswith("LOGIN#"):
                ids.append(item["event_id"]["S"])
                unnamed += "user_name" not in item
    return ids, unnamed


def _name_waits(
    outcomes: list[tuple[dict[str, Any], dict[str, Any], datetime]], asked: list[tuple[datetime, list[str]]]
) -> list[float]:
    """For each login stored without a user name: seconds until a later lookup asked for its
    WorkSpace (and filled the name in). Logins still waiting at the end are not counted."""
    asked_at: dict[str, list[datetime]] = {}
    for at, ids in asked:
        for workspace_id in ids:
            asked_at.setdefault(workspace_id, []).append(at)
    waits = []
    for planned, out, handled in outcomes:
        if out["user_name_resolved"]:
            continue
        later = [at for at in asked_at.get(planned["workspace_id"], []) if at >= handled]
        if later:
            waits.append((later[0] - handled).total_seconds())
    return waits


def _distribution(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {
        "mean": statistics.fmean(ordered),
        "p50": pick(0.5),
        "p95": pick(0.95),
        "p99": pick(0.99),
        "max": ordered[-1],
    }


def _rss_mb() -> float:
    """Peak resident memory of this process (VmHWM)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
