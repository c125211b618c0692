"""checkov on the template as CloudFormation runs it: after the SAM transform, which writes each
function's role and policies (tools/sam_transform.py). The untransformed template shows checkov
only the policy statements, not the roles SAM builds around them."""

import json
from pathlib import Path

import pytest

from tests.template.test_sam_cli import CHECKOV, CHECKOV_CONFIG, SAM, run

SAM_PYTHON = SAM.parent / "python"


@pytest.fixture(scope="module")
def transformed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert SAM_PYTHON.exists(), "the SAM CLI lives in .venv-sam: run `make setup`"
    result = run(SAM_PYTHON, "-m", "tools.sam_transform", "template.yaml")
    path = tmp_path_factory.mktemp("transformed") / "template.transformed.json"
    path.write_text(result.stdout)
    return path


@pytest.mark.slow
def test_the_transform_writes_a_role_for_every_function(transformed: Path):
    resources = json.loads(transformed.read_text())["Resources"]
    functions = [name for name, r in resources.items() if r["Type"] == "AWS::Lambda::Function"]
    roles = {name for name, r in resources.items() if r["Type"] == "AWS::IAM::Role"}
    assert len(functions) == 7
    assert {f"{name}Role" for name in functions} <= roles


@pytest.mark.slow
def test_checkov_on_the_transformed_template_finds_nothing_that_is_not_fixed_or_explained(transformed: Path):
    # The same configuration (and skips, each with its reason) as the untransformed templates;
    # -f replaces its list of files with the transformed one.
    result = run(CHECKOV, "--config-file", CHECKOV_CONFIG.name, "-f", str(transformed), "-o", "json")
    summary = json.loads(result.stdout)["summary"]
    assert summary["failed"] == 0, result.stdout
    assert summary["passed"] > 0


# checkov's IAM policy checks: privilege escalation, credentials exposure, data exfiltration,
# permissions management and write access without constraints.
IAM_CHECKS = ["CKV_AWS_107", "CKV_AWS_108", "CKV_AWS_109", "CKV_AWS_110", "CKV_AWS_111"]


@pytest.mark.slow
def test_checkovs_iam_checks_pass_on_every_role_sam_writes(transformed: Path):
    # run outside the repository, where checkov would read .checkov.yaml by itself and its
    # skips, and with output that lists what passed
    result = run(
        CHECKOV,
        "-f",
        str(transformed),
        "--framework",
        "cloudformation",
        "--skip-download",
        "--check",
        ",".join(IAM_CHECKS),
        "-o",
        "json",
        cwd=transformed.parent,
    )
    checks = json.loads(result.stdout)["results"]
    assert checks["failed_checks"] == []
    passed = {(c["check_id"], c["resource"]) for c in checks["passed_checks"]}
    resources = json.loads(transformed.read_text())["Resources"]
    roles = [f"AWS::IAM::Role.{name}" for name, r in resources.items() if r["Type"] == "AWS::IAM::Role"]
    assert {(check, role) for check in IAM_CHECKS for role in roles} <= passed
