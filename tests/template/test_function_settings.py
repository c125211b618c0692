"""Each function's environment, as the template sets it, is exactly the fields of the settings
its handler reads (`SETTINGS` in functions/<name>/app.py): no variable set for nothing, none
read that the template forgets. Importing a handler reads no settings."""

import os
from pathlib import Path

import pytest

from tests.support import cfn_template
from tests.support.lambda_runtime import ROOT, load_handler_module

TEMPLATE = cfn_template.load(ROOT / "template.yaml")
FUNCTIONS = {  # functions/ folder -> the environment the template gives it
    Path(r["Properties"]["CodeUri"]).name: r["Properties"].get("Environment", {}).get("Variables", {})
    for r in TEMPLATE["Resources"].values()
    if r["Type"] == "AWS::Serverless::Function"
}


def test_every_function_folder_is_a_function_of_the_template():
    assert set(FUNCTIONS) == {p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").exists()}


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_the_template_sets_exactly_the_variables_the_handler_reads(function, monkeypatch):
    for variable in [v for v in os.environ if v.isupper() and not v.startswith(("AWS_", "POWERTOOLS_"))]:
        monkeypatch.delenv(variable)  # nothing of another test's deployment is read at import
    module = load_handler_module(function)
    read = frozenset().union(*(settings.variables() for settings in module.SETTINGS))
    assert read == set(FUNCTIONS[function])
