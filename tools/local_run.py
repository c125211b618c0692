"""A local "deployment" of template.yaml against the simulator: each function's environment is
resolved from the template (parameter defaults, overrides, the stack's own resources), the
functions are created in the simulator's Lambda (served by their real handlers in this process),
and the state machines are created in the simulator's Step Functions from their definition files.
The daily optimization runs as an execution on moto's Step Functions engine.

Demo, integration tests and benchmark use this, so all run what `sam deploy` would deploy.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import re
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import boto3
from freezegun import freeze_time

from tests.support import cfn_template, lambda_runtime, step_functions, virtual_time
from tests.support.lambda_runtime import ROOT, load_handler_module
from tests.support.virtual_time import _REAL_MONOTONIC
from ws_autopilot.aws.accounts import function_sessions
from ws_autopilot.aws.clients import forget_clients

TEMPLATE = ROOT / "template.yaml"
STACK = "autopilot"
ACCOUNT = "123456789012"
# Modules that keep the real clock under freezegun: botocore's retry backoff and rate limiter,
# and the product's own WorkSpaces rate limiter, behave as in AWS (freezegun decides by the
# nearest frames, so a bucket made deep in the product's code and used from a botocore hook
# would otherwise read two clocks), and freezegun would otherwise trigger Powertools' and
# pydantic's lazy imports.
FREEZE_IGNORE = [
    "botocore",
    "urllib3",
    "aws_lambda_powertools",
    "pydantic",
    "ws_autopilot.aws.rate_limit",
]


@cache
def template() -> dict[str, Any]:
    return cfn_template.load(TEMPLATE)


def stack_id(region: str) -> str:
    """The local stack's id (what its functions present as external id to member roles)."""
    return f"arn:aws:cloudformation:{region}:{ACCOUNT}:stack/{STACK}/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"


def parameter_defaults() -> dict[str, str]:
    return {name: str(p.get("Default", "")) for name, p in template()["Parameters"].items()}


def _resolve(value: Any, refs: Mapping[str, str]) -> str:
    if isinstance(value, (str, int, float)):
        return str(value)
    if "Ref" in value:
        return refs[value["Ref"]]
    if "Fn::GetAtt" in value:
        return refs[".".join(value["Fn::GetAtt"])]
    if "Fn::Sub" in value:
        return re.sub(r"\$\{([\w:.]+)\}", lambda m: refs[m.group(1)], value["Fn::Sub"])
    raise NotImplementedError(f"intrinsic {value}")


