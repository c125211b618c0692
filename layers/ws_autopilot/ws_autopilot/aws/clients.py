"""boto3 clients with botocore's own retry logic instead of hand-written sleep loops."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from ws_autopilot.core.errors import AwsCallFailed, PermanentAwsError, TransientAwsError

# Adaptive mode adds client-side rate limiting on top of exponential backoff: the WorkSpaces API
# allows about 2 requests per second per account and region, shared with every other tool.
RETRY_CONFIG = Config(
    retries={"mode": "adaptive", "max_attempts": 10},
    connect_timeout=5,
    read_timeout=30,
    user_agent_extra="ws-autopilot/0.1",
)


def client(service: str, region_name: str | None = None, own: bool = False) -> Any:
    """A boto3 client for `service` with the product's retry configuration, made once per Lambda
    container and region (a client costs about 10 ms of CPU to make, and boto3 clients are
    thread-safe); `own=True`: a new one, for a caller that attaches handlers to it."""
    if own:
        return boto3.client(service, region_name=region_name, config=RETRY_CONFIG)
    return _shared_client(service, region_name)


@cache
def _shared_client(service: str, region_name: str | None) -> Any:
    return boto3.client(service, region_name=region_name, config=RETRY_CONFIG)


def forget_clients() -> None:
    """A cold start: the next `client()` of each service and region is a new one."""
    _shared_client.cache_clear()


def error_code(exc: Exception) -> str:
    """The AWS error code of a botocore ClientError, or the exception's class name."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if code:
            return str(code)
    return type(exc).__name__


TRANSIENT_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestThrottled",
        "SlowDown",
        "ServiceUnavailable",
        "InternalServiceFault",
        "InternalFailure",
        "InternalError",
        "ResourceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


def classify(operation: str, exc: ClientError | BotoCoreError) -> AwsCallFailed:
    """A botocore failure as the product's transient or permanent error."""
    code = error_code(exc)
    status = getattr(exc, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    transient = isinstance(exc, BotoCoreError) or code in TRANSIENT_CODES or status >= 500
    return (TransientAwsError if transient else PermanentAwsError)(operation, code)


@contextmanager
def aws_call(operation: str) -> Iterator[None]:
    """Raise botocore failures inside the block as TransientAwsError or PermanentAwsError."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise classify(operation, exc) from exc


def conditional_write(operation: str, call: Callable[..., Any], **request: Any) -> bool:
    """A DynamoDB write with a ConditionExpression: False when the condition failed (someone
    else wrote first), True when it was written. Other failures raise AwsCallFailed."""
    try:
        with aws_call(operation):
            call(**request)
    except PermanentAwsError as exc:
        if exc.error_code == "ConditionalCheckFailedException":
            return False
        raise
    return True
