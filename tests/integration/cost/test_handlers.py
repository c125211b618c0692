"""Each handler on its own, with the sample events of events/ (the ones `sam local invoke -e` takes)."""

import json
from datetime import UTC, datetime

import pytest
from aws_lambda_powertools.utilities.parser import ValidationError

from tests.support import simulator
from tests.support.lambda_runtime import FakeContext, load_event
from tests.support.step_functions import MapChild, write_map_results
from ws_autopilot.core.errors import InvalidRunInput
from ws_autopilot.core.models import Target
from ws_autopilot.cost.report_store import ReportStore

NOW = datetime(2026, 11, 30, 21, 5, tzinfo=UTC)


def test_list_targets_names_the_run_and_writes_its_accounts_and_regions_to_s3(aws, deploy):
    stack = deploy(
        MapConcurrency="7", Regions="us-east-1,eu-west-1,xx-nowhere-1", MemberAccounts="210987654321"
    )
    out = stack.handlers["ListTargetsFunction"](load_event("list_targets"), FakeContext())
    run = "5f0c1f6e-2b7d-4f0e-9f6a-0a1b2c3d4e5f"
    assert (out["run_id"], out["run_date"], out["max_concurrency"]) == (run, "2026-11-30", 7)
    assert (out["targets_key"], out["results_prefix"]) == (f"runs/{run}/targets.json", f"runs/{run}/results")
    assert (out["targets"], out["skipped"]) == (4, 2), "counts only: the lists are in S3"
    store = ReportStore(stack.refs["ReportBucket"])
    assert [(t.account_id, t.region) for t in store.read_target_list(run)] == [
        ("123456789012", "us-east-1"),
        ("123456789012", "eu-west-1"),
        ("210987654321", "us-east-1"),
        ("210987654321", "eu-west-1"),
    ]
    assert [(t["account_id"], t["region"], t["error"]) for t in store.read_skipped(run)] == [
        ("123456789012", "xx-nowhere-1", "WorkSpaces is not offered in xx-nowhere-1"),
        ("210987654321", "xx-nowhere-1", "WorkSpaces is not offered in xx-nowhere-1"),
    ]


def test_list_targets_defaults_to_the_deployment_region_and_account(aws, deploy):
    stack = deploy()
    out = stack.handlers["ListTargetsFunction"](load_event("list_targets"), FakeContext())
    store = ReportStore(stack.refs["ReportBucket"])
    assert store.read_target_list(out["run_id"]) == [Target("123456789012", "us-east-1")]
    assert store.read_skipped(out["run_id"]) == []


def test_list_directories_lists_one_account_and_region(aws, make_fleet, deploy):
    fleet = make_fleet({"a": {"mode": "AUTO_STOP"}}, NOW)
    stack = deploy()
    stack.handlers["ListTargetsFunction"](load_event("list_targets"), FakeContext())  # starts the sample run
    out = stack.handlers["ListDirectoriesFunction"](load_event("list_directories"), FakeContext())
    assert out["directories"] == [{"directory_id": fleet.directory_id}]
    assert (out["account_id"], out["region"], out["error"]) == ("123456789012", "us-east-1", None)


def test_optimize_directory_continues_from_a_sample_continuation(aws, make_fleet, deploy):
    fleet = make_fleet({f"w{i}": {"mode": "AUTO_STOP", "profile": "idle"} for i in range(130)}, NOW)
    stack = deploy()
    stack.handlers["ListTargetsFunction"](load_event("list_targets"), FakeContext())
    sample = load_event("optimize_directory_continuation")
    event = {
        **sample,
        "directory_id": fleet.directory_id,
        "continuation": {**sample["continuation"], "directory_id": fleet.directory_id},
    }
    out = stack.handlers["OptimizeDirectoryFunction"](event, FakeContext())
    assert (out["done"], out["continuation"]) == (True, None)
    assert (out["account_id"], out["region"]) == ("123456789012", "us-east-1")


