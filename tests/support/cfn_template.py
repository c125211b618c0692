"""CloudFormation YAML read as plain data: each short-form intrinsic (`!Ref X`, `!GetAtt A.B`,
`!Sub ...`) becomes its long form (`{"Ref": "X"}`, `{"Fn::GetAtt": ["A", "B"]}`, ...), as
CloudFormation reads it. cfn-lint's reader does the same, but importing it loads cfn-lint's rules
with sympy and networkx (about 900 modules) into every test process; cfn-lint itself still checks
the templates (tests/template/test_sam_cli.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

UNPREFIXED = ("Ref", "Condition")


class _Loader(yaml.SafeLoader):
    pass


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = suffix if suffix in UNPREFIXED else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if name == "Fn::GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        raise yaml.constructor.ConstructorError(None, None, f"unknown node for !{suffix}", node.start_mark)
    return {name: value}


_Loader.add_multi_constructor("!", _intrinsic)


def load(path: Path | str) -> dict[str, Any]:
    """The template at `path` as a dict."""
    loaded = yaml.load(Path(path).read_text(), Loader=_Loader)
    if not isinstance(loaded, dict):
        raise ValueError(f"{path} is not a CloudFormation template (a mapping at the top)")
    return loaded


# ------------------------------------------------------------------------------------------------
# Conditions: what CloudFormation deploys for given parameter values
# ------------------------------------------------------------------------------------------------
NO_VALUE = "AWS::NoValue"


def parameter_values(loaded: dict[str, Any], overrides: dict[str, str] | None = None) -> dict[str, str]:
    """Each parameter's value as CloudFormation passes it (a string): its default, or the override.
    An override of a parameter the template does not have is an error, as in CloudFormation."""
    parameters = loaded.get("Parameters", {})
    unknown = sorted(set(overrides or {}) - set(parameters))
    if unknown:
        raise ValueError(f"the template has no parameter {', '.join(unknown)}")
    return {name: str(p.get("Default", "")) for name, p in parameters.items()} | dict(overrides or {})


def evaluate_conditions(loaded: dict[str, Any], values: dict[str, str]) -> dict[str, bool]:
    """Every condition of the template, evaluated for these parameter values (Fn::Equals, Fn::Not,
    Fn::And, Fn::Or and Condition, the functions CloudFormation allows in Conditions)."""
    definitions = loaded.get("Conditions", {})
    results: dict[str, bool] = {}

    def value(node: Any) -> Any:
        if isinstance(node, dict) and "Ref" in node:
            return values[node["Ref"]]
        return str(node) if isinstance(node, (int, float)) else node

    def holds(node: Any) -> bool:
        if not isinstance(node, dict) or len(node) != 1:
            raise ValueError(f"not a condition: {node!r}")
        ((function, argument),) = node.items()
        if function == "Condition":
            if argument not in results:
                results[argument] = holds(definitions[argument])
            return results[argument]
        if function == "Fn::Equals":
            left, right = argument
            return bool(value(left) == value(right))
        if function == "Fn::Not":
            return not holds(argument[0])
        if function == "Fn::And":
            return all(holds(a) for a in argument)
        if function == "Fn::Or":
            return any(holds(a) for a in argument)
        raise ValueError(f"{function} is not allowed in a condition")

    for name in definitions:
        holds({"Condition": name})
    return results


def resolve(loaded: dict[str, Any], overrides: dict[str, str] | None = None) -> dict[str, Any]:
    """The template as CloudFormation deploys it for these parameter values: resources and
    outputs whose condition is false left out, each Fn::If replaced by the branch it picks
    (AWS::NoValue: the property or list item left out)."""
    conditions = evaluate_conditions(loaded, parameter_values(loaded, overrides))

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Fn::If"}:
                name, yes, no = node["Fn::If"]
                return walk(yes if conditions[name] else no)
            kept = {k: walk(v) for k, v in node.items()}
            return {k: v for k, v in kept.items() if v != {"Ref": NO_VALUE}}
        if isinstance(node, list):
            return [item for item in (walk(i) for i in node) if item != {"Ref": NO_VALUE}]
        return node

    resolved = dict(loaded)
    for section in ("Resources", "Outputs"):
        resolved[section] = {
            name: walk(body)
            for name, body in loaded.get(section, {}).items()
            if "Condition" not in body or conditions[body["Condition"]]
        }
    return resolved


def references(node: Any) -> set[str]:
    """The logical ids and parameters a part of the template names (Ref, Fn::GetAtt, Fn::Sub's
    ${Name} and ${Name.Attribute}, except a Sub's own variables and pseudo parameters)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else str(value).split(".")[0])
            elif key == "Fn::Sub":
                text, variables = (value, {}) if isinstance(value, str) else (value[0], value[1])
                names = {m.split(".")[0] for m in re.findall(r"\$\{([\w:.]+)\}", text)}
                found |= {n for n in names if n not in variables}
                found |= references(variables)
            else:
                found |= references(value)
    elif isinstance(node, list):
        for item in node:
            found |= references(item)
    return {name for name in found if not name.startswith("AWS::")}


def failed_rules(loaded: dict[str, Any], overrides: dict[str, str] | None = None) -> list[str]:
    """The Rules that refuse these parameter values (each one's AssertDescription), as
    CloudFormation checks them before it changes anything."""
    values = parameter_values(loaded, overrides)
    failed = []
    for name, rule in loaded.get("Rules", {}).items():
        scratch = {"Conditions": {"applies": rule.get("RuleCondition", {"Fn::Equals": ["", ""]})}}
        scratch["Conditions"] |= {f"assert{n}": a["Assert"] for n, a in enumerate(rule["Assertions"])}
        results = evaluate_conditions(scratch, values)
        if not results["applies"]:
            continue
        failed += [
            f"{name}: {' '.join(str(a['AssertDescription']).split())}"
            for n, a in enumerate(rule["Assertions"])
            if not results[f"assert{n}"]
        ]
    return failed


def parameter_error(loaded: dict[str, Any], name: str, value: str) -> str | None:
    """Why CloudFormation would refuse this value of the parameter (no such parameter, not in
    AllowedValues, AllowedPattern not matching the whole value, below MinValue or above
    MaxValue), or None when it takes it."""
    parameter = loaded.get("Parameters", {}).get(name)
    if parameter is None:
        return f"the template has no parameter {name}"
    allowed = [str(v) for v in parameter.get("AllowedValues", [])]
    if allowed and value not in allowed:
        shown = ", ".join(a or '""' for a in allowed)
        return f"{name}={value!r} is not one of its allowed values ({shown})"
    if "AllowedPattern" in parameter and not re.fullmatch(parameter["AllowedPattern"], value):
        return f"{name}={value!r}: {' '.join(str(parameter.get('ConstraintDescription', '')).split())}"
    if parameter.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            return f"{name}={value!r} is not a number"
        low, high = parameter.get("MinValue"), parameter.get("MaxValue")
        if (low is not None and number < low) or (high is not None and number > high):
            return f"{name}={value}: {' '.join(str(parameter.get('ConstraintDescription', '')).split())}"
    return None
