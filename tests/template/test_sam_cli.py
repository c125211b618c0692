"""cfn-lint, checkov, `sam validate` and `sam build`, run as an operator would. (`sam validate
--lint` is cfn-lint run by the SAM CLI: the cfn-lint test covers it.)"""

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.lambda_runtime import ROOT
from tools.local_run import template

SAM = ROOT / ".venv-sam" / "bin" / "sam"
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
CHECKOV_CONFIG = ROOT / ".checkov.yaml"
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
    # What checkov scans, how, and every check it skips are in one file, .checkov.yaml.
    assert CHECKOV.exists(), "checkov lives in .venv-checkov: run `make setup`"
    result = run(CHECKOV, "--config-file", CHECKOV_CONFIG.name)
    assert "Failed checks: 0," in result.stdout


def checkov_skips() -> dict[str, str]:
    """Each check .checkov.yaml skips, with the comment lines written right above it."""
    skips: dict[str, str] = {}
    reason: list[str] = []
    section = ""
    for line in CHECKOV_CONFIG.read_text().splitlines():
        stripped = line.strip()
        if not line.startswith(" ") and stripped.endswith(":"):
            section, reason = stripped[:-1], []
        elif stripped.startswith("#"):
            reason.append(stripped.lstrip("# "))
        elif section == "skip-check" and stripped.startswith("- "):
            skips[stripped[2:].strip()] = " ".join(reason)
            reason = []
    return skips


def test_every_checkov_skip_is_in_one_file_with_its_reason():
    skips = checkov_skips()
    assert skips, ".checkov.yaml skips nothing: is it still read?"
    assert yaml.safe_load(CHECKOV_CONFIG.read_text())["skip-check"] == list(skips)
    assert {check: why for check, why in skips.items() if len(why) < 40} == {}, "a skip without its reason"
    for path in ("template.yaml", "member-account.yaml"):
        assert "checkov" not in (ROOT / path).read_text(), f"{path} skips a check itself: use .checkov.yaml"


def test_what_the_checkov_skips_do_not_cover_still_holds():
    """A skip in .checkov.yaml holds for every resource; where a skipped check passed on some of
    them, this keeps it passing there (a new resource of the kind must be named here, and why)."""
    resources = template()["Resources"]

    def of_type(kind: str) -> dict[str, dict[str, Any]]:
        return {name: r.get("Properties", {}) for name, r in resources.items() if r["Type"] == kind}

    # CKV_AWS_18, CKV_AWS_21: the report bucket is the only bucket.
    assert set(of_type("AWS::S3::Bucket")) == {"ReportBucket"}
    # CKV_AWS_115: every function reserves its concurrency but those the skip names.
    unreserved = {
        "ListTargetsFunction",
        "ListDirectoriesFunction",
        "WriteReportFunction",
        "LoginEventsFunction",
    }
    functions = of_type("AWS::Serverless::Function")
    assert {n for n, p in functions.items() if "ReservedConcurrentExecutions" not in p} == unreserved
    # CKV_AWS_28: every table keeps point-in-time recovery but those the skip names.
    tables = of_type("AWS::DynamoDB::Table")
    without_recovery = {
        n
        for n, p in tables.items()
        if not p.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled")
    }
    assert without_recovery == {"IdempotencyTable", "WorkspaceUserTable"}
    # CKV_AWS_27: every queue is encrypted, with SSE-SQS or a KMS key.
    queues = of_type("AWS::SQS::Queue")
    encrypted = {n for n, q in queues.items() if q.get("SqsManagedSseEnabled") or q.get("KmsMasterKeyId")}
    assert queues and encrypted == set(queues)


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
    assert (layer / "ws_autopilot" / "cost" / "rules.py").exists()
    assert (layer / "ws_autopilot" / "py.typed").exists()
    assert (layer / "aws_lambda_powertools").is_dir()
    assert any(p.name.endswith("aarch64-linux-gnu.so") for p in (layer / "pydantic_core").iterdir())
    # the monthly digest's template engine and its template
    assert (layer / "jinja2").is_dir() and (layer / "markupsafe").is_dir()
    assert (layer / "ws_autopilot" / "digest" / "templates" / "monthly_digest.html.j2").exists()
    functions = [
        name for name, r in template()["Resources"].items() if r["Type"] == "AWS::Serverless::Function"
    ]
    assert len(functions) == 7
    for function in functions:
        assert (tmp_path / "build" / function / "app.py").exists()
