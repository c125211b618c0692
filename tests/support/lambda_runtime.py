"""What Lambda gives a handler that the tests must give it too: the module loaded from
functions/<name>/app.py, and a context whose remaining time a test controls."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"


def use_simulated_environment(log_level: str, **extra: str) -> None:
    """A tool's own process (the demo's child, `make invoke`, the benchmark's child): simulated
    credentials that can never reach a real account, and Powertools as Lambda would set it, with
    metrics output off. Called when the tool runs, never on import."""
    os.environ.update(
        {
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "simulated",
            "AWS_SECRET_ACCESS_KEY": "simulated",
            "AWS_SESSION_TOKEN": "simulated",
            "POWERTOOLS_SERVICE_NAME": "ws-autopilot",
            "POWERTOOLS_METRICS_NAMESPACE": "WorkSpacesAutopilot",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": log_level,
            **extra,
        }
    )


def load_handler_module(function: str) -> ModuleType:
    """A fresh import of functions/<function>/app.py (so cold-start settings are re-read)."""
    path = ROOT / "functions" / function / "app.py"
    spec = importlib.util.spec_from_file_location(f"functions_{function}_app", path)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # where freezegun finds the module's `datetime`
    spec.loader.exec_module(module)
    return module


def load_event(name: str) -> dict[str, Any]:
    """A sample event from events/ (the same files `sam local invoke -e` takes)."""
    return json.loads((EVENTS / f"{name}.json").read_text())


@dataclass
class FakeContext:
    """A Lambda context. `remaining_ms` yields the remaining time at each call (the last value
    repeats), so a test can make an invocation run short of time after N batches."""

    remaining_ms: list[int] = field(default_factory=lambda: [900_000])
    function_name: str = "test-function"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    memory_limit_in_mb: int = 512
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    log_group_name: str = "/aws/lambda/test-function"
    log_stream_name: str = "test"

    def get_remaining_time_in_millis(self) -> int:
        if len(self.remaining_ms) > 1:
            return self.remaining_ms.pop(0)
        return self.remaining_ms[0]
