"""Runs the product's state machine definition locally, calling the real handlers in-process.

Step Functions cannot execute on these machines (no Step Functions Local, no Docker), so the
demo and the orchestration tests interpret the very definition file that `sam deploy` ships,
for the subset of the Amazon States Language it uses: Task (`lambda:invoke`), Map (inline),
Choice (`BooleanEquals`, `StringEquals`), Pass, Succeed; Parameters, ItemSelector, ResultSelector, ResultPath,
Retry and Catch. Anything else raises, so the definition cannot drift into states this runner
(and so the tests) do not cover. Retries do not sleep.
"""

from __future__ import annotations

import copy
import json
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.lambda_runtime import ROOT, FakeContext

DEFINITION = ROOT / "statemachine" / "optimizer.asl.json"
LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
SUPPORTED_STATES = {"Task", "Map", "Choice", "Pass", "Succeed"}

Invoke = Callable[[dict[str, Any], Any], Any]


class ExecutionFailed(Exception):
    def __init__(self, error: str, cause: str) -> None:
        super().__init__(f"{error}: {cause}")
        self.error, self.cause = error, cause


@dataclass
class Execution:
    """One local execution: the functions by substitution name, and what happened."""

    functions: Mapping[str, Invoke]
    name: str
    start_time: str
    execution_arn: str = ""
    context_factory: Callable[[str], Any] = lambda _function: FakeContext()
    invocations: Counter[str] = field(default_factory=Counter)
    transitions: int = 0
    definition_path: Path = DEFINITION

    def run(self, payload: dict[str, Any] | None = None) -> Any:
        definition = json.loads(self.definition_path.read_text())
        context = {"Execution": {"Name": self.name, "Id": self.execution_arn, "StartTime": self.start_time}}
        return self._run_machine(definition, payload or {}, context)

    # -- machinery ------------------------------------------------------------------------------
    def _run_machine(self, machine: Mapping[str, Any], data: Any, context: dict[str, Any]) -> Any:
        name = machine["StartAt"]
        while True:
            state = machine["States"][name]
            self.transitions += 1
            if state["Type"] not in SUPPORTED_STATES:
                raise NotImplementedError(f"state type {state['Type']} of {name}")
            if state["Type"] == "Choice":
                name = self._choose(state, data)
                continue
            if state["Type"] == "Succeed":
                return data
            try:
                data = self._execute(state, data, context)
            except ExecutionFailed as failure:
                handler = _matching(state.get("Catch", []), failure.error)
                if handler is None:
                    raise
                data = _set(
                    data, handler.get("ResultPath", "$"), {"Error": failure.error, "Cause": failure.cause}
                )
                name = handler["Next"]
                continue
            if state.get("End"):
                return data
            name = state["Next"]

    def _execute(self, state: Mapping[str, Any], data: Any, context: dict[str, Any]) -> Any:
        kind = state["Type"]
        if kind == "Pass":
            return _set(
                data, state.get("ResultPath", "$"), _render(state.get("Parameters", data), data, context)
            )
        result = self._task(state, data, context) if kind == "Task" else self._map(state, data, context)
        if "ResultSelector" in state:
            result = _render(state["ResultSelector"], result, context)
        return _set(data, state.get("ResultPath", "$"), result)

    def _task(self, state: Mapping[str, Any], data: Any, context: dict[str, Any]) -> Any:
        if state["Resource"] != LAMBDA_INVOKE:
            raise NotImplementedError(f"task resource {state['Resource']}")
        parameters = _render(state["Parameters"], data, context)
        function = _substitution(parameters["FunctionName"])
        attempts: Counter[str] = Counter()
        while True:
            self.invocations[function] += 1
            try:
                payload = self.functions[function](
                    copy.deepcopy(parameters["Payload"]), self.context_factory(function)
                )
                return {"StatusCode": 200, "Payload": json.loads(json.dumps(payload))}
            except Exception as exc:
                error = type(exc).__name__
                retrier = _matching(state.get("Retry", []), error)
                key = json.dumps(retrier and retrier["ErrorEquals"])
                attempts[key] += 1
                if retrier is None or attempts[key] > retrier.get("MaxAttempts", 3):
                    raise ExecutionFailed(
                        error, json.dumps({"errorMessage": str(exc), "errorType": error})
                    ) from exc

    def _map(self, state: Mapping[str, Any], data: Any, context: dict[str, Any]) -> list[Any]:
        processor = state["ItemProcessor"]
        if processor.get("ProcessorConfig", {}).get("Mode", "INLINE") != "INLINE":
            raise NotImplementedError("only inline Map states are supported")
        items = _path(data, state.get("ItemsPath", "$"))
        if "MaxConcurrencyPath" in state and not 0 <= int(_path(data, state["MaxConcurrencyPath"])) <= 40:
            raise ValueError("inline Map concurrency must be between 0 and 40")
        results = []
        for index, item in enumerate(items):
            item_context = {**context, "Map": {"Item": {"Index": index, "Value": item}}}
            selected = _render(state["ItemSelector"], data, item_context) if "ItemSelector" in state else item
            results.append(self._run_machine(processor, selected, item_context))
        return results

    @staticmethod
    def _choose(state: Mapping[str, Any], data: Any) -> str:
        for rule in state["Choices"]:
            tests = set(rule) - {"Variable", "Next"}
            if len(tests) != 1 or not tests <= {"BooleanEquals", "StringEquals"}:
                raise NotImplementedError(f"choice rule {rule}")
            (test,) = tests
            value = _path(data, rule["Variable"])
            if (value is rule[test]) if test == "BooleanEquals" else (value == rule[test]):
                return str(rule["Next"])
        return str(state["Default"])


def _matching(rules: list[Mapping[str, Any]], error: str) -> Mapping[str, Any] | None:
    for rule in rules:
        if error in rule["ErrorEquals"] or "States.ALL" in rule["ErrorEquals"]:
            return rule
    return None


def _substitution(value: str) -> str:
    match = re.fullmatch(r"\$\{(\w+)\}", value)
    if not match:
        raise ValueError(f"FunctionName {value!r} is not a definition substitution")
    return match.group(1)


def _path(data: Any, path: str) -> Any:
    if path == "$":
        return data
    if not path.startswith("$."):
        raise NotImplementedError(f"JSONPath {path}")
    for part in path[2:].split("."):
        data = data[part]
    return data


def _render(template: Any, data: Any, context: Mapping[str, Any]) -> Any:
    if not isinstance(template, dict):
        return template
    out = {}
    for key, value in template.items():
        if key.endswith(".$"):
            out[key[:-2]] = _path(context, "$" + value[2:]) if value.startswith("$$") else _path(data, value)
        else:
            out[key] = _render(value, data, context)
    return out


def _set(data: Any, path: str, value: Any) -> Any:
    if path == "$":
        return value
    if not path.startswith("$.") or "." in path[2:]:
        raise NotImplementedError(f"ResultPath {path}")
    return {**data, path[2:]: value}
