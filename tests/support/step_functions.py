"""Step Functions executions on moto's own engine (an ASL interpreter ported from LocalStack),
with its gaps filled as AWS behaves, each named with what the engine did instead:

- the Retry backoff waits on the virtual clock (tests/support/virtual_time.py), so a retried
  state moves the frozen clock on as it would in AWS, and no test sleeps (the engine slept);
- a `.sync` task polls its child execution every few milliseconds (the engine: every 0.5 s; in
  AWS the parent learns of the end from an event);
- `$$.Execution.StartTime` reads `2026-11-30T21:05:00.000Z` (the engine: `...+00:00`);
- an execution stopped while an inline Map runs ends ABORTED (the engine turned the
  iteration's abort into an error and ended it FAILED);
- the Step Functions integration (`states:startExecution.sync:2`) sends the task's Parameters
  as the API's members and gives the task AWS's names (`ExecutionArn`, `Output`) (the engine
  passed `StateMachineArn` to botocore as it stands and could not start a child), and stops the
  child when the parent is stopped or times out (the engine left it running);
- an execution started without a name gets a UUID (the engine named it `None`, and refused the
  next one as already existing);
- a Distributed Map's `ResultWriter` reads its Parameters' paths from the Map state's input
  (the engine read them from the children's results) and writes the child executions' results
  as AWS documents them: a `manifest.json` naming `SUCCEEDED_0.json` and `FAILED_0.json`, each
  a JSON array of executions with their input and output as JSON strings (the engine wrote an
  empty manifest);
- the engine's own AWS calls (Lambda Invoke, S3 for ItemReader and ResultWriter, Step Functions
  for child executions) use one client per service and region (the engine made one per call)
  from a boto3 session of their own, so what counts the product's calls on the default session
  (the benchmark) does not count Step Functions' calls.

Settings that only make it faster, for runs over thousands of accounts and regions: a
definition is parsed once, not at every execution (a quarter of a second for a child
execution); a JSONPath once, not at every use (the parser builds its tables each time); a
`.sync` task looks at its child's status in the engine and calls DescribeExecution once the child
has ended (a DescribeExecution through botocore and moto every 2 ms cost more than the child);
every botocore session of the process shares one loader of botocore's JSON data (a member
account's session parsed the 1 MB endpoints file again).

The engine calls Lambda through the simulator's Lambda, which runs the real handlers in this
process (tests/support/lambda_runtime.py).
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import sys
import threading
import time
import types
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import botocore
import botocore.loaders
import botocore.session
import jsonpath_ng.ext
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
# Every call the engine makes, by (service, operation): what the state machines' roles must allow
# (tests/template/test_iam_coverage.py evaluates them).
ENGINE_CALLS: Counter[tuple[str, str]] = Counter()


def _count_call(event_name: str, **_: Any) -> None:
    _, service, operation = event_name.split(".", 2)
    ENGINE_CALLS[(service, operation)] += 1


_SESSION.events.register("before-call", _count_call)
_clients: dict[tuple[str, str, bool], Any] = {}
_clients_lock = threading.Lock()
_INSTALLED = False
_original_start_details: Any = None
_original_set_error: Any = None
_original_eval_input: Any = None
_original_eval_job: Any = None
_original_validate: Any = None
_original_sfn_parameters: Any = None
_original_start_execution: Any = None
_original_sync2_resolver: Any = None


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


# ------------------------------------------------------------------------------------------------
# A Distributed Map's child executions and their results
# ------------------------------------------------------------------------------------------------
@dataclass
class _Child:
    input: Any = None
    error: str | None = None
    cause: str | None = None
    started: datetime | None = None
    stopped: datetime | None = None


_children: dict[str, dict[int, _Child]] = {}  # map run ARN -> item index -> what it ran
_children_lock = threading.Lock()


def _child(worker: Any, index: int) -> _Child:
    with _children_lock:
        return _children.setdefault(worker._map_run_record.map_run_arn, {}).setdefault(index, _Child())


def _record_child_input(self: Any, env_frame: Any) -> None:
    """The child execution's input: the item after the ItemSelector (or the item itself)."""
    _original_eval_input(self, env_frame)
    index = env_frame.states.context_object.context_object_data["Map"]["Item"]["Index"]
    child = _child(self, index)
    child.input = copy.deepcopy(env_frame.states.get_input())
    child.started = datetime.now(UTC)


