from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import freezegun
import pytest
from moto import mock_aws

from tests.support import lambda_runtime, simulator, step_functions

ACCOUNT = "123456789012"
REGION = "us-east-1"

# pytest's own clock (_pytest.timing: test durations, --durations, JUnit times) stays real while a
# test's clock is frozen: freezegun neither patches the ignored modules nor answers their calls.
freezegun.configure(extend_ignore_list=["_pytest"])

os.environ.update(
    {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "POWERTOOLS_SERVICE_NAME": "ws-autopilot",
        "POWERTOOLS_METRICS_NAMESPACE": "WorkSpacesAutopilot",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",  # as simulator.install() sets it for the tools
    }
)
lambda_runtime.import_layer()  # before any test freezes a clock (lambda_runtime.import_layer)


SERVICES = (
    "workspaces",
    "cloudwatch",
    "s3",
    "ec2",
    "ds",
    "sns",
    "sqs",
    "dynamodb",
    "stepfunctions",
    "lambda",
    "iam",
)


class Clients(dict[str, Any]):
    """boto3 clients by service name, each made when a test first asks for it and kept for the
    tests after it (a client costs about 10 ms of CPU to make; the simulator's state lives in
    moto's backends, which every test starts afresh, not in clients)."""

    def __missing__(self, service: str) -> Any:
        if service not in SERVICES:
            raise KeyError(f"no simulator client for {service!r}: one of {', '.join(SERVICES)}")
        made = self[service] = boto3.client(service, region_name=REGION)
        return made


CLIENTS = Clients()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked slow first (each takes seconds to tens of seconds): under pytest-xdist the
    workers then share the short ones at the end instead of one finishing a long test alone."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    """boto3 clients against the in-process simulator (moto plus the project's extensions)."""
    simulator.install()
    simulator.CALLS.clear()
    simulator.CALL_LOG.clear()
    with mock_aws(config=step_functions.ENGINE):
        yield CLIENTS
