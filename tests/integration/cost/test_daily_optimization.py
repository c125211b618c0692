"""The daily optimization end to end: the state machine definition drives the real handlers
against the simulator, with the clock frozen at the run time."""

from datetime import UTC, datetime

import pytest

from tests.conftest import ACCOUNT, REGION
from tests.integration.conftest import read_report
from tests.support import simulator
from tests.support.lambda_runtime import FakeContext
from tools.local_run import run_daily

LAST_DAY = datetime(2026, 11, 30, 21, 5, tzinfo=UTC)
MID_MONTH = datetime(2026, 11, 18, 21, 5, tzinfo=UTC)

MIXED = {
    "busy_hourly": {"mode": "AUTO_STOP", "profile": "office"},
    "light_hourly": {"mode": "AUTO_STOP", "profile": "part_time"},
    "light_monthly": {"mode": "ALWAYS_ON", "profile": "part_time"},
    "busy_monthly": {"mode": "ALWAYS_ON", "profile": "office"},
    "opted_out": {"mode": "AUTO_STOP", "profile": "office", "tags": {" skip_convert ": "no"}},
    "no_threshold": {"mode": "AUTO_STOP", "profile": "office", "compute": "GRAPHICS_G6_XLARGE"},
    "extra_threshold": {"mode": "AUTO_STOP", "profile": "office", "compute": "GENERALPURPOSE_4XLARGE"},
    "unhealthy": {"mode": "AUTO_STOP", "profile": "office", "state": "UNHEALTHY"},
    "manual": {"mode": "MANUAL"},
    "monthly_without_metrics": {"mode": "ALWAYS_ON"},
    "stopped_idle": {"mode": "AUTO_STOP", "state": "STOPPED"},
}
EXPECTED_ON_LAST_DAY = {
    "busy_hourly": ("to_always_on", "ALWAYS_ON"),
    "light_hourly": ("none", "AUTO_STOP"),
    "light_monthly": ("to_auto_stop", "AUTO_STOP"),
    "busy_monthly": ("none", "ALWAYS_ON"),
    "opted_out": ("skipped", "AUTO_STOP"),
    "no_threshold": ("skipped", "AUTO_STOP"),
    "extra_threshold": ("to_always_on", "ALWAYS_ON"),
    "unhealthy": ("skipped", "AUTO_STOP"),
    "manual": ("skipped", "MANUAL"),
    "monthly_without_metrics": ("error", "ALWAYS_ON"),
    "stopped_idle": ("none", "AUTO_STOP"),
}


def by_name(fleet, rows):
    names = {v: k for k, v in fleet.ids.items()}
    return {names[row["workspace_id"]]: row for row in rows}


def test_mixed_fleet_converts_exactly_the_workspaces_the_rules_select(aws, make_fleet, deploy):
    fleet = make_fleet(MIXED, LAST_DAY)
    stack = deploy(DryRun="false", ExtraThresholds="GENERALPURPOSE_4XLARGE=100")

    output, _ = run_daily(stack.state_machine, LAST_DAY)

    rows, summary = read_report(aws["s3"], output)
    report = by_name(fleet, rows)
    assert {name: (row["action"], fleet.mode(name)) for name, row in report.items()} == EXPECTED_ON_LAST_DAY
    assert len(rows) == len(MIXED)
    assert report["opted_out"]["reason"] == "Skip_Convert tag"
    assert report["no_threshold"]["reason"] == "no threshold for GRAPHICS_G6_XLARGE"
    assert report["busy_hourly"]["running_mode_after"] == "ALWAYS_ON"
    assert int(report["busy_hourly"]["billable_hours"]) > int(report["busy_hourly"]["threshold"]) == 85
    assert summary["actions"] == {"to_always_on": 2, "to_auto_stop": 1, "none": 3, "skipped": 4, "error": 1}
    assert summary["dry_run"] is False


def test_dry_run_reports_the_same_decisions_and_modifies_nothing(aws, make_fleet, deploy):
    fleet = make_fleet(MIXED, LAST_DAY)
    stack = deploy(DryRun="true", ExtraThresholds="GENERALPURPOSE_4XLARGE=100")

    output, _ = run_daily(stack.state_machine, LAST_DAY)

    report = by_name(fleet, read_report(aws["s3"], output)[0])
    assert {name: row["action"] for name, row in report.items()} == {
        name: action for name, (action, _) in EXPECTED_ON_LAST_DAY.items()
    }
    assert {name: fleet.mode(name) for name in MIXED} == {name: spec["mode"] for name, spec in MIXED.items()}
    assert all(
        row["dry_run"] == "True" and row["running_mode_after"] == row["running_mode_before"]
        for row in report.values()
    )


def test_always_on_workspaces_are_not_reset_before_the_last_day(aws, make_fleet, deploy):
    fleet = make_fleet({k: MIXED[k] for k in ("light_monthly", "busy_hourly")}, MID_MONTH)
    stack = deploy(DryRun="false")

    run_daily(stack.state_machine, MID_MONTH)

    assert fleet.mode("light_monthly") == "ALWAYS_ON"
    assert fleet.mode("busy_hourly") == "ALWAYS_ON"