def test_write_report_reads_the_map_results_and_lists_what_was_not_finished(aws, deploy):
    stack = deploy(Regions="us-east-1,xx-nowhere-1", MemberAccounts="210987654321")
    stack.handlers["ListTargetsFunction"](load_event("list_targets"), FakeContext())
    event = load_event("write_report")
    run = {"run_id": event["run_id"], "run_date": event["run_date"]}
    home, member = ("123456789012", "us-east-1"), ("210987654321", "us-east-1")
    write_map_results(
        aws["s3"],
        event["results"]["ResultWriterDetails"]["Bucket"],
        event["results"]["ResultWriterDetails"]["Key"],
        event["results"]["MapRunArn"],
        [
            MapChild(
                {**run, "account_id": home[0], "region": home[1]},
                {
                    "account_id": home[0],
                    "region": home[1],
                    "error": None,
                    "directories": [
                        {"directory_id": "d-0123456789", "done": True},
                        {"directory_id": "d-9876543210", "done": False, "error": "TransientAwsError"},
                    ],
                },
            ),
            MapChild({**run, "account_id": member[0], "region": member[1]}, error="States.Runtime"),
        ],
    )

    out = stack.handlers["WriteReportFunction"](event, FakeContext())

    summary = json.loads(
        aws["s3"].get_object(Bucket=stack.refs["ReportBucket"], Key=out["summary_key"])["Body"].read()
    )
    assert summary["failed"] == [
        "210987654321/us-east-1",
        "123456789012/xx-nowhere-1",
        "210987654321/xx-nowhere-1",
        "123456789012/us-east-1/d-9876543210",
    ]
    assert (out["targets"], out["failed"]) == (4, 4)
    assert out["report_key"] == "reports/2026/11/30/5f0c1f6e-2b7d-4f0e-9f6a-0a1b2c3d4e5f.csv"


def test_write_report_refuses_results_that_are_not_the_runs_own(aws, deploy):
    stack = deploy()
    stack.handlers["ListTargetsFunction"](load_event("list_targets"), FakeContext())
    event = load_event("write_report")
    event["results"]["ResultWriterDetails"]["Key"] = "runs/another-run/results/x/manifest.json"
    with pytest.raises(InvalidRunInput, match="are not this run's"):
        stack.handlers["WriteReportFunction"](event, FakeContext())


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({**load_event("optimize_directory"), "directory_id": "corp-directory"}, "directory_id"),
        ({k: v for k, v in load_event("optimize_directory").items() if k != "run_id"}, "run_id"),
        ({**load_event("optimize_directory"), "continuation": {"sequence": -1}}, "continuation.sequence"),
        (
            {
                **load_event("optimize_directory"),
                "continuation": {"directory_id": "d-0123456789", "sequence": 10**400},
            },
            "continuation.sequence",
        ),
        (
            {
                **load_event("optimize_directory"),
                "continuation": {"directory_id": "d-0123456789", "next_token": "x" * 5000},
            },
            "continuation.next_token",
        ),
        ({**load_event("optimize_directory"), "account_id": "12345"}, "account_id"),
    ],
)
def test_a_malformed_request_is_rejected_naming_the_field(aws, deploy, event, field):
    stack = deploy()
    with pytest.raises(ValidationError) as raised:
        stack.handlers["OptimizeDirectoryFunction"](event, FakeContext())
    assert field in str(raised.value)


@pytest.mark.parametrize(
    ("function", "event", "problem"),
    [
        (
            "OptimizeDirectoryFunction",
            {**load_event("optimize_directory"), "account_id": "999999999999"},
            "account and region 999999999999/us-east-1 are not covered by this run",
        ),
        (
            "ListDirectoriesFunction",
            {**load_event("list_directories"), "region": "eu-west-1"},
            "account and region 123456789012/eu-west-1 are not covered by this run",
        ),
        (
            "OptimizeDirectoryFunction",
            {
                **load_event("optimize_directory"),
                "continuation": {"directory_id": "d-9999999999", "next_token": "tok", "sequence": 3},
            },
            "the continuation belongs to directory d-9999999999, not d-0123456789",
        ),
    ],
)
def test_a_request_outside_what_the_run_covers_is_refused_before_any_call_to_it(
    aws, deploy, function, event, problem
):
    stack = deploy(MemberAccounts="210987654321")
    stack.handlers["ListTargetsFunction"](load_event("list_targets"), FakeContext())
    simulator.CALLS.clear()

    with pytest.raises(InvalidRunInput) as raised:
        stack.handlers[function](event, FakeContext())

    assert str(raised.value) == problem
    assert {service for service, _ in simulator.CALLS} <= {"s3"}, "only the run's targets were read"


def test_a_run_that_never_started_has_nothing_to_optimize(aws, deploy):
    stack = deploy()
    with pytest.raises(Exception, match="NoSuch"):
        stack.handlers["OptimizeDirectoryFunction"](load_event("optimize_directory"), FakeContext())