def _record_child_end(self: Any, env: Any, job: Any) -> None:
    """How the child execution ended: its error and cause when it failed."""
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramError

    _original_eval_job(self, env, job)
    child = _child(self, job.job_index)
    child.stopped = datetime.now(UTC)
    ended = env.program_state()
    if isinstance(ended, ProgramError):
        child.error = (ended.error or {}).get("error")
        child.cause = (ended.error or {}).get("cause")
    elif job.job_output is None:
        child.error = "States.Runtime"


@dataclass
class MapChild:
    """One child execution of a Distributed Map, as its ResultWriter records it."""

    input: Any
    output: Any = None  # None: it did not succeed
    error: str | None = None
    cause: str | None = None
    started: datetime | None = None
    stopped: datetime | None = None


def write_map_results(
    s3: Any, bucket: str, manifest_key: str, map_run_arn: str, children: list[MapChild]
) -> None:
    """What a Distributed Map's ResultWriter writes to S3 in AWS: per status, one file holding every
    child execution of that status (`SUCCEEDED_0.json`, `FAILED_0.json`: a JSON array of
    executions, their input and output as JSON strings) beside `manifest_key`, and the manifest."""
    base = manifest_key.rsplit("/", 1)[0] + "/"
    execution_prefix = map_run_arn.replace(":mapRun:", ":execution:").rsplit(":", 1)[0]
    state_machine = map_run_arn.replace(":mapRun:", ":stateMachine:").rsplit(":", 1)[0]
    by_status: dict[str, list[dict[str, Any]]] = {"SUCCEEDED": [], "FAILED": []}
    for child in children:
        name = str(uuid.uuid4())
        execution: dict[str, Any] = {
            "ExecutionArn": f"{execution_prefix}:{name}",
            "Input": json.dumps(child.input),
            "InputDetails": {"Included": True},
            "Name": name,
            "StartDate": (child.started or datetime.now(UTC)).isoformat(),
            "StateMachineArn": state_machine,
            "StopDate": (child.stopped or datetime.now(UTC)).isoformat(),
        }
        if child.output is not None and child.error is None:
            execution.update(
                Output=json.dumps(child.output), OutputDetails={"Included": True}, Status="SUCCEEDED"
            )
            by_status["SUCCEEDED"].append(execution)
        else:
            execution.update(Status="FAILED", Error=child.error or "States.Runtime", Cause=child.cause or "")
            by_status["FAILED"].append(execution)
    files: dict[str, list[dict[str, Any]]] = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
    for status, executions in by_status.items():
        if executions:
            body = json.dumps(executions).encode()
            key = f"{base}{status}_0.json"
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            files[status].append({"Key": key, "Size": len(body)})
    manifest = {"DestinationBucket": bucket, "MapRunArn": map_run_arn, "ResultFiles": files}
    s3.put_object(Bucket=bucket, Key=manifest_key, Body=json.dumps(manifest).encode())


