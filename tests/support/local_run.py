"""A local "deployment" of template.yaml against the simulator: each function's environment is
resolved from the template (parameter defaults, overrides, the stack's own resources), and the
daily optimization runs through the state machine definition with the real handlers.

Demo and integration tests use this, so both run what `sam deploy` would deploy.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from typing import Any

from cfnlint.decode import cfn_yaml
from freezegun import freeze_time

from tests.support.lambda_runtime import ROOT, FakeContext, load_handler_module
from tests.support.local_sfn import Execution

TEMPLATE = ROOT / "template.yaml"


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
    if "Fn::Sub" in value:
        return re.sub(r"\$\{([\w:]+)\}", lambda m: refs[m.group(1)], value["Fn::Sub"])
    raise NotImplementedError(f"intrinsic {value}")


def function_environment(logical_id: str, refs: Mapping[str, str]) -> dict[str, str]:
    """The environment the template gives a function, Globals included."""
    globals_env = template()["Globals"]["Function"]["Environment"]["Variables"]
    own = template()["Resources"][logical_id]["Properties"].get("Environment", {}).get("Variables", {})
    return {name: _resolve(value, refs) for name, value in {**globals_env, **own}.items()}


def state_machine_functions() -> dict[str, str]:
    """Definition substitution name -> function folder, as the template wires them."""
    resources = template()["Resources"]
    substitutions = resources["OptimizerStateMachine"]["Properties"]["DefinitionSubstitutions"]
    out = {}
    for name, value in substitutions.items():
        logical_id = value["Fn::GetAtt"][0]
        code_uri = resources[logical_id]["Properties"]["CodeUri"]
        out[name] = code_uri.rstrip("/").split("/")[-1]
    return out


@contextmanager
def deployed(
    bucket: str, s3_client: Any, overrides: Mapping[str, str] | None = None
) -> Iterator[dict[str, Callable[..., Any]]]:
    """Set the functions' environment as the template would, create the report bucket, and
    yield the handlers by definition substitution name."""
    refs = {
        **parameter_defaults(),
        **(overrides or {}),
        "ReportBucket": bucket,
        "AWS::Region": os.environ["AWS_DEFAULT_REGION"],
    }
    environment: dict[str, str] = {}
    for logical_id, resource in template()["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            environment.update(function_environment(logical_id, refs))
    environment["POWERTOOLS_TRACE_DISABLED"] = "true"
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)
    if bucket not in {b["Name"] for b in s3_client.list_buckets()["Buckets"]}:
        s3_client.create_bucket(Bucket=bucket)
    try:
        yield {
            name: load_handler_module(folder).handler for name, folder in state_machine_functions().items()
        }
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_daily(
    functions: Mapping[str, Callable[..., Any]],
    now: datetime,
    run_id: str = "run-local",
    context_factory: Callable[[str], Any] = lambda _function: FakeContext(),
) -> tuple[Any, Execution]:
    """One daily execution of the state machine at the frozen time `now`.

    botocore keeps the real clock, so its retry backoff and rate limiter behave as in AWS;
    Powertools and pydantic too (freezegun would otherwise trigger their lazy imports)."""
    execution = Execution(
        functions=functions,
        name=run_id,
        start_time=now.isoformat().replace("+00:00", "Z"),
        context_factory=context_factory,
    )
    with freeze_time(now, ignore=["botocore", "urllib3", "aws_lambda_powertools", "pydantic"]):
        output = execution.run({})
    return output, execution
