"""cfn-lint, checkov, `sam validate` and `sam build`, run as an operator would. (`sam validate
--lint` is cfn-lint run by the SAM CLI: the cfn-lint test covers it.)"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.lambda_runtime import ROOT
from tools.local_run import template

SAM = ROOT / ".venv-sam" / "bin" / "sam"
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
CFN_LINT = Path(sys.executable).parent / "cfn-lint"
# The tools run on the machine's real clock even when the tests run with it moved (make test's
# faketime): `sam build` downloads the layer's packages from PyPI, whose TLS certificates a clock
# years away would refuse.
ENV = {
    **{k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "FAKETIME")},
    "AWS_DEFAULT_REGION": "us-east-1",
    "SAM_CLI_TELEMETRY": "0",
}


def run(*command: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(c) for c in command], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def sam() -> Path:
    assert SAM.exists(), "the SAM CLI lives in .venv-sam: run `make setup`"
    return SAM


@pytest.mark.slow
def test_cfn_lint_passes():
    run(CFN_LINT, "template.yaml", "member-account.yaml")


@pytest.mark.slow
def test_checkov_finds_nothing_that_is_not_fixed_or_explained():
    # Each remaining finding is suppressed in the template's Metadata with a one-line reason;
    # --skip-download keeps checkov off the network (it would fetch its guideline links).
    assert CHECKOV.exists(), "checkov lives in .venv-checkov: run `make setup`"
    result = run(
        CHECKOV,
        *("-f", "template.yaml", "-f", "member-account.yaml"),
        *("--framework", "cloudformation", "--compact", "--quiet", "--skip-download"),
    )
    assert "Failed checks: 0," in result.stdout


def test_every_checkov_suppression_gives_its_reason():
    for name, resource in template()["Resources"].items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert len(str(skip.get("comment", ""))) > 20, f"{name} skips {skip['id']} without a reason"


@pytest.mark.slow
@pytest.mark.parametrize("path", ["template.yaml", "member-account.yaml"])
def test_sam_validate_passes(sam, path):
    assert "is a valid SAM Template" in run(sam, "validate", "-t", path).stdout


@pytest.mark.slow
def test_sam_build_packages_the_layer_and_the_functions(sam, tmp_path):
    if not shutil.which("python3.11"):
        pytest.fail("sam build needs the functions' runtime, python3.11, on PATH")
    run(sam, "build", "--build-dir", tmp_path / "build", "--cache-dir", tmp_path / "cache")
    layer = tmp_path / "build" / "SharedLayer" / "python"
    assert (layer / "ws_autopilot" / "rules.py").exists()
    assert (layer / "ws_autopilot" / "py.typed").exists()
    assert (layer / "aws_lambda_powertools").is_dir()
    assert any(p.name.endswith("aarch64-linux-gnu.so") for p in (layer / "pydantic_core").iterdir())
    # the monthly digest's template engine and its template
    assert (layer / "jinja2").is_dir() and (layer / "markupsafe").is_dir()
    assert (layer / "ws_autopilot" / "templates" / "monthly_digest.html.j2").exists()
    functions = [
        name for name, r in template()["Resources"].items() if r["Type"] == "AWS::Serverless::Function"
    ]
    assert len(functions) == 7
    for function in functions:
        assert (tmp_path / "build" / function / "app.py").exists()
