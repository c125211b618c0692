"""Every name the docs give in backticks is one the code has: a `Class.attribute` is an
attribute of a class of the package, a dotted `wing.module.name` resolves, and a path under
`ws_autopilot/`, `functions/`, `tools/` or `tests/` exists; every link between the docs leads to a
file. A rename or a move that leaves the docs behind fails here, with the list of stale names."""

from __future__ import annotations

import dataclasses
import importlib
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.support.lambda_runtime import ROOT

PACKAGE = ROOT / "layers" / "ws_autopilot" / "ws_autopilot"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
WINGS = sorted(p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists())

# Spans shaped like `Class.attribute` that name no class of the package: Step Functions and
# Lambda error names, moto's classes, bundle names.
NOT_OURS = {"Lambda", "States", "Sandbox", "StepFunctions", "LambdaFunction", "Graphics", "GraphicsPro"}
# Files the decisions name as deleted, on purpose.
GONE = {"tests/support/local_sfn.py"}
FILE_SUFFIXES = (".md", ".py", ".json", ".yaml", ".yml", ".html", ".csv", ".j2", ".toml", ".txt")

FENCE = re.compile(r"^```.*?^```", re.DOTALL | re.MULTILINE)
SPAN = re.compile(r"`([^`]+)`")
CLASS_ATTRIBUTE = re.compile(r"([A-Z][A-Za-z0-9_]*)\.([A-Za-z_][A-Za-z0-9_]*)(\(.*\))?")
DOTTED = re.compile(rf"(?:ws_autopilot\.)?(?:{'|'.join(WINGS)})(?:\.[A-Za-z_][A-Za-z0-9_]*)+(?:\(\))?")
PATH = re.compile(r"(?:layers/ws_autopilot/)?(?:ws_autopilot|functions|tools|tests)/[^\s`,;:()]*")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@cache
def package_classes() -> dict[str, type]:
    """Every class the package defines, by name (names are unique: tests/unit/test_layout.py)."""
    found: dict[str, type] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        module = importlib.import_module(name)
        for value in vars(module).values():
            if isinstance(value, type) and value.__module__ == name:
                found[value.__name__] = value
    return found


def has_attribute(cls: type, name: str) -> bool:
    """True for a method, property, enum member or class attribute, and for a field of a
    dataclass or a pydantic model (which need not be class attributes)."""
    if hasattr(cls, name):
        return True
    if dataclasses.is_dataclass(cls) and name in {f.name for f in dataclasses.fields(cls)}:
        return True
    fields: dict[str, Any] = getattr(cls, "model_fields", {})
    return name in fields or any(name in getattr(c, "__annotations__", {}) for c in cls.__mro__)


def resolve(dotted: str) -> bool:
    """True when `dotted` (`cost.rules.evaluate`, `ws_autopilot.cost.pricing`) names a module of
    the package or something defined in one."""
    parts = dotted.removesuffix("()").removeprefix("ws_autopilot.").split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: ModuleType | Any = importlib.import_module("ws_autopilot." + ".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            if not hasattr(found, name):
                return False
            found = getattr(found, name)
        return True
    return False


def path_exists(path: str) -> bool:
    """A repository path (a placeholder such as `<name>` or `<wing>` matches anything there)."""
    path = path.rstrip(".").removeprefix("layers/ws_autopilot/")
    base = PACKAGE.parent if path.startswith("ws_autopilot/") else ROOT
    pattern = re.sub(r"<[^>]*>", "*", path).rstrip("/")
    if pattern in GONE:
        return True
    return any(base.glob(pattern)) if "*" in pattern else (base / pattern).exists()


def spans(text: str) -> Iterator[tuple[int, str]]:
    """The inline code of a Markdown text, with its line number; fenced blocks are left out."""
    text = FENCE.sub(lambda m: "\n" * m.group().count("\n"), text)
    for match in SPAN.finditer(text):
        yield text.count("\n", 0, match.start()) + 1, " ".join(match.group(1).split())


def stale(text: str) -> list[str]:
    """`line N: `name`: why` for each name in `text` that the code does not have."""
    problems = []
    for line, span in spans(text):
        if span.endswith(FILE_SUFFIXES) and "/" not in span:
            continue
        if match := CLASS_ATTRIBUTE.fullmatch(span):
            owner, attribute = match.group(1), match.group(2)
            if owner in NOT_OURS:
                continue
            cls = package_classes().get(owner)
            if cls is None:
                problems.append(f"line {line}: `{span}`: no class {owner} in ws_autopilot")
            elif not has_attribute(cls, attribute):
                problems.append(f"line {line}: `{span}`: {cls.__module__}.{owner} has no {attribute}")
        elif DOTTED.fullmatch(span) and not span.endswith(FILE_SUFFIXES) and not resolve(span):
            problems.append(f"line {line}: `{span}`: nothing of that name in ws_autopilot")
        for path in PATH.findall(span):
            if not path_exists(path):
                problems.append(f"line {line}: `{path}`: no such file or folder")
    return problems


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_name_a_doc_gives_is_one_the_code_has(doc: Path):
    problems = stale(doc.read_text())
    assert problems == [], f"stale names in {doc.relative_to(ROOT)}:\n" + "\n".join(problems)


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_of_a_doc_leads_to_a_file(doc: Path):
    text = FENCE.sub("", doc.read_text())
    targets = [t for t in LINK.findall(text) if not re.match(r"[a-z]+:", t)]
    assert [t for t in targets if not (doc.parent / t).exists()] == []


def test_a_stale_name_or_path_is_reported():
    text = (
        "`Converter._carry_out`, `Converter.carry_out`, `NoSuchClass.run`, `Lambda.Unknown`,\n"
        "`cost.rules.evaluate`, `cost.rules.no_such_rule`, `ws_autopilot.cost.rules`,\n"
        "`ws_autopilot/cost/rules.py`, `ws_autopilot/rules.py`, `functions/<name>/app.py`,\n"
        "```\n`functions/in_a_fenced_block/app.py`\n```\n`tests/support/local_sfn.py` (deleted)"
    )
    reported = [(problem.split(":")[0], problem.split("`")[1]) for problem in stale(text)]
    assert reported == [
        ("line 1", "Converter._carry_out"),
        ("line 1", "NoSuchClass.run"),
        ("line 2", "cost.rules.no_such_rule"),
        ("line 3", "ws_autopilot/rules.py"),
    ]
