"""`make invoke`: every function runs with a sample event of events/ against a seeded simulator.
The command itself runs once in its own process, as an operator runs it; the other samples run
the same entry point in this process (a process costs about 4 s of imports), with the
environment it sets for itself restored afterwards."""

import json
import os
import re
import subprocess
from unittest import mock

import pytest

from tests.support.lambda_runtime import EVENTS, ROOT
from tools import invoke as make_invoke
from tools.invoke import functions

SAMPLES = {
    "list_targets": "list_targets",
    "list_directories": "list_directories",
    "optimize_directory": "optimize_directory_continuation",
    "write_report": "write_report",
    "login_events": "login_ipv6",
    "remediate": "remediate",
    "monthly_digest": "monthly_digest",
}


@pytest.fixture
def invoke(capsys):
    """`make invoke`'s entry point for one function and sample: its exit status and what it
    printed."""

    def run(function: str, event: str) -> tuple[int, str]:
        capsys.readouterr()
        with mock.patch.dict(os.environ):
            status = make_invoke.main(["--function", function, "--event", str(EVENTS / f"{event}.json")])
        return status, capsys.readouterr().out

    return run


def printed_result(stdout: str) -> dict:
    """The handler's result, printed as JSON after any log line."""
    lines = stdout.splitlines()
    return json.loads("\n".join(lines[lines.index("{") :]))


@pytest.mark.slow
def test_make_invoke_runs_a_function_with_its_sample_as_the_readme_says():
    result = subprocess.run(
        ["make", "--no-print-directory", "invoke", "FUNCTION=remediate", "EVENT=events/remediate.json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert printed_result(result.stdout)["targets"] == ["123456789012/us-east-1"]


def test_every_function_has_a_sample_event():
    assert set(SAMPLES) == set(functions())
    assert all((EVENTS / f"{event}.json").is_file() for event in SAMPLES.values())


@pytest.mark.parametrize(("function", "event"), sorted(SAMPLES.items()))
def test_each_function_runs_with_its_sample_event(invoke, function, event):
    status, stdout = invoke(function, event)
    assert status == 0, stdout[-2000:]
    assert printed_result(stdout), f"{function} returned nothing"


def test_a_login_forwarded_from_a_member_account_is_recorded_with_its_user(invoke):
    status, stdout = invoke("login_events", "login_forwarded")
    assert status == 0, stdout[-2000:]
    output = printed_result(stdout)
    assert (output["account_id"], output["region"]) == ("222222222222", "eu-west-1")
    assert output["user_name_resolved"] is True


def test_a_login_from_an_account_not_covered_is_refused_with_a_failing_status(invoke):
    status, stdout = invoke("login_events", "login_rejected")
    assert status == 1
    assert '"errorType": "UncoveredLoginEvent"' in stdout
    assert "account 999999999999 is not covered" in stdout


def test_a_malformed_sample_is_reported_with_its_error_and_a_failing_status(invoke):
    status, stdout = invoke("login_events", "login_malformed")
    assert status == 1
    assert '"errorType": "InvalidLoginEvent"' in stdout


def test_a_directory_invocation_says_what_it_did_besides_where_it_got_to(invoke):
    status, stdout = invoke("optimize_directory", "optimize_directory")
    assert status == 0, stdout[-2000:]
    assert printed_result(stdout)["done"] is True
    (line,) = [li for li in stdout.splitlines() if " WorkSpaces in its report part (" in li]
    counted = re.fullmatch(r"directory d-\w+: (\d+) WorkSpaces in its report part \((.+)\)", line)
    assert counted, line
    actions = {a.split(" ", 1)[1]: int(a.split(" ", 1)[0]) for a in counted[2].split(", ")}
    assert sum(actions.values()) == int(counted[1]) == 30  # the seeded fleet, every WorkSpace once
    assert {"to_always_on", "to_auto_stop"} <= set(actions)
