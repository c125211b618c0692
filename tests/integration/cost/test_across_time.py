"""Decisions right across time: a month-end run that crosses midnight, retried batches, second
runs and overlapping runs (issue 8). Each runs the state machine definition with the real
handlers against the simulator; the frozen clock moves on with every virtual wait of the
WorkSpaces rate limit (2 requests per second), as a long run would in AWS."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from tests.conftest import ACCOUNT, REGION
from tests.integration.conftest import Fleet, read_report
from tests.support import fleet as fleet_support
from tests.support import simulator
from tests.support.lambda_runtime import FakeContext
from tools.local_run import FREEZE_IGNORE, run_daily
from ws_autopilot.aws.clients import RETRY_CONFIG
from ws_autopilot.core.models import Target
from ws_autopilot.cost.report_store import ReportStore

LAST_DAY = datetime(2026, 11, 30, 21, 5, tzinfo=UTC)
TIMEOUTS = (30, 60, 120, 240)
# Two one-hour sessions on each of November's 21 weekdays: billable 42 x (1 + G) hours. Against
# STANDARD's 85: G = 1 bills 84 (stays), G = 2 bills 126 and G = 4 bills 210 (converted).
PROFILE = "two_short_sessions"
ONE_BATCH_PER_INVOCATION = FakeContext([60_000])  # below the safety margin: continue after each batch


def make_fleet(aws, specs: list[dict], now: datetime) -> Fleet:
    """WorkSpaces from specs (mode, timeout_minutes, profile), named w000, w001, ..."""
    directory_id = fleet_support.create_directory(aws, "corp")
    ids = fleet_support.create_workspaces(
        aws,
        directory_id,
        [
            {
                "user": f"user{n:03d}",
                "compute_type": "STANDARD",
                "running_mode": spec["mode"],
                "timeout_minutes": spec.get("timeout_minutes", 60),
            }
            for n, spec in enumerate(specs)
        ],
    )
    for workspace_id, spec in zip(ids, specs, strict=True):
        hours = -(-spec.get("timeout_minutes", 60) // 60)
        fleet_support.seed_usage(ACCOUNT, REGION, workspace_id, spec["profile"], spec["mode"], now, hours)
    return Fleet(aws, directory_id, {f"w{n:03d}": workspace_id for n, workspace_id in enumerate(ids)})


def modes(fleet: Fleet) -> dict[str, str]:
    return {name: fleet.mode(name) for name in fleet.ids}


def modification_counts(fleet: Fleet) -> dict[str, int]:
    return {name: len(simulator.modifications(ACCOUNT, REGION, i)) for name, i in fleet.ids.items()}


def by_name(fleet: Fleet, rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    names = {v: k for k, v in fleet.ids.items()}
    return {names[row["workspace_id"]]: row for row in rows}


def timeout_fleet(aws, copies: int = 1) -> tuple[Fleet, dict[str, int]]:
    """AUTO_STOP WorkSpaces of the four timeouts (`copies` of each), all with PROFILE."""
    specs = [
        {"mode": "AUTO_STOP", "timeout_minutes": t, "profile": PROFILE}
        for _ in range(copies)
        for t in TIMEOUTS
    ]
    made = make_fleet(aws, specs, LAST_DAY)
    return made, {f"w{n:03d}": spec["timeout_minutes"] for n, spec in enumerate(specs)}


def expected_after_first_run(timeouts: dict[str, int]) -> dict[str, str]:
    return {name: "ALWAYS_ON" if minutes > 60 else "AUTO_STOP" for name, minutes in timeouts.items()}


LIVE = {"DryRun": "false"}


# ----------------------------------------------------------------------------------------------
# The run's day: a month-end run that crosses midnight
# ----------------------------------------------------------------------------------------------
def test_a_month_end_run_still_going_after_midnight_resets_every_workspace_and_marks_the_late_ones(
    aws, deploy
):
    # 150 light ALWAYS_ON WorkSpaces: two batches, one per invocation. At 2 requests per second
    # the first batch's 125 changes take past midnight, so the second batch is
    # listed, evaluated and converted on December 1st.
    start = datetime(2026, 11, 30, 23, 59, 30, tzinfo=UTC)
    fleet = make_fleet(aws, [{"mode": "ALWAYS_ON", "profile": "part_time"}] * 150, start)
    stack = deploy(**LIVE)

    output, execution = run_daily(
        stack.state_machine, start, context_factory=lambda _f: ONE_BATCH_PER_INVOCATION
    )

    rows = by_name(fleet, read_report(aws["s3"], output)[0])
    assert execution.invocations["OptimizeDirectoryFunctionArn"] == 2
    assert {row["action"] for row in rows.values()} == {"to_auto_stop"}
    assert set(modes(fleet).values()) == {"AUTO_STOP"}
    # part_time: 4 hours on Mondays and Wednesdays, 9 sessions in November: 9 x (4 + 1)
    assert {row["billable_hours"] for row in rows.values()} == {"45"}, "November's hours, whenever judged"
    late = {name for name, row in rows.items() if row["late"] == "True"}
    assert 0 < len(late) < 150
    assert all("late: made after 00:00 UTC on the 1st" in rows[name]["reason"] for name in late)
    assert not any("late" in rows[name]["reason"] for name in set(rows) - late)
    evaluated = sorted(row["evaluated_at"] for row in rows.values())
    assert evaluated[0] < "2026-12-01" <= evaluated[-1], "one batch before midnight, one after"


def test_a_switch_to_always_on_made_after_midnight_is_marked_late_with_the_fee_it_costs(aws, deploy):
    # 150 heavy AUTO_STOP WorkSpaces converted to ALWAYS_ON by a run of November 30 that reaches
    # the second batch on December 1st: those pay December's AUTO_STOP fee on top (the
    # late-conversion alarm counts them, as it counts late resets).
    start = datetime(2026, 11, 30, 23, 59, 30, tzinfo=UTC)
    fleet = make_fleet(aws, [{"mode": "AUTO_STOP", "profile": "office"}] * 150, start)
    stack = deploy(**LIVE)

    output, _ = run_daily(stack.state_machine, start, context_factory=lambda _f: ONE_BATCH_PER_INVOCATION)

    rows = by_name(fleet, read_report(aws["s3"], output)[0])
    assert {row["action"] for row in rows.values()} == {"to_always_on"}
    late = {name for name, row in rows.items() if row["late"] == "True"}
    assert 0 < len(late) < 150
    fee = "(late: made after 00:00 UTC on the 1st, December 2026 pays the AUTO_STOP monthly fee as well)"
    assert all(rows[name]["reason"].endswith(fee) for name in late)
    assert not any("late" in rows[name]["reason"] for name in set(rows) - late)


def test_the_late_count_and_the_behind_schedule_signal_reach_the_metrics(aws, deploy, capsys, monkeypatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")  # whatever another test set
    start = datetime(2026, 11, 30, 23, 59, 30, tzinfo=UTC)
    make_fleet(aws, [{"mode": "ALWAYS_ON", "profile": "part_time"}] * 150, start)
    stack = deploy(**LIVE, LogLevel="ERROR")

    run_daily(stack.state_machine, start, context_factory=lambda _f: ONE_BATCH_PER_INVOCATION)

    emitted = [line for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    metric_lines = [json.loads(line) for line in emitted]
    late = sum(m["LateMonthEndConversions"][0] for m in metric_lines if "LateMonthEndConversions" in m)
    behind = [m["MonthEndBehindSchedule"][0] for m in metric_lines if "MonthEndBehindSchedule" in m]
    assert late > 0
    assert behind[0] == 1, "the first invocation ends before midnight with work left: signalled then"


# ----------------------------------------------------------------------------------------------
# One G, and memory across runs
# ----------------------------------------------------------------------------------------------
def test_conversions_to_auto_stop_set_the_products_timeout(aws, deploy):
    fleet = make_fleet(aws, [{"mode": "ALWAYS_ON", "profile": "part_time"}], LAST_DAY)
    stack = deploy(**LIVE, AutoStopTimeoutMinutes="120")

    run_daily(stack.state_machine, LAST_DAY)

    (change,) = simulator.modifications(ACCOUNT, REGION, fleet.ids["w000"])
    assert change == {"RunningMode": "AUTO_STOP", "RunningModeAutoStopTimeoutInMinutes": 120}


def test_a_second_run_on_the_last_day_reverses_nothing(aws, deploy):
    fleet, timeouts = timeout_fleet(aws)
    stack = deploy(**LIVE)

    run_daily(stack.state_machine, LAST_DAY, run_id="scheduled")
    first = modes(fleet)
    output, _ = run_daily(stack.state_machine, LAST_DAY.replace(hour=22, minute=0), run_id="manual")

    assert first == expected_after_first_run(timeouts)
    assert modes(fleet) == first
    assert modification_counts(fleet) == {n: int(m > 60) for n, m in timeouts.items()}
    rows = by_name(fleet, read_report(aws["s3"], output)[0])
    for name, minutes in timeouts.items():
        if minutes > 60:
            assert rows[name]["action"] == "none"
            assert rows[name]["reason"].startswith(
                "converted to ALWAYS_ON by run scheduled at 2026-11-30 21:"
            )


def test_a_batch_retried_after_a_later_failure_in_the_same_invocation_changes_nothing_twice(aws, deploy):
    # 33 of each timeout: two batches (125 + 7). The second batch's first page cannot be listed
    # (5 pages of 25 make the first batch), so the invocation fails after the first batch
    # converted; Step Functions retries it from the same start, and the first batch is listed
    # and judged again.
    fleet, timeouts = timeout_fleet(aws, copies=33)
    stack = deploy(**LIVE)
    # botocore's first attempt and its retries (it rewrites max_attempts once a client is made)
    retries = RETRY_CONFIG.retries
    attempts = retries.get("total_max_attempts", retries.get("max_attempts", 0) + 1)
    outage = simulator.Fault(
        "workspaces", "DescribeWorkspaces", "InternalFailure", status=500, after=5, limit=attempts
    )

    with simulator.inject(outage):
        output, execution = run_daily(stack.state_machine, LAST_DAY)

    assert outage.injected == attempts, "botocore's retries ran out and the invocation failed"
    assert execution.invocations["OptimizeDirectoryFunctionArn"] == 2
    assert modes(fleet) == expected_after_first_run(timeouts)
    assert max(modification_counts(fleet).values()) == 1
    rows = by_name(fleet, read_report(aws["s3"], output)[0])
    converted = {name for name, minutes in timeouts.items() if minutes > 60}
    assert {name for name, row in rows.items() if row["action"] == "to_always_on"} == converted
    assert any("batch retried, not changed again" in rows[name]["reason"] for name in converted)


def test_a_mode_changed_by_hand_after_a_conversion_is_left_alone_for_the_month(aws, deploy):
    fleet, _ = timeout_fleet(aws)
    stack = deploy(**LIVE)
    run_daily(stack.state_machine, LAST_DAY.replace(day=20), run_id="day-20")
    person = fleet.ids["w003"]  # 240 minutes: converted to ALWAYS_ON on the 20th
    aws["workspaces"].modify_workspace_properties(
        WorkspaceId=person,
        WorkspaceProperties={"RunningMode": "AUTO_STOP", "RunningModeAutoStopTimeoutInMinutes": 240},
    )

    output, _ = run_daily(stack.state_machine, LAST_DAY, run_id="day-30")

    assert fleet.mode("w003") == "AUTO_STOP"
    assert len(simulator.modifications(ACCOUNT, REGION, person)) == 2, "ours, then the person's"
    row = by_name(fleet, read_report(aws["s3"], output)[0])["w003"]
    assert row["action"] == "skipped"
    assert row["reason"].startswith("running mode changed to AUTO_STOP by someone else after run day-20")
    assert row["reason"].endswith("left alone until next month")


def test_a_failed_ledger_write_means_no_conversion_and_an_error_row(aws, deploy):
    fleet, timeouts = timeout_fleet(aws)
    stack = deploy(**LIVE)

    with simulator.inject(simulator.Fault("dynamodb", "PutItem", "AccessDeniedException", after=1)):
        output, _ = run_daily(stack.state_machine, LAST_DAY)  # the first PutItem is the run lock

    assert modes(fleet) == {name: "AUTO_STOP" for name in fleet.ids}
    rows = by_name(fleet, read_report(aws["s3"], output)[0])
    for name, minutes in timeouts.items():
        if minutes > 60:
            assert (rows[name]["action"], rows[name]["error_code"]) == ("error", "AccessDeniedException")
            assert (
                rows[name]["reason"]
                == "conversion ledger write failed (AccessDeniedException); not converted"
            )
        else:
            assert rows[name]["action"] == "none"


# ----------------------------------------------------------------------------------------------
# One run at a time, and two runs' batches interleaved
# ----------------------------------------------------------------------------------------------
def test_a_run_started_while_another_is_in_progress_ends_at_once_and_converts_nothing(aws, deploy):
    fleet, timeouts = timeout_fleet(aws)
    stack = deploy(**LIVE)
    overlapping: list[dict] = []

    def second_start(function: str) -> None:
        if function == "OptimizeDirectoryFunctionArn" and not overlapping:
            output, _ = run_daily(stack.state_machine, LAST_DAY + timedelta(minutes=1), run_id="duplicate")
            overlapping.append(output)

    output, _ = run_daily(stack.state_machine, LAST_DAY, run_id="scheduled", during=second_start)

    (duplicate,) = overlapping
    assert duplicate["status"] == "not_started"
    assert duplicate["reason"].startswith(
        "run scheduled (started 2026-11-30T21:05:00.000Z) is still in progress"
    )
    assert output["status"] == "completed"
    assert modes(fleet) == expected_after_first_run(timeouts)
    assert max(modification_counts(fleet).values()) == 1
    later, _ = run_daily(stack.state_machine, LAST_DAY + timedelta(hours=1), run_id="later")
    assert later["status"] == "completed", "the lock was released with the report"


def test_the_lock_of_a_run_stopped_by_hand_is_taken_over(aws, deploy):
    fleet, timeouts = timeout_fleet(aws)
    stack = deploy(**LIVE)
    stopped = stack.state_machine.arn.replace(":stateMachine:", ":execution:") + ":stopped"

    def stop_by_hand(function: str) -> None:
        if function == "OptimizeDirectoryFunctionArn":  # the lock is taken, the report never written
            aws["stepfunctions"].stop_execution(executionArn=stopped, cause="stopped by an operator")

    _, aborted = run_daily(
        stack.state_machine, LAST_DAY, run_id="stopped", during=stop_by_hand, succeed=False
    )
    output, _ = run_daily(stack.state_machine, LAST_DAY + timedelta(minutes=30), run_id="next")

    assert aborted.status == "ABORTED"
    assert aborted.invocations["WriteReportFunctionArn"] == 0
    pairs = aws["stepfunctions"].list_executions(
        stateMachineArn=stack.machines["OptimizeTargetStateMachine"].arn
    )
    assert sorted(e["status"] for e in pairs["executions"]) == ["ABORTED", "SUCCEEDED"], (
        "the stopped run's account and region stopped with it"
    )
    assert output["status"] == "completed"
    assert modes(fleet) == expected_after_first_run(timeouts)
    assert max(modification_counts(fleet).values()) == 1


INTERLEAVINGS = sorted(set(itertools.permutations("AABB")))


@pytest.mark.parametrize("order", ["".join(o) for o in INTERLEAVINGS])
def test_two_runs_batches_interleaved_change_each_workspace_at_most_once(aws, deploy, order):
    # The lock keeps two executions apart; this drives two runs' OptimizeDirectory invocations
    # directly, one batch each time, in every interleaving of their two batches.
    fleet, timeouts = timeout_fleet(aws, copies=33)
    stack = deploy(**LIVE)
    optimize = stack.handlers["OptimizeDirectoryFunction"]
    for run in ("A", "B"):  # what ListTargets writes when a run starts
        ReportStore(stack.refs["ReportBucket"]).write_targets(f"run-{run}", [Target(ACCOUNT, REGION)])
    position = {"A": None, "B": None}
    started = {"A": LAST_DAY, "B": LAST_DAY + timedelta(minutes=10)}
    at = LAST_DAY
    for run in order:
        at = max(at, started[run]) + timedelta(minutes=1)
        event = {
            "run_id": f"run-{run}",
            "run_date": "2026-11-30",
            "account_id": ACCOUNT,
            "region": REGION,
            "directory_id": fleet.directory_id,
            "continuation": position[run],
        }
        with freeze_time(at, ignore=FREEZE_IGNORE):
            result = optimize(event, ONE_BATCH_PER_INVOCATION)
        position[run] = result["continuation"]

    assert position == {"A": None, "B": None}, "both runs went through the directory"
    assert modes(fleet) == expected_after_first_run(timeouts)
    assert modification_counts(fleet) == {n: int(m > 60) for n, m in timeouts.items()}
