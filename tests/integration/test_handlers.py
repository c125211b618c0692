"""Each handler on its own, with the sample events of events/ (the ones `sam local invoke -e` takes)."""

from datetime import UTC, datetime

import pytest
from aws_lambda_powertools.utilities.parser import ValidationError

from tests.support.lambda_runtime import FakeContext, load_event

NOW = datetime(2026, 11, 30, 21, 5, tzinfo=UTC)


def test_list_directories_names_the_run_and_lists_directories(aws, make_fleet, deploy):
    fleet = make_fleet({"a": {"mode": "AUTO_STOP"}}, NOW)
    stack = deploy(MapConcurrency="7")
    out = stack.handlers["ListDirectoriesFunction"](load_event("list_directories"), FakeContext())
    assert out == {
        "run_id": "5f0c1f6e-2b7d-4f0e-9f6a-0a1b2c3d4e5f",
        "run_date": "2026-11-30",
        "max_concurrency": 7,
        "directories": [{"directory_id": fleet.directory_id}],
    }


def test_optimize_directory_continues_from_a_sample_continuation(aws, make_fleet, deploy):
    fleet = make_fleet({f"w{i}": {"mode": "AUTO_STOP", "profile": "idle"} for i in range(130)}, NOW)
    stack = deploy()
    event = {**load_event("optimize_directory_continuation"), "directory_id": fleet.directory_id}
    out = stack.handlers["OptimizeDirectoryFunction"](event, FakeContext())
    assert (out["done"], out["continuation"]) == (True, None)


def test_write_report_lists_the_failed_directory(aws, deploy):
    stack = deploy()
    out = stack.handlers["WriteReportFunction"](load_event("write_report"), FakeContext())
    assert out["failed_directories"] == ["d-9876543210"]
    assert out["report_key"] == "reports/2026/11/30/5f0c1f6e-2b7d-4f0e-9f6a-0a1b2c3d4e5f.csv"


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({**load_event("optimize_directory"), "directory_id": "corp-directory"}, "directory_id"),
        ({k: v for k, v in load_event("optimize_directory").items() if k != "run_id"}, "run_id"),
        ({**load_event("optimize_directory"), "continuation": {"sequence": -1}}, "continuation.sequence"),
    ],
)
def test_a_malformed_request_is_rejected_naming_the_field(aws, deploy, event, field):
    stack = deploy()
    with pytest.raises(ValidationError) as raised:
        stack.handlers["OptimizeDirectoryFunction"](event, FakeContext())
    assert field in str(raised.value)
