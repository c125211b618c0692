"""The package's plan, as docs/development.md draws it: one wing per capability over a shared
`core` and `aws` kernel, imports only in the declared direction, no circle, unique class names."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[2] / "layers" / "ws_autopilot" / "ws_autopilot"  # from tests/unit/

# What each wing may import besides itself; the reason for each arrow across capabilities.
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "aws": {"core"},
    "cost": {"core", "aws"},
    "logins": {"core", "aws"},
    "remediation": {"core", "aws"},
    # the unused check runs in the daily pass (cost's batches) and reads the login records
    "unused": {"core", "aws", "cost", "logins"},
    # the digest reads the cost reports' rows and formulas
    "digest": {"core", "aws", "cost"},
}
MAX_LINES = 400


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def imported(path: Path) -> set[str]:
    """The ws_autopilot modules (or packages) `path` imports, wherever the import statement is."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("ws_autopilot"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("ws_autopilot")}
    return found


def wing(module: str) -> str:
    return module.split(".")[1] if module.count(".") else ""


def test_the_package_is_the_wings_and_nothing_else():
    rooms = {p.name for p in PACKAGE.iterdir() if p.name != "__pycache__"}
    assert rooms - {"__init__.py"} == {*ALLOWED, "py.typed"}


def test_every_import_follows_the_declared_direction():
    wrong = [
        f"{module} imports {target}"
        for module, path in modules()
        for target in imported(path)
        if wing(module) and wing(target) != wing(module) and wing(target) not in ALLOWED[wing(module)]
    ]
    assert wrong == []


def test_the_direction_test_catches_an_import_against_it(tmp_path):
    upward = tmp_path / "upward.py"
    upward.write_text("def f():\n    from ws_autopilot.cost.rules import decide\n")
    assert wing(next(iter(imported(upward)))) not in ALLOWED["logins"]


def test_no_module_imports_itself_back_through_others():
    graph = {module: {t for t in imported(path) if t != module} for module, path in modules()}
    graph = {m: {t for t in targets if t in graph} for m, targets in graph.items()}
    done: set[str] = set()

    def visit(module: str, trail: tuple[str, ...]) -> None:
        if module in trail:
            pytest.fail("import circle: " + " -> ".join((*trail[trail.index(module) :], module)))
        if module in done:
            return
        for target in graph[module]:
            visit(target, (*trail, module))
        done.add(module)

    for module in graph:
        visit(module, ())


def test_no_two_classes_of_the_package_share_a_name():
    where: dict[str, list[str]] = {}
    for module, path in modules():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef):
                where.setdefault(node.name, []).append(module)
    assert {name: found for name, found in where.items() if len(found) > 1} == {}


def test_no_module_is_longer_than_a_reader_can_hold():
    long = {module: n for module, path in modules() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}
