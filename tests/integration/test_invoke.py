"""`make invoke`: every function runs with a sample event of events/ against a seeded simulator.
Each run is its own process, as `make invoke` is (it sets Powertools' environment for itself)."""

import json
import subprocess
import sys

import pytest

from tests.support.invoke import functions
from tests.support.lambda_runtime import EVENTS, ROOT

pytestmark = pytest.mark.slow  # a process each; not repeated by the clock check (each freezes its own time)

SAMPLES = {
    "list_targets": "list_targets",
    "list_directories": "list_directories",
    "optimize_directory": "optimize_directory_continuation",
    "write_report": "write_report",
    "login_events": "login_ipv6",
    "remediate": "remediate",
    "monthly_digest": "monthly_digest",
}


def invoke(function: str, event: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.support.invoke",
            "--function",
            function,
            "--event",
            str(EVENTS / f"{event}.json"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_function_has_a_sample_event():
    assert set(SAMPLES) == set(functions())
    assert all((EVENTS / f"{event}.json").is_file() for event in SAMPLES.values())


@pytest.mark.parametrize(("function", "event"), sorted(SAMPLES.items()))
def test_each_function_runs_with_its_sample_event(function, event):
    result = invoke(function, event)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    output = json.loads("\n".join(lines[lines.index("{") :]))  # the printed result, after any log line
    assert output, f"{function} returned nothing"


def test_a_login_forwarded_from_a_member_account_is_recorded_with_its_user():
    result = invoke("login_events", "login_forwarded")
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    output = json.loads("\n".join(lines[lines.index("{") :]))
    assert (output["account_id"], output["region"]) == ("222222222222", "eu-west-1")
    assert output["user_name_resolved"] is True


def test_a_login_from_an_account_not_covered_is_refused_with_a_failing_status():
    result = invoke("login_events", "login_rejected")
    assert result.returncode == 1
    assert '"errorType": "UncoveredLoginEvent"' in result.stdout
    assert "account 999999999999 is not covered" in result.stdout


def test_a_malformed_sample_is_reported_with_its_error_and_a_failing_status():
    result = invoke("login_events", "login_malformed")
    assert result.returncode == 1
    assert '"errorType": "InvalidLoginEvent"' in result.stdout
