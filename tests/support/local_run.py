"""A local "deployment" of template.yaml against the simulator: each function's environment is
resolved from the template (parameter defaults, overrides, the stack's own resources), and the
daily optimization runs through the state machine definition with the real handlers.

Demo and integration tests use this, so both run what `sam deploy` would deploy.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import boto3
from cfnlint.decode import cfn_yaml
from freezegun import freeze_time

from tests.support import virtual_time
from tests.support.lambda_runtime import ROOT, FakeContext, load_handler_module
from tests.support.local_sfn import DEFINITION, Execution
from ws_autopilot.adapters.accounts import function_sessions

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
    "ws_autopilot.adapters.rate_limit",
]


@cache
def template() -> dict[str, Any]:
    return dict(cfn_yaml.load(str(TEMPLATE)))


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


def function_environment(logical_id: str, refs: Mapping[str, str]) -> dict[str, str]:
    """The environment the template gives a function, Globals included."""
    globals_env = template()["Globals"]["Function"]["Environment"]["Variables"]
    own = template()["Resources"][logical_id]["Properties"].get("Environment", {}).get("Variables", {})
    return {name: _resolve(value, refs) for name, value in {**globals_env, **own}.items()}


def state_machine_functions() -> dict[str, str]:
    """Definition substitution name -> function logical id, as the template wires them."""
    substitutions = template()["Resources"]["OptimizerStateMachine"]["Properties"]["DefinitionSubstitutions"]
    return {name: value["Fn::GetAtt"][0] for name, value in substitutions.items()}


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


@dataclass
class LocalStack:
    """The template deployed against the simulator: resource values and the functions' handlers."""

    refs: dict[str, str]
    handlers: dict[str, Callable[..., Any]]

    @property
    def state_machine(self) -> dict[str, Callable[..., Any]]:
        """Handlers by definition substitution name, for the local state machine runner."""
        return {name: self.handlers[logical_id] for name, logical_id in state_machine_functions().items()}


@contextmanager
def deployed(clients: Mapping[str, Any], overrides: Mapping[str, str] | None = None) -> Iterator[LocalStack]:
    """Create the template's buckets, tables, topics and queues in the simulator, set the
    functions' environment as the template would, and load their handlers."""
    refs = {
        **parameter_defaults(),
        **(overrides or {}),
        "AWS::Region": os.environ["AWS_DEFAULT_REGION"],
        "AWS::StackName": STACK,
        "AWS::AccountId": ACCOUNT,
        "AWS::Partition": "aws",
    }
    functions = []
    for logical_id, resource in template()["Resources"].items():
        refs.update(_create(logical_id, resource, clients))
        if resource["Type"] == "AWS::Serverless::Function":
            functions.append(logical_id)
    # What the Lambda runtime sets besides the template's variables.
    environment: dict[str, str] = {"POWERTOOLS_TRACE_DISABLED": "true", "AWS_REGION": refs["AWS::Region"]}
    for logical_id in functions:
        environment.update(function_environment(logical_id, refs))
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    function_sessions.cache_clear()  # a new deployment means cold starts
    try:
        yield LocalStack(
            refs, {logical_id: load_handler_module(_folder(logical_id)).handler for logical_id in functions}
        )
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _folder(logical_id: str) -> str:
    return str(template()["Resources"][logical_id]["Properties"]["CodeUri"]).rstrip("/").split("/")[-1]


def run_daily(
    functions: Mapping[str, Callable[..., Any]],
    now: datetime,
    run_id: str | None = None,
    context_factory: Callable[[str], Any] = lambda _function: FakeContext(),
    during: Callable[[str], None] | None = None,
) -> tuple[Any, Execution]:
    """One execution of the state machine started at the frozen time `now`.

    The frozen clock moves on with every virtual wait (the WorkSpaces rate limit, botocore's
    backoff), so a long run reaches its later batches later, as in AWS. The execution is
    registered with the simulator's Step Functions (so the lock can ask whether it is running)
    and stopped there when it ends. `during(function)` is called before each invocation: a test
    can start a second, overlapping execution from there.
    """
    run_id = run_id or f"run-local-{next(_RUN_NUMBERS)}"
    arn = _register_execution(run_id)
    execution = Execution(
        functions=functions,
        name=run_id,
        start_time=now.isoformat().replace("+00:00", "Z"),
        execution_arn=arn,
        context_factory=_with_hook(context_factory, during),
    )
    try:
        with freeze_time(now, ignore=FREEZE_IGNORE) as frozen:
            clock = virtual_time.current
            outer = clock.follow(frozen) if clock is not None else None
            try:
                output = execution.run({})
            finally:
                if clock is not None:
                    clock.follow(outer)
    finally:
        boto3.client("stepfunctions").stop_execution(executionArn=arn)
    return output, execution


_RUN_NUMBERS = itertools.count(1)


def _with_hook(
    context_factory: Callable[[str], Any], during: Callable[[str], None] | None
) -> Callable[[str], Any]:
    if during is None:
        return context_factory

    def factory(function: str) -> Any:
        during(function)
        return context_factory(function)

    return factory


def _register_execution(run_id: str) -> str:
    """Start the execution in the simulator's Step Functions (which only records it here; the
    definition runs in this process) and return its ARN."""
    sfn = boto3.client("stepfunctions")
    name = f"{STACK}-optimizer"
    machines = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
    arn = (
        machines.get(name)
        or sfn.create_state_machine(
            name=name,
            definition=DEFINITION.read_text(),
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/{STACK}-optimizer",
        )["stateMachineArn"]
    )
    return str(sfn.start_execution(stateMachineArn=arn, name=run_id)["executionArn"])
