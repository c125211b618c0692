"""CloudFormation YAML read as plain data: each short-form intrinsic (`!Ref X`, `!GetAtt A.B`,
`!Sub ...`) becomes its long form (`{"Ref": "X"}`, `{"Fn::GetAtt": ["A", "B"]}`, ...), as
CloudFormation reads it. cfn-lint's reader does the same, but importing it loads cfn-lint's rules
with sympy and networkx (about 900 modules) into every test process; cfn-lint itself still checks
the templates (tests/template/test_sam_cli.py)."""

from __future__ import annotations

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