def _write_results(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
    """ResultWriter's s3:putObject, writing what AWS writes (the engine's own wrote only an
    empty manifest)."""
    parameters = env.stack.pop()
    outputs: list[Any] = env.stack.pop()
    record = env.map_run_record_pool_manager.get_all().pop()
    prefix = parameters["Prefix"].rstrip("/") + "/" if parameters["Prefix"] else ""
    key = f"{prefix}{record.map_run_arn.split(':')[-1]}/manifest.json"
    with _children_lock:
        seen = _children.pop(record.map_run_arn, {})
    children = []
    for index, output in enumerate(outputs):
        child = seen.get(index, _Child())
        children.append(MapChild(child.input, output, child.error, child.cause, child.started, child.stopped))
    write_map_results(
        _client_for(resource_runtime_part.region, "s3"),
        parameters["Bucket"],
        key,
        record.map_run_arn,
        children,
    )
    env.stack.append(
        {"MapRunArn": record.map_run_arn, "ResultWriterDetails": {"Bucket": parameters["Bucket"], "Key": key}}
    )


def _result_writer_eval(self: Any, env: Any) -> None:
    """ResultWriter's Parameters read the Map state's input, as in AWS (the engine read the
    children's results)."""
    results = env.stack[-1]
    env.stack.append(env.states.get_input())
    self.parargs.eval(env=env)
    parameters = env.stack.pop()
    env.stack.pop()
    if env.stack[-1] is not results:
        raise RuntimeError("ResultWriter: the engine's stack is not as expected")
    env.stack.append(parameters)
    self.resource_eval.eval_resource(env=env)


# ------------------------------------------------------------------------------------------------
# The Step Functions service integration (states:startExecution.sync:2)
# ------------------------------------------------------------------------------------------------
def _operation(service: str, action: str) -> Any:
    model = _SESSION._session.get_service_model(service)
    names = {botocore.xform_name(name): name for name in model.operation_names}
    return model.operation_model(names[action])


def _sfn_parameters(
    self: Any,
    parameters: dict[str, Any],
    boto_service_name: str | None = None,
    service_action_name: str | None = None,
) -> None:
    """The task's Parameters (`StateMachineArn`, `Input`, `Name`) as the API's members
    (`stateMachineArn`...), which the engine left to a base method that does nothing."""
    _original_sfn_parameters(self, parameters, boto_service_name, service_action_name)
    action = service_action_name or self._get_boto_service_action()
    members = {m.lower(): m for m in _operation("stepfunctions", action).input_shape.members}
    for key in list(parameters):
        if key.lower() in members:
            parameters[members[key.lower()]] = parameters.pop(key)


def _sfn_response(
    self: Any, response: Any, boto_service_name: str | None = None, service_action_name: str | None = None
) -> None:
    """The API's answer with the names the task's output has in AWS (`ExecutionArn`,
    `Output`...), member by member (the execution's own input and output are left as they are)."""
    action = service_action_name or self._get_boto_service_action()
    if isinstance(response, dict):
        converted = _aws_names(response, _operation("stepfunctions", action).output_shape)
        response.clear()
        response.update(converted)


def _aws_names(value: Any, shape: Any) -> Any:
    if shape.type_name == "structure" and isinstance(value, dict):
        return {
            (name[0].upper() + name[1:] if name in shape.members else name): (
                _aws_names(item, shape.members[name]) if name in shape.members else item
            )
            for name, item in value.items()
        }
    if shape.type_name == "list" and isinstance(value, list):
        return [_aws_names(item, shape.member) for item in value]
    return value


def _start_execution(
    self: Any, state_machine_arn: str, name: str | None = None, *args: Any, **kwargs: Any
) -> Any:
    """StartExecution without a name gets a UUID, as in AWS (the engine named it `None`, so the
    second unnamed execution of a state machine was refused as already existing)."""
    return _original_start_execution(self, state_machine_arn, name or str(uuid.uuid4()), *args, **kwargs)


@functools.lru_cache(maxsize=32)
def _parsed(definition: str) -> Any:
    return AmazonStateLanguageParser.parse(definition)[0]


@functools.lru_cache(maxsize=32)
def _validated(definition: str) -> None:
    """CreateStateMachine's check of a definition, made once per definition (every test deploys
    the same few): a definition it refuses raises, and is checked again the next time."""
    _original_validate(definition=definition)


def _evaluation_entrypoint(self: Any) -> Any:
    """The program of an execution's definition, parsed once per definition: its components keep
    no state of an evaluation (the engine evaluates one program in many threads)."""
    return _parsed(self._evaluation_details.state_machine_details.definition)


@functools.lru_cache(maxsize=1024)
def _json_path(path: str) -> Any:
    return jsonpath_ng.ext.parse(path)


def _sync_when_ended(self: Any, env: Any, *args: Any, **kwargs: Any) -> Any:
    """The `.sync:2` resolver, asked only once the child has ended: until then its status is read
    in the engine, without a DescribeExecution call."""
    from moto.stepfunctions.parser.models import stepfunctions_parser_backends

    submission = env.stack[-1]
    resolve = _original_sync2_resolver(self, env, *args, **kwargs)
    arn = submission["ExecutionArn"]
    _, _, _, region, account, *_ = arn.split(":")
    backend = stepfunctions_parser_backends[account][region]
    child = backend.describe_execution(arn)

    def when_ended() -> Any:
        while child.exec_status == "RUNNING":
            if not env.is_running():  # the parent was stopped or timed out: Step Functions stops the child
                backend.stop_execution(arn)
                return None
            time.sleep(SYNC_POLL_SECONDS)
        return resolve()

    return when_ended


@functools.lru_cache(maxsize=8)
def _shared_loader(search_path_string: str | None = None) -> Any:
    return botocore.loaders.create_loader(search_path_string)


def release_finished() -> None:
    """Let go of what the engine keeps of ended executions: it records every thread it starts,
    one per state evaluated, in a module list it never empties, and with each thread the whole
    evaluation environment; over a test session that is every execution of every test (slower
    garbage collection, more memory). Called after each run."""
    from moto.stepfunctions.parser.utils import TMP_THREADS

    TMP_THREADS[:] = [thread for thread in TMP_THREADS if thread.is_alive()]


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
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor import (
        distributed_item_processor_worker as distributed,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval import (
        resource_eval_s3,
    )

    global _original_eval_input, _original_eval_job
    worker = distributed.DistributedItemProcessorWorker
    _original_eval_input, _original_eval_job = worker._eval_input, worker._eval_job
    worker._eval_input = _record_child_input  # type: ignore[method-assign]
    worker._eval_job = _record_child_end  # type: ignore[method-assign]
    resource_eval_s3.ResourceEvalS3._handle_put_object = staticmethod(_write_results)  # type: ignore[method-assign]
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer import result_writer_decl

    result_writer_decl.ResultWriter._eval_body = _result_writer_eval  # type: ignore[method-assign]
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_sfn

    global _original_sfn_parameters
    sfn_task = state_task_service_sfn.StateTaskServiceSfn
    _original_sfn_parameters = sfn_task._normalise_parameters
    sfn_task._normalise_parameters = _sfn_parameters  # type: ignore[method-assign]
    sfn_task._normalise_response = _sfn_response  # type: ignore[method-assign]
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    global _original_start_execution, _original_validate
    _original_start_execution = StepFunctionsParserBackend.start_execution
    _original_validate = StepFunctionsParserBackend._validate_definition
    StepFunctionsParserBackend._validate_definition = staticmethod(_validated)  # type: ignore[method-assign,assignment]
    StepFunctionsParserBackend.start_execution = _start_execution  # type: ignore[method-assign]
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    ExecutionWorker._get_evaluation_entrypoint = _evaluation_entrypoint  # type: ignore[method-assign]
    from moto.stepfunctions.parser.asl.utils import json_path

    json_path.parse = _json_path  # type: ignore[attr-defined]
    global _original_sync2_resolver
    _original_sync2_resolver = sfn_task._build_sync2_resolver
    sfn_task._build_sync2_resolver = _sync_when_ended  # type: ignore[method-assign]
    botocore.session.create_loader = _shared_loader  # type: ignore[attr-defined]
    # The engine logs every failure it handles with the whole state's repr (pages per line), and
    # warns at each parse that it ignores ToleratedFailurePercentage (docs/decisions.md says so).
    logging.getLogger("moto.stepfunctions.parser.asl.component.eval_component").setLevel(logging.CRITICAL)
    logging.getLogger("moto.stepfunctions.parser.asl.parse.preprocessor").setLevel(logging.ERROR)
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
