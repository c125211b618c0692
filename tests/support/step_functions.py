"""Step Functions executions on moto's own engine (an ASL interpreter ported from LocalStack),
with three settings for tests:

- the engine's Retry backoff waits on the virtual clock (tests/support/virtual_time.py), so a
  retried state moves the frozen clock on as it would in AWS, and no test sleeps;
- a `.sync` task polls its child execution every few milliseconds instead of every 0.5 s (in
  AWS the parent learns of the end from an event; the poll is the engine's own way);
- `$$.Execution.StartTime` reads as in AWS, `2026-11-30T21:05:00.000Z` (the engine gives
  Python's `2026-11-30T21:05:00+00:00`);
- an execution stopped (StopExecution) while an inline Map runs ends ABORTED, as in AWS (the
  engine turns the iteration's abort into an error and ends it FAILED);
- the engine makes its AWS calls (Lambda Invoke, S3 for ItemReader and ResultWriter, Step
  Functions for child executions) with one client per service and region instead of a new
  client per call, which costs more than the call itself; the clients come from a boto3 session
  of their own, so what counts the product's calls on the default session (the benchmark) does
  not count Step Functions' own.

The engine calls Lambda through the simulator's Lambda, which runs the real handlers in this
process (tests/support/lambda_runtime.py).
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import types
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config
from moto.core.config import DefaultConfig
from moto.settings import moto_server_port
from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
    resource,
    state_task_service_callback,
    state_task_service_factory,
    state_task_service_unsupported,
)
from moto.stepfunctions.parser.asl.eval.evaluation_details import ExecutionDetails
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser
from moto.stepfunctions.parser.asl.utils import boto_client

from tests.support import lambda_runtime, virtual_time

ENGINE: DefaultConfig = {"stepfunctions": {"execute_state_machine": True}}
SYNC_POLL_SECONDS = 0.002

_original_client_for = boto_client.boto_client_for
_SESSION = boto3.session.Session()
_clients: dict[tuple[str, str, bool], Any] = {}
_clients_lock = threading.Lock()
_INSTALLED = False
_original_start_details: Any = None
_original_set_error: Any = None


def _backoff(seconds: float) -> None:
    clock = virtual_time.current
    if clock is not None:
        clock.sleep(seconds)


def _client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    """The engine's own boto_client_for, made once per service and region."""
    intercepted = boto_client.botocore_stubber.enabled
    key = (region, service, intercepted)
    with _clients_lock:
        if key not in _clients:
            options: dict[str, Any] = {}
            if not intercepted:  # moto in server mode, as the engine's own function does
                options["endpoint_url"] = f"http://localhost:{moto_server_port()}"
            _clients[key] = _SESSION.client(
                service,
                region_name=region,
                aws_access_key_id="ak",
                aws_secret_access_key="sk",
                config=Config(
                    parameter_validation=False,
                    retries={"max_attempts": 0, "total_max_attempts": 1},
                    connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                    read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                ),
                **options,
            )
        return _clients[key]


def _aws_start_time(self: Any) -> ExecutionDetails:
    details = _original_start_details(self)
    start: datetime = self.start_date.astimezone(UTC)
    return ExecutionDetails(
        arn=details.arn,
        name=details.name,
        role_arn=details.role_arn,
        inpt=details.inpt,
        start_time=f"{start:%Y-%m-%dT%H:%M:%S}.{start.microsecond // 1000:03d}Z",
    )


def _set_error_unless_stopped(self: Any, error: Any) -> None:
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped

    if isinstance(self.program_state(), ProgramStopped):
        return  # stopped is final: what fails in states still under way does not change it
    _original_set_error(self, error)


def install() -> None:
    """Apply the settings above and serve Lambda in-process (idempotent)."""
    global _INSTALLED
    if _INSTALLED:
        return
    import moto.stepfunctions.parser.models  # noqa: F401  (loads every engine module that makes calls)
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.backend.execution import Execution

    global _original_start_details, _original_set_error
    _original_start_details = Execution.get_start_execution_details
    Execution.get_start_execution_details = _aws_start_time  # type: ignore[method-assign]
    _original_set_error = Environment.set_error
    Environment.set_error = _set_error_unless_stopped  # type: ignore[method-assign]
    # The engine logs every failure it handles with the whole state's repr (pages per line).
    logging.getLogger("moto.stepfunctions.parser.asl.component.eval_component").setLevel(logging.CRITICAL)
    lambda_runtime.install_in_process_lambda()
    retrier_decl.time = types.SimpleNamespace(sleep=_backoff)  # type: ignore[attr-defined]
    state_task_service_callback._DELAY_SECONDS_SYNC_CONDITION_CHECK = SYNC_POLL_SECONDS  # type: ignore[misc]
    for name, module in list(sys.modules.items()):
        if name.startswith("moto.stepfunctions.parser") and getattr(module, "boto_client_for", None) is (
            _original_client_for
        ):
            module.boto_client_for = _client_for  # type: ignore[attr-defined]
    _INSTALLED = True


# ------------------------------------------------------------------------------------------------
# What the engine can run
# ------------------------------------------------------------------------------------------------
def unsupported(definition: str) -> list[str]:
    """What in an ASL definition the engine cannot run: anything its parser refuses (an unknown
    state type or field), and every Task whose service, integration pattern (`.sync`,
    `.waitForTaskToken`) or parameter the engine does not implement. Empty: it runs all of it."""
    try:
        AmazonStateLanguageParser.parse(definition)
    except Exception as exc:  # the parser's own errors name the field it does not know
        return [f"the engine's parser refuses the definition: {exc}"]
    problems = []
    for name, state in _tasks(json.loads(definition)):
        task = resource.Resource.from_resource_arn(state["Resource"])
        if not isinstance(task, resource.ServiceResource):
            problems.append(f"{name}: resource {state['Resource']} is not a service integration")
            continue
        service = state_task_service_factory.state_task_service_for(task.service_name)
        if isinstance(service, state_task_service_unsupported.StateTaskServiceUnsupported):
            problems.append(f"{name}: the engine forwards {task.service_name} without implementing it")
            continue
        service.resource = task
        if task.condition is not None and (
            not isinstance(service, state_task_service_callback.StateTaskServiceCallback)
            or task.condition not in service._supported_integration_patterns
        ):
            problems.append(f"{name}: integration pattern .{task.condition} of {state['Resource']}")
        supported = service._get_supported_parameters()
        given = {key.removesuffix(".$") for key in state.get("Parameters", {})}
        if supported is not None and not given <= supported:
            problems.append(f"{name}: parameters {sorted(given - supported)} of {state['Resource']}")
    return problems


def _tasks(machine: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in machine["States"].items():
        if state["Type"] == "Task":
            yield name, state
        for nested in [state.get("ItemProcessor"), state.get("Iterator"), *state.get("Branches", [])]:
            if nested:
                yield from _tasks(nested)
