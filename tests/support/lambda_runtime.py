"""What Lambda gives a handler that the tests must give it too: the module loaded from
functions/<name>/app.py, a context whose remaining time a test controls, and Lambda's Invoke
served in this process (moto runs function code only in Docker, which these machines lack)."""

from __future__ import annotations

import base64
import importlib
import importlib.util
import json
import os
import pkgutil
import sys
import threading
import traceback
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from moto.awslambda.models import LambdaFunction

import ws_autopilot

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
    import_layer()


def import_layer() -> None:
    """Import every module of the shared layer. A module that defines a pydantic model with a
    datetime field cannot be imported under a frozen clock (freezegun has replaced datetime, and
    pydantic has no schema for its stand-in), and handlers are loaded by deployments that tests
    and tools make under one; so the layer is imported first, as Lambda's image holds it before
    any invocation: by the tests' conftest and by `use_simulated_environment`, once Powertools'
    variables are set (its loggers take their service name when they are made)."""
    for module in pkgutil.walk_packages(ws_autopilot.__path__, "ws_autopilot."):
        importlib.import_module(module.name)


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


# ------------------------------------------------------------------------------------------------
# Lambda's Invoke, served in this process
# ------------------------------------------------------------------------------------------------
Handler = Callable[[dict[str, Any], Any], Any]
ContextFactory = Callable[[str, str], Any]  # (function name, function ARN) -> context


def default_context(function_name: str, function_arn: str) -> FakeContext:
    return FakeContext(function_name=function_name, invoked_function_arn=function_arn)


@dataclass
class DeployedFunction:
    """A function of the template deployed in the simulator's Lambda: its real handler, and the
    name the state machine definitions give its ARN (the invocation counts are kept under it)."""

    handler: Handler
    counted_as: str


@dataclass
class LambdaRuntime:
    """What runs a function when the simulator's Lambda is invoked (by the Step Functions engine,
    or by anyone with a Lambda client): the real handler of functions/<name>/app.py, in this
    process, with a context from `context_for`. As Lambda does, the payload is JSON in and out,
    and a raised exception is answered with `X-Amz-Function-Error: Unhandled` and Lambda's error
    payload (`errorType` is the exception's class name: the error name Step Functions matches).

    `before_invoke(counted_as)` is called before each invocation (a test can start an
    overlapping execution from there); `time_out(counted_as)` makes the next invocations of a
    function answer as Lambda does when it stops an invocation at its timeout, after the handler
    has done all its work (the worst moment: every change made, the result lost)."""

    functions: dict[str, DeployedFunction] = field(default_factory=dict)
    context_for: ContextFactory = field(default=default_context)
    before_invoke: Callable[[str], None] | None = None
    invocations: Counter[str] = field(default_factory=Counter)
    _timeouts: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        """A new deployment: no function, no pending timeout, no count."""
        self.functions.clear()
        self._timeouts.clear()
        self.invocations.clear()

    def time_out(self, counted_as: str, times: int = 1) -> None:
        self._timeouts[counted_as] += times

    def invoke(self, function_name: str, function_arn: str, payload: bytes) -> tuple[bytes, bool]:
        """(response payload, whether it is a function error)."""
        deployed = self.functions[function_name]
        with self._lock:
            self.invocations[deployed.counted_as] += 1
            timed_out = self._timeouts[deployed.counted_as] > 0
            if timed_out:
                self._timeouts[deployed.counted_as] -= 1
        if self.before_invoke is not None:
            self.before_invoke(deployed.counted_as)
        request_id = str(uuid.uuid4())
        context = self.context_for(function_name, function_arn)
        try:
            result = deployed.handler(json.loads(payload or b"{}"), context)
        except Exception as exc:  # what the Lambda runtime reports for an unhandled error
            return _error_payload(type(exc).__name__, str(exc), request_id, exc), True
        if timed_out:
            message = f"RequestId: {request_id} Error: Task timed out after 900.00 seconds"
            return _error_payload("Sandbox.Timedout", message, request_id), True
        return json.dumps(result).encode(), False


def _error_payload(error_type: str, message: str, request_id: str, exc: BaseException | None = None) -> bytes:
    trace = traceback.format_tb(exc.__traceback__) if exc is not None else []
    return json.dumps(
        {"errorMessage": message, "errorType": error_type, "requestId": request_id, "stackTrace": trace}
    ).encode()


RUNTIME = LambdaRuntime()  # the functions the current deployment registered


def _invoke_in_process(
    self: LambdaFunction, body: str, request_headers: Any, response_headers: dict[str, str]
) -> bytes:
    """Replaces moto's LambdaFunction.invoke (which runs the code in Docker)."""
    if self.function_name not in RUNTIME.functions:
        raise KeyError(f"no handler deployed for Lambda function {self.function_name}")
    request = body.encode() if isinstance(body, str) else bytes(body or b"")
    payload, errored = RUNTIME.invoke(self.function_name, self.function_arn, request)
    if errored:
        response_headers["x-amz-function-error"] = "Unhandled"
    if request_headers.get("x-amz-log-type") == "Tail":
        response_headers["x-amz-log-result"] = base64.b64encode(b"").decode()
    return payload


def install_in_process_lambda() -> None:
    """Serve the simulator's Lambda Invoke with the registered handlers (idempotent)."""
    LambdaFunction.invoke = _invoke_in_process  # type: ignore[method-assign]
