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


@pytest.fixture
def make_fleet(aws) -> Callable[..., Fleet]:
    """Create WorkSpaces from specs: name -> (mode, compute type, profile, state, tags, and os,
    root_gib, user_gib: what DescribeWorkspaces reports of the OS and volumes, none by default;
    `since` and `gap` leave hours of the usage series without datapoints)."""

    def make(specs: dict[str, dict[str, Any]], now: datetime) -> Fleet:
        directory_id = fleet.create_directory(aws, "corp")
        names = list(specs)
        ids = fleet.create_workspaces(
            aws,
            directory_id,
            [
                {
                    "user": f"user-{name}",
                    "compute_type": specs[name].get("compute", "STANDARD"),
                    "running_mode": specs[name]["mode"],
                    "tags": specs[name].get("tags", {}),
                    **{k: specs[name][k] for k in ("os", "root_gib", "user_gib") if k in specs[name]},
                }
                for name in names
            ],
        )
        for name, workspace_id in zip(names, ids, strict=True):
            spec = specs[name]
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
        return Fleet(aws, directory_id, dict(zip(names, ids, strict=True)))

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