def test_a_refused_modification_is_an_error_row_and_the_run_goes_on(aws, make_fleet, deploy):
    fleet = make_fleet(
        {
            "refused": {"mode": "AUTO_STOP", "profile": "office"},
            "accepted": {"mode": "AUTO_STOP", "profile": "office"},
        },
        MID_MONTH,
    )
    simulator.refuse(
        ACCOUNT,
        REGION,
        fleet.ids["refused"],
        "ModifyWorkspaceProperties",
        "UnsupportedWorkspaceConfigurationException",
    )
    stack = deploy(DryRun="false")

    output, _ = run_daily(stack.state_machine, MID_MONTH)

    report = by_name(fleet, read_report(aws["s3"], output)[0])
    assert report["refused"]["action"] == "error"
    assert report["refused"]["error_code"] == "UnsupportedWorkspaceConfigurationException"
    assert report["refused"]["running_mode_after"] == "AUTO_STOP"
    assert (report["accepted"]["action"], fleet.mode("accepted")) == ("to_always_on", "ALWAYS_ON")


def test_a_malformed_workspace_record_is_an_error_row_naming_the_field(aws, make_fleet, deploy):
    fleet = make_fleet(
        {
            "broken": {"mode": "AUTO_STOP", "profile": "office"},
            "fine": {"mode": "AUTO_STOP", "profile": "office"},
        },
        MID_MONTH,
    )
    simulator.workspace(ACCOUNT, REGION, fleet.ids["broken"]).workspace_properties.pop("ComputeTypeName")
    stack = deploy(DryRun="false")

    output, _ = run_daily(stack.state_machine, MID_MONTH)

    report = by_name(fleet, read_report(aws["s3"], output)[0])
    assert report["broken"]["action"] == "error"
    assert "WorkspaceProperties.ComputeTypeName is missing" in report["broken"]["reason"]
    assert report["fine"]["action"] == "to_always_on"


@pytest.mark.parametrize("now", [MID_MONTH, LAST_DAY])
def test_a_directory_larger_than_one_invocation_completes_through_continuation(aws, make_fleet, deploy, now):
    specs = {
        f"ws{i:03d}": {
            "mode": "AUTO_STOP" if i % 2 else "ALWAYS_ON",
            "profile": "office" if i % 3 else "part_time",
        }
        for i in range(260)
    }
    fleet = make_fleet(specs, now)
    stack = deploy(DryRun="false")
    # every invocation runs short of time after its first batch
    output, execution = run_daily(stack.state_machine, now, context_factory=lambda _f: FakeContext([60_000]))

    rows, summary = read_report(aws["s3"], output)
    assert sorted(row["workspace_id"] for row in rows) == sorted(fleet.ids.values())
    assert execution.invocations["OptimizeDirectoryFunctionArn"] >= 2
    assert summary["workspaces"] == 260
    converted = [r for r in rows if r["action"] == "to_always_on"]
    assert converted and all(fleet.mode(n) == "ALWAYS_ON" for n in by_name(fleet, converted))


def test_several_directories_are_each_reported_once(aws, make_fleet, deploy):
    first = make_fleet({f"a{i}": {"mode": "AUTO_STOP", "profile": "office"} for i in range(30)}, MID_MONTH)
    second = make_fleet({f"b{i}": {"mode": "AUTO_STOP", "profile": "idle"} for i in range(3)}, MID_MONTH)
    stack = deploy()

    output, execution = run_daily(stack.state_machine, MID_MONTH)

    rows, summary = read_report(aws["s3"], output)
    assert sorted(r["workspace_id"] for r in rows) == sorted([*first.ids.values(), *second.ids.values()])
    assert execution.invocations["OptimizeDirectoryFunctionArn"] == 2
    assert summary["failed"] == []


def test_a_denied_tagging_api_falls_back_to_describe_tags_and_the_summary_says_so(aws, make_fleet, deploy):
    fleet = make_fleet(MIXED, LAST_DAY)
    stack = deploy(DryRun="false", ExtraThresholds="GENERALPURPOSE_4XLARGE=100")

    with simulator.inject(
        simulator.Fault("resourcegroupstaggingapi", "GetResources", "AccessDeniedException")
    ):
        output, _ = run_daily(stack.state_machine, LAST_DAY)

    rows, summary = read_report(aws["s3"], output)
    report = by_name(fleet, rows)
    assert {name: (row["action"], fleet.mode(name)) for name, row in report.items()} == EXPECTED_ON_LAST_DAY
    (note,) = summary["notes"]
    assert note.startswith(f"{ACCOUNT}/{REGION}/{fleet.directory_id}: tag:GetResources was denied")
    assert simulator.CALLS[("workspaces", "DescribeTags")] == 4, "one per would-be conversion"


def test_tags_come_from_the_tagging_api_not_the_workspaces_quota(aws, make_fleet, deploy):
    make_fleet(MIXED, LAST_DAY)
    stack = deploy(DryRun="false", ExtraThresholds="GENERALPURPOSE_4XLARGE=100")

    output, _ = run_daily(stack.state_machine, LAST_DAY)

    assert simulator.CALLS[("workspaces", "DescribeTags")] == 0
    assert simulator.CALLS[("resourcegroupstaggingapi", "GetResources")] == 1
    assert read_report(aws["s3"], output)[1]["notes"] == []
