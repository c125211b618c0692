"""One deploy model: the stack holds the settings, samconfig.toml pins none (docs/decisions.md
D-200). Tested through the SAM CLI's own deploy code (its command, guided prompts, samconfig
handling and change-set logic) with only its AWS calls answered (tests/support/sam_deploy.py):
the parameters each change set sends after a first deploy, an override and a plain deploy."""

import json
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.support import cfn_template
from tests.support.lambda_runtime import ROOT
from tests.template.test_sam_cli import ENV, SAM

PARAMETERS = list(cfn_template.load(ROOT / "template.yaml")["Parameters"])
EMAIL = "NotificationEmail=ops@example.com"
# `sam deploy --guided`, every answer its default but the ones named: stack name, region, each
# parameter, confirm changes (n: no second prompt here), IAM role creation, disable rollback,
# then "Save arguments to configuration file".
GUIDED_ANSWERS = "\n\n" + "\n" * len(PARAMETERS) + "n\n\n\n"
PREVIOUS = "(previous value)"


def deploy(*args: str, answers: str = "") -> dict[str, Any]:
    return {"args": ["deploy", "--no-confirm-changeset", *args], "input": answers}


def guided(save: bool) -> dict[str, Any]:
    answers = GUIDED_ANSWERS + ("y\n\n\n" if save else "n\n")
    return {"args": ["deploy", "--guided", "--parameter-overrides", EMAIL], "input": answers}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of what `sam deploy` reads and packages."""
    folder = tmp_path / "project"
    folder.mkdir()
    for name in ("template.yaml", "samconfig.toml"):
        shutil.copy(ROOT / name, folder / name)
    for name in ("functions", "layers", "statemachine"):
        shutil.copytree(
            ROOT / name, folder / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
        )
    return folder


def run(project: Path, *steps: dict[str, Any]) -> list[dict[str, Any]]:
    """Each step's exit code, output, the change set's parameters (name -> value, or PREVIOUS for
    UsePreviousValue), the stack's parameters after it and samconfig.toml."""
    assert SAM.exists(), "the SAM CLI lives in .venv-sam: run `make setup`"
    steps_file = project.parent / "steps.json"
    steps_file.write_text(json.dumps(list(steps)))
    env = {
        **ENV,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
    }
    done = subprocess.run(
        [str(SAM.parent / "python"), str(ROOT / "tests" / "support" / "sam_deploy.py"), project, steps_file],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    results: list[dict[str, Any]] = json.loads(done.stdout)
    for result in results:
        assert result["exit_code"] == 0, result["output"][-3000:]
        result["sent"] = {
            p["ParameterKey"]: PREVIOUS if p.get("UsePreviousValue") else p["ParameterValue"]
            for p in result["parameters"]
        }
    return results


def pinned(samconfig: str) -> list[str]:
    return [
        name
        for name, value in tomllib.loads(samconfig)["default"].items()
        if "parameter_overrides" in value.get("parameters", {})
    ]


@pytest.mark.slow
@pytest.mark.parametrize("first", ["the README's deploy", "a guided deploy, answers not saved"])
def test_a_routine_deploy_reverts_no_setting(project, first):
    shipped = (project / "samconfig.toml").read_text()
    first_step = (
        deploy("--parameter-overrides", EMAIL) if first == "the README's deploy" else guided(save=False)
    )
    created, override, routine = run(
        project,
        first_step,
        deploy("--parameter-overrides", "DryRun=false Remediation=On"),
        deploy(),  # a new version of the code, say
    )
    assert created["stack"]["DryRun"] == "true" and created["stack"]["NotificationEmail"] == "ops@example.com"
    # the override sends what it changes; every other parameter keeps the stack's value
    assert {k: v for k, v in override["sent"].items() if v != PREVIOUS} == {
        "DryRun": "false",
        "Remediation": "On",
    }
    assert set(override["sent"]) == set(PARAMETERS)
    # the routine deploy sends no value at all: nothing it could revert
    assert routine["sent"] == dict.fromkeys(PARAMETERS, PREVIOUS)
    assert (routine["stack"]["DryRun"], routine["stack"]["Remediation"]) == ("false", "On")
    assert routine["stack"]["NotificationEmail"] == "ops@example.com"
    assert routine["samconfig"] == shipped, "samconfig.toml stays as shipped: it pins no setting"


@pytest.mark.slow
def test_saving_the_guided_answers_pins_every_setting_which_samconfig_warns_of(project):
    """Why samconfig.toml says to answer N: saved answers are sent again by every deploy and
    revert an override; taking them out of samconfig.toml restores the model."""
    repair = {**deploy(), "drop_samconfig_lines": "parameter_overrides"}
    created, override, routine, repaired, after = run(
        project,
        guided(save=True),
        deploy("--parameter-overrides", "DryRun=false"),
        deploy(),
        repair,
        deploy("--parameter-overrides", "DryRun=false"),
    )
    assert pinned(created["samconfig"]) == ["deploy"]
    assert override["stack"]["DryRun"] == "false"
    assert routine["sent"]["DryRun"] == "true" and routine["stack"]["DryRun"] == "true"  # reverted
    assert pinned(repaired["samconfig"]) == [] and repaired["sent"] == dict.fromkeys(PARAMETERS, PREVIOUS)
    assert after["stack"]["DryRun"] == "false"


def test_samconfig_says_which_file_holds_the_settings():
    text = (ROOT / "samconfig.toml").read_text()
    config = tomllib.loads(text)
    assert "parameter_overrides" not in config["default"]["deploy"]["parameters"]
    comments = " ".join(line.lstrip("# ") for line in text.splitlines() if line.startswith("#"))
    for said in ("The stack holds the settings", "answer N", "--parameter-overrides"):
        assert said in comments, said
