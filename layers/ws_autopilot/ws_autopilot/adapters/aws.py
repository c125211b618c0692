"""boto3 clients with botocore's own retry logic instead of hand-written sleep loops."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

# Adaptive mode adds client-side rate limiting on top of exponential backoff: the WorkSpaces API
# allows about 2 requests per second per account and region, shared with every other tool.
RETRY_CONFIG = Config(
    retries={"mode": "adaptive", "max_attempts": 10},
    connect_timeout=5,
    read_timeout=30,
    user_agent_extra="ws-autopilot/0.1",
)


def client(service: str, **kwargs: Any) -> Any:
    """A boto3 client for `service` with the product's retry configuration."""
    return boto3.client(service, config=RETRY_CONFIG, **kwargs)


def error_code(exc: Exception) -> str:
    """The AWS error code of a botocore ClientError, or the exception's class name."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if code:
            return str(code)
    return type(exc).__name__