def function_environment(
    logical_id: str, refs: Mapping[str, str], resources: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """The environment the template gives a function, Globals included (`resources`: the
    template's resources resolved for the deployment's parameters, default the template's own)."""
    globals_env = template()["Globals"]["Function"]["Environment"]["Variables"]
    resource = (resources or template()["Resources"])[logical_id]
    own = resource["Properties"].get("Environment", {}).get("Variables", {})
    return {name: _resolve(value, refs) for name, value in {**globals_env, **own}.items()}


def state_machine_functions() -> dict[str, str]:
    """Definition substitution name -> function logical id, as the template wires them (every
    state machine's substitutions that name a function's ARN)."""
    resources = template()["Resources"]
    return {
        name: value["Fn::GetAtt"][0]
        for resource in resources.values()
        if resource["Type"] == "AWS::Serverless::StateMachine"
        for name, value in resource["Properties"].get("DefinitionSubstitutions", {}).items()
        if "Fn::GetAtt" in value and resources[value["Fn::GetAtt"][0]]["Type"] == "AWS::Serverless::Function"
    }


def _create(logical_id: str, resource: Mapping[str, Any], clients: Mapping[str, Any]) -> dict[str, str]:
    """Create one stateful resource of the template in the simulator; its Ref and GetAtt values."""
    kind, properties = resource["Type"], resource.get("Properties", {})
    name = f"{STACK}-{logical_id.lower()}"
    if kind == "AWS::S3::Bucket":
        if name not in {b["Name"] for b in clients["s3"].list_buckets()["Buckets"]}:
            clients["s3"].create_bucket(Bucket=name)
        return {logical_id: name, f"{logical_id}.Arn": f"arn:aws:s3:::{name}"}
    if kind == "AWS::DynamoDB::Table":
        request = {key: properties[key] for key in ("KeySchema", "AttributeDefinitions", "BillingMode")}
        if "GlobalSecondaryIndexes" in properties:
            request["GlobalSecondaryIndexes"] = properties["GlobalSecondaryIndexes"]
        table = clients["dynamodb"].create_table(TableName=name, **request)["TableDescription"]
        ttl = properties.get("TimeToLiveSpecification")
        if ttl:
            clients["dynamodb"].update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        return {logical_id: name, f"{logical_id}.Arn": table["TableArn"]}
    if kind == "AWS::SNS::Topic":
        arn = clients["sns"].create_topic(Name=name)["TopicArn"]
        return {logical_id: arn, f"{logical_id}.TopicArn": arn}
    if kind == "AWS::SQS::Queue":
        url = clients["sqs"].create_queue(QueueName=name)["QueueUrl"]
        arn = clients["sqs"].get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        return {logical_id: url, f"{logical_id}.Arn": arn, f"{logical_id}.QueueName": name}
    return {}


@dataclass(frozen=True)
class StateMachine:
    """A state machine of the template, created in the simulator's Step Functions."""

    logical_id: str
    arn: str
    name: str


@dataclass
class LocalStack:
    """The template deployed against the simulator: resource values, the functions' handlers (also
    registered with the simulator's Lambda), and the state machines."""

    refs: dict[str, str]
    handlers: dict[str, Callable[..., Any]]
    machines: dict[str, StateMachine]

    @property
    def state_machine(self) -> StateMachine:
        """The optimizer's state machine: what the schedules start."""
        return self.machines[OPTIMIZER]


OPTIMIZER = "OptimizerStateMachine"


@contextmanager
def deployed(clients: Mapping[str, Any], overrides: Mapping[str, str] | None = None) -> Iterator[LocalStack]:
    """Create the template's buckets, tables, topics and queues in the simulator, set the
    functions' environment as the template would, load their handlers and create them in the
    simulator's Lambda, and create the state machines from their definition files with the
    template's substitutions. Only what CloudFormation would deploy for these parameters: a
    resource whose condition is false is not created (a feature switched off), and each
    Fn::If is resolved."""
    step_functions.install()
    resources = cfn_template.resolve(template(), dict(overrides or {}))["Resources"]
    refs = {
        **parameter_defaults(),
        **(overrides or {}),
        "AWS::Region": os.environ["AWS_DEFAULT_REGION"],
        "AWS::StackName": STACK,
        "AWS::AccountId": ACCOUNT,
        "AWS::Partition": "aws",
        "AWS::StackId": stack_id(os.environ["AWS_DEFAULT_REGION"]),
    }
    functions = []
    for logical_id, resource in resources.items():
        refs.update(_create(logical_id, resource, clients))
        if resource["Type"] == "AWS::Serverless::Function":
            functions.append(logical_id)
    # What the Lambda runtime sets besides the template's variables.
    environment: dict[str, str] = {"POWERTOOLS_TRACE_DISABLED": "true", "AWS_REGION": refs["AWS::Region"]}
    # One process serves every handler, so one environment: a variable two functions set to
    # different values could not be served (each function would read the last one's).
    for logical_id in functions:
        for name, value in function_environment(logical_id, refs, resources).items():
            if environment.setdefault(name, value) != value:
                raise ValueError(f"{name} differs between the functions ({logical_id}: {value!r})")
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    function_sessions.cache_clear()  # a new deployment means cold starts
    forget_clients()
    lambda_runtime.RUNTIME.reset()
    try:
        handlers = {logical_id: load_handler_module(_folder(logical_id)).handler for logical_id in functions}
        refs.update(_create_functions(handlers))
        machines = _create_state_machines(refs, resources)
        yield LocalStack(refs, handlers, machines)
    finally:
        function_sessions.cache_clear()  # nothing of this deployment reaches a test after it
        forget_clients()
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def operator_client(service: str) -> Any:
    """A client for what an operator does (deploy, start an execution, read its history), from a
    boto3 session of its own: what counts the product's calls on the default session (the
    benchmark) does not count these. Made once per process and region (the simulator's state
    lives in moto's backends, not in clients)."""
    return _operator_client(service, os.environ["AWS_DEFAULT_REGION"])


@cache
def _operator_client(service: str, region: str) -> Any:
    return _operator_session().client(service, region_name=region)


@cache
def _operator_session() -> boto3.session.Session:
    return boto3.session.Session()


def _folder(logical_id: str) -> str:
    return str(template()["Resources"][logical_id]["Properties"]["CodeUri"]).rstrip("/").split("/")[-1]


def _create_functions(handlers: Mapping[str, Callable[..., Any]]) -> dict[str, str]:
    """Each function in the simulator's Lambda, served by its real handler in this process; the
    Ref and GetAtt values the state machines' substitutions read."""
    iam, lambda_ = operator_client("iam"), operator_client("lambda")
    role = f"{STACK}-functions"
    try:
        role_arn = iam.get_role(RoleName=role)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    counted_as = {logical_id: name for name, logical_id in state_machine_functions().items()}
    refs: dict[str, str] = {}
    for logical_id, handler in handlers.items():
        name = f"{STACK}-{_folder(logical_id).replace('_', '-')}"
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.write(ROOT / "functions" / _folder(logical_id) / "app.py", "app.py")
        try:
            arn = lambda_.create_function(
                FunctionName=name,
                Runtime="python3.11",
                Role=role_arn,
                Handler="app.handler",
                Code={"ZipFile": code.getvalue()},
            )["FunctionArn"]
        except lambda_.exceptions.ResourceConflictException:  # deployed again: an update
            arn = lambda_.update_function_code(FunctionName=name, ZipFile=code.getvalue())["FunctionArn"]
        lambda_runtime.RUNTIME.functions[name] = lambda_runtime.DeployedFunction(
            handler, counted_as.get(logical_id, logical_id)
        )
        refs.update({logical_id: name, f"{logical_id}.Arn": arn})
    return refs


def _create_state_machines(refs: dict[str, str], resources: Mapping[str, Any]) -> dict[str, StateMachine]:
    """The deployment's state machines, created from their definition files with their
    DefinitionSubstitutions resolved; a machine another one starts is created first."""
    sfn = operator_client("stepfunctions")
    pending = {
        logical_id: resource["Properties"]
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::StateMachine"
    }
    machines: dict[str, StateMachine] = {}
    while pending:
        ready = [
            logical_id
            for logical_id, properties in pending.items()
            if all(_ready(value, refs) for value in properties.get("DefinitionSubstitutions", {}).values())
        ]
        if not ready:
            raise ValueError(f"state machines whose substitutions cannot be resolved: {sorted(pending)}")
        for logical_id in ready:
            properties = pending.pop(logical_id)
            substitutions = properties.get("DefinitionSubstitutions", {})
            definition = _substitute((ROOT / properties["DefinitionUri"]).read_text(), substitutions, refs)
            name = _resolve(properties["Name"], refs)
            existing = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
            if name in existing:  # deployed again: an update
                arn = existing[name]
                sfn.update_state_machine(stateMachineArn=arn, definition=definition)
            else:
                arn = sfn.create_state_machine(
                    name=name,
                    definition=definition,
                    roleArn=f"arn:aws:iam::{ACCOUNT}:role/{name}",
                    type=properties.get("Type", "STANDARD"),
                )["stateMachineArn"]
            refs.update({logical_id: arn, f"{logical_id}.Arn": arn, f"{logical_id}.Name": name})
            machines[logical_id] = StateMachine(logical_id, arn, name)
    return machines


def _substitute(definition: str, substitutions: Mapping[str, Any], refs: Mapping[str, str]) -> str:
    values = {name: _resolve(value, refs) for name, value in substitutions.items()}
    return re.sub(r"\$\{(\w+)\}", lambda m: values[m.group(1)], definition)


def _ready(value: Any, refs: Mapping[str, str]) -> bool:
    try:
        _resolve(value, refs)
    except KeyError:
        return False
    return True


# ------------------------------------------------------------------------------------------------
# Executions
# ------------------------------------------------------------------------------------------------
class ExecutionFailed(Exception):
    def __init__(self, status: str, error: str, cause: str, last_events: list[dict[str, Any]]) -> None:
        super().__init__(f"execution {status}: {error}: {cause}\nlast events: {last_events}")
        self.status, self.error, self.cause = status, error, cause


@dataclass
class Execution:
    """One execution on the engine: its ARN, how it ended, its history, and the Lambda
    invocations made while it ran (by its child executions too), by definition substitution name."""

    arn: str
    status: str
    output: Any
    history: list[dict[str, Any]]
    invocations: Counter[str]


WAIT_LIMIT_SECONDS = 900.0  # real time; a test run that takes longer is stuck, not slow
POLL_SECONDS = 0.01


def run_daily(
    machine: StateMachine,
    now: datetime,
    run_id: str | None = None,
    context_factory: Callable[[str], Any] | None = None,
    during: Callable[[str], None] | None = None,
    succeed: bool = True,
    wait_limit: float = WAIT_LIMIT_SECONDS,
) -> tuple[Any, Execution]:
    """One execution of the optimizer started at the frozen time `now` with StartExecution, as the
    schedules start it, and waited for with DescribeExecution; its history from
    GetExecutionHistory. Raises ExecutionFailed unless it succeeded (`succeed=False`: returns
    whatever the end, the output None unless it succeeded).

    The frozen clock moves on with every virtual wait (the WorkSpaces rate limit, botocore's
    backoff, the state machine's Retry backoff), so a long run reaches its later batches later, as
    in AWS. `context_factory(function)` gives the Lambda context of each invocation (default: 15
    minutes left); `during(function)` is called before each invocation: a test can start a second,
    overlapping execution from there.
    """
    run_id = run_id or f"run-local-{next(_RUN_NUMBERS)}"
    sfn = operator_client("stepfunctions")
    runtime = lambda_runtime.RUNTIME
    saved = (runtime.context_for, runtime.before_invoke)
    if context_factory is not None:
        factory = context_factory
        runtime.context_for = lambda _name, _arn: factory(_counted_as(_name))
    runtime.before_invoke = during
    before = Counter(runtime.invocations)
    try:
        with freeze_time(now, ignore=FREEZE_IGNORE) as frozen:
            clock = virtual_time.current
            outer = clock.follow(frozen) if clock is not None else None
            try:
                arn = sfn.start_execution(stateMachineArn=machine.arn, name=run_id)["executionArn"]
                described = wait_for(sfn, arn, wait_limit)
            finally:
                if clock is not None:
                    clock.follow(outer)
    finally:
        runtime.context_for, runtime.before_invoke = saved
    history = execution_history(sfn, arn)
    step_functions.release_finished()
    if succeed and described["status"] != "SUCCEEDED":
        raise ExecutionFailed(
            described["status"], described.get("error", ""), described.get("cause", ""), history[-5:]
        )
    output = json.loads(described["output"]) if "output" in described else None
    execution = Execution(arn, described["status"], output, history, Counter(runtime.invocations) - before)
    return execution.output, execution


_RUN_NUMBERS = itertools.count(1)


def _counted_as(function_name: str) -> str:
    return lambda_runtime.RUNTIME.functions[function_name].counted_as


def wait_for(sfn: Any, arn: str, wait_limit: float = WAIT_LIMIT_SECONDS) -> dict[str, Any]:
    """DescribeExecution until the execution has ended (on the real clock: the frozen one stands
    still while nothing waits on the virtual clock)."""
    deadline = _REAL_MONOTONIC[0]() + wait_limit
    while True:
        described: dict[str, Any] = sfn.describe_execution(executionArn=arn)
        if described["status"] != "RUNNING":
            return described
        if _REAL_MONOTONIC[0]() > deadline:
            sfn.stop_execution(
                executionArn=arn, error="Test.Stuck", cause="still running after the test's limit"
            )
            raise TimeoutError(f"{arn} still running after {wait_limit:.0f} s")
        time.sleep(POLL_SECONDS)


def execution_history(sfn: Any, arn: str) -> list[dict[str, Any]]:
    """Every event of an execution's history (GetExecutionHistory, all pages)."""
    events: list[dict[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
        events.extend(page["events"])
    return events


def histories(machine: StateMachine) -> list[list[dict[str, Any]]]:
    """The history of every execution of a state machine (ListExecutions, GetExecutionHistory)."""
    sfn = operator_client("stepfunctions")
    return [
        execution_history(sfn, e["executionArn"])
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine.arn)
        for e in page["executions"]
    ]
