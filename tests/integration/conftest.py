from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from freezegun import freeze_time

from tests.conftest import ACCOUNT, REGION
from tests.support import fleet, simulator
from tests.support.virtual_time import VirtualTime
from tools.local_run import FREEZE_IGNORE, LocalStack, deployed


@dataclass
class Fleet:
    """WorkSpaces created in the simulator for one test, by a short name."""

    clients: dict[str, Any]
    directory_id: str
    ids: dict[str, str]

    def mode(self, name: str) -> str:
        ws = self.clients["workspaces"].describe_workspaces(WorkspaceIds=[self.ids[name]])["Workspaces"][0]
        return str(ws["WorkspaceProperties"]["RunningMode"])


@pytest.fixture(autouse=True)
def virtual_time(monkeypatch) -> VirtualTime:
    """Every wait of botocore's retries and of the WorkSpaces rate limiter, on a virtual clock."""
    return VirtualTime().install(monkeypatch)


OTHER_REGION = "us-west-2"  # where a standby's primary, or a primary's standby, is made


@pytest.fixture
def make_fleet(aws) -> Callable[..., Fleet]:
    """Create WorkSpaces from specs: name -> (mode, compute type, profile, state, tags, and os,
    root_gib, user_gib: what DescribeWorkspaces reports of the OS and volumes, none by default;
    `since` and `gap` leave hours of the usage series without datapoints). `agentic`: made with
    an agentic persona configuration (its bundle must allow it: os WINDOWS_SERVER_2025, compute
    other than VALUE, STANDARD or PERFORMANCE). `standby`: a standby WorkSpace (multi-region
    resilience) made with CreateStandbyWorkspaces, whose primary, of the same spec, is in
    OTHER_REGION; `has_standby`: a primary WorkSpace whose standby is in OTHER_REGION. `load`
    (with a profile): its CPUUsage and MemoryUsage series too, a tests/support/fleet.py LOADS name."""

    def make(specs: dict[str, dict[str, Any]], now: datetime) -> Fleet:
        directory_id = fleet.create_directory(aws, "corp")
        agentic = any(spec.get("agentic") for spec in specs.values())
        personas = {REGION: fleet.create_persona(aws)} if agentic else {}

        def requests(names: list[str], region: str) -> list[dict[str, Any]]:
            return [
                {
                    "user": f"user-{name}",
                    "compute_type": specs[name].get("compute", "STANDARD"),
                    "running_mode": specs[name]["mode"],
                    "tags": specs[name].get("tags", {}),
                    **{k: specs[name][k] for k in ("os", "root_gib", "user_gib") if k in specs[name]},
                    **({"persona": personas[region]} if specs[name].get("agentic") else {}),
                }
                for name in names
            ]

        here = [name for name in specs if not specs[name].get("standby")]
        ids = dict(zip(here, fleet.create_workspaces(aws, directory_id, requests(here, REGION)), strict=True))
        standbys = [name for name in specs if specs[name].get("standby")]
        with_standby = [name for name in specs if specs[name].get("has_standby")]
        if standbys or with_standby:
            other = fleet.clients_in(ACCOUNT, ACCOUNT, OTHER_REGION, ("ec2", "ds", "workspaces"))
            other_directory = fleet.create_directory(other, "corp-standby")
            if agentic:
                personas[OTHER_REGION] = fleet.create_persona(other)
            primaries = fleet.create_workspaces(other, other_directory, requests(standbys, OTHER_REGION))
            made = fleet.create_standby_workspaces(aws, directory_id, OTHER_REGION, primaries)
            ids.update(zip(standbys, made, strict=True))
            fleet.create_standby_workspaces(other, other_directory, REGION, [ids[n] for n in with_standby])
        for name, spec in specs.items():
            workspace_id = ids[name]
            simulator.set_state(ACCOUNT, REGION, workspace_id, spec.get("state", "AVAILABLE"))
            if spec.get("profile"):
                fleet.seed_usage(
                    ACCOUNT,
                    REGION,
                    workspace_id,
                    spec["profile"],
                    spec["mode"],
                    now,
                    since=spec.get("since"),
                    gap=spec.get("gap"),
                )
                if spec.get("load"):
                    fleet.seed_load(
                        ACCOUNT, REGION, workspace_id, spec["profile"], spec["mode"], spec["load"], now
                    )
        return Fleet(aws, directory_id, {name: ids[name] for name in specs})

    return make


@pytest.fixture
def deploy(aws) -> Iterator[Callable[..., LocalStack]]:
    """Deploy the template locally with parameter overrides; yields a function to do so."""
    stack: list[Any] = []

    def _deploy(**overrides: str) -> LocalStack:
        context = deployed(aws, overrides)
        stack.append(context)
        return context.__enter__()

    yield _deploy
    for context in reversed(stack):
        context.__exit__(None, None, None)


@pytest.fixture
def alert_inbox(aws) -> Callable[[LocalStack], Callable[[datetime], list[dict[str, Any]]]]:
    """Subscribe an SQS queue to a deployment's alert topic; returns a function that drains it
    at the scenario time `at` and gives the SNS messages (Subject, Message, MessageAttributes...)
    in order.

    The simulator's SQS drops messages older than the queue's retention (4 days) by the clock it
    reads, so the inbox is read under the frozen clock at `at` (the time of the scenario's last
    step), never the machine's: a test's result must not depend on the day it runs."""

    def subscribe(stack: LocalStack) -> Callable[[datetime], list[dict[str, Any]]]:
        url = aws["sqs"].create_queue(QueueName="alert-inbox")["QueueUrl"]
        arn = aws["sqs"].get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        aws["sns"].subscribe(TopicArn=stack.refs["AlertTopic"], Protocol="sqs", Endpoint=arn)

        def received(at: datetime) -> list[dict[str, Any]]:
            sqs, out = aws["sqs"], []
            with freeze_time(at, ignore=FREEZE_IGNORE):
                while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
                    for message in batch:
                        out.append(json.loads(message["Body"]))
                        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            return out

        return received

    return subscribe


def read_report(s3: Any, output: dict[str, Any]) -> tuple[list[dict[str, str]], dict[str, Any]]:
    bucket = os.environ["REPORT_BUCKET"]
    body = s3.get_object(Bucket=bucket, Key=output["report_key"])["Body"].read().decode()
    summary = json.loads(s3.get_object(Bucket=bucket, Key=output["summary_key"])["Body"].read())
    return list(csv.DictReader(io.StringIO(body))), summary
