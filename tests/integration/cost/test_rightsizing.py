"""Right-sizing end to end: the state machine definition drives the real handlers against the
simulator, whose WorkSpaces publish hourly CPUUsage and MemoryUsage beside UserConnected. On
the month's last day the report recommends one compute type down or up with its monthly dollars,
none for a well-sized WorkSpace, and says why when there can be none; no compute type is ever
changed, and on any other day nothing is read."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from tests.conftest import ACCOUNT, REGION
from tests.integration.conftest import read_report
from tests.integration.cost.test_daily_optimization import by_name
from tests.support import fleet, simulator
from tests.support.price_list import STORAGE_PER_GB_MONTH
from tools.local_run import run_daily
from ws_autopilot.aws.usage import UsageMetrics, batch_size, load_per_call
from ws_autopilot.core.calendar import evaluation_window
from ws_autopilot.core.models import HourlyLoad, Target, Workspace
from ws_autopilot.cost.converter import Batch
from ws_autopilot.cost.models import ReportRow
from ws_autopilot.cost.rightsizing_review import STANDBY_NOTE, RightsizingReview

LAST_DAY = datetime(2026, 11, 30, 21, 5, tzinfo=UTC)
MID_MONTH = datetime(2026, 11, 18, 21, 5, tzinfo=UTC)
WINDOWS = {"os": "WINDOWS_SERVER_2022"}
FLEET = {
    # office hours: 21 weekdays x 8 connected hours = 168 in-use hours by 21:00 on the 30th
    "oversized": {
        "mode": "AUTO_STOP",
        "compute": "STANDARD",
        "profile": "office",
        "load": "light",
        **WINDOWS,
    },
    "undersized": {
        "mode": "ALWAYS_ON",
        "compute": "PERFORMANCE",
        "profile": "office",
        "load": "heavy",
        "root_gib": 175,
        "user_gib": 100,
        **WINDOWS,
    },
    "well_sized": {
        "mode": "AUTO_STOP",
        "compute": "STANDARD",
        "profile": "office",
        "load": "moderate",
        **WINDOWS,
    },
    "smallest": {"mode": "AUTO_STOP", "compute": "VALUE", "profile": "office", "load": "light", **WINDOWS},
    # 2 hours on 4 Thursdays: too little use to judge, so its load is not even read
    "seldom": {
        "mode": "AUTO_STOP",
        "compute": "STANDARD",
        "profile": "occasional",
        "load": "light",
        **WINDOWS,
    },
    # an agent's WorkSpace: judged over every hour it ran, no person's connection marks its use
    "agent": {
        "mode": "AUTO_STOP",
        "compute": "POWER",
        "profile": "around_the_clock",
        "load": "heavy",
        "agentic": True,
        "os": "WINDOWS_SERVER_2025",
    },
}
COLUMNS = ("rightsize_to", "rightsize_saving_next_month", "cpu_p95", "memory_p95")


def test_the_month_end_report_recommends_one_type_down_or_up_with_its_dollars_and_none_when_well_sized(
    aws, make_fleet, deploy
):
    made = make_fleet(FLEET, LAST_DAY)
    stack = deploy(DryRun="false")
    simulator.CALLS.clear()

    output, _ = run_daily(stack.state_machine, LAST_DAY)

    rows, _summary = read_report(aws["s3"], output)
    report = by_name(made, rows)
    # STANDARD 80/50 GB Windows: $35.00 a month; VALUE with the same volumes: $25.00 + 40 GB of
    # storage. It goes ALWAYS_ON tonight (189 billable hours), so next month is monthly either way.
    value_80_50 = (Decimal("25.00") + 40 * STORAGE_PER_GB_MONTH).quantize(Decimal("0.01"))
    # PERFORMANCE 175/100 GB: $56.00 + 95 GB of storage (to the cent); POWER 175/100 GB: $80.00.
    performance_175_100 = (Decimal("56.00") + 95 * STORAGE_PER_GB_MONTH).quantize(Decimal("0.01"))
    assert {name: tuple(report[name][c] for c in COLUMNS) for name in FLEET} == {
        "oversized": ("VALUE", str(Decimal("35.00") - value_80_50), "12", "22"),
        "undersized": ("POWER", str(performance_175_100 - Decimal("80.00")), "88", "91"),
        "well_sized": ("", "", "45", "60"),
        "smallest": ("", "", "12", "22"),
        "seldom": ("", "", "", ""),
        "agent": ("POWERPRO", report["agent"]["rightsize_saving_next_month"], "88", "91"),
    }
    assert Decimal(report["agent"]["rightsize_saving_next_month"]) < 0  # a larger type costs more
    assert report["oversized"]["rightsize_note"] == ("p95 CPU 12%, memory 22% in 168 in-use hours")
    assert report["undersized"]["rightsize_note"] == ("median CPU 88%, memory 91% in 168 in-use hours")
    assert report["well_sized"]["rightsize_note"] == ""
    assert report["smallest"]["rightsize_note"].endswith(
        "; no smaller type: VALUE is the smallest general purpose type"
    )
    assert report["seldom"]["rightsize_note"] == "8 in-use hours (40 needed)"
    assert report["agent"]["rightsize_note"].startswith("median CPU 88%, memory 91% in 717 running hours")
    # report only: the one modification of the run is the billing one
    for name in FLEET:
        changed = [
            m for m in simulator.modifications(ACCOUNT, REGION, made.ids[name]) if "ComputeTypeName" in m
        ]
        assert changed == [], name
    # one batch: its UserConnected, then one call for the load of the 5 WorkSpaces read
    hours = 29 * 24 + 21
    assert batch_size(hours) >= len(FLEET) and load_per_call(hours) >= len(FLEET)
    assert simulator.CALLS[("cloudwatch", "GetMetricData")] == 2


def test_on_any_other_day_no_load_is_read_and_the_columns_stay_empty(aws, make_fleet, deploy):
    made = make_fleet({"oversized": FLEET["oversized"]}, MID_MONTH)
    stack = deploy(DryRun="true")
    simulator.CALLS.clear()

    output, _ = run_daily(stack.state_machine, MID_MONTH)

    (row,) = read_report(aws["s3"], output)[0]
    assert row["workspace_id"] == made.ids["oversized"]
    assert [row[c] for c in (*COLUMNS, "rightsize_note")] == ["", "", "", "", ""]
    assert simulator.CALLS[("cloudwatch", "GetMetricData")] == 1  # UserConnected only


def _batch_of(names: dict[str, dict], now: datetime):
    """The review's inputs for WorkSpaces seeded in the simulator (as DescribeWorkspaces gives them)."""
    workspaces, rows = [], []
    for name, spec in names.items():
        workspace_id = f"ws-{name}"
        fleet.seed_usage(ACCOUNT, REGION, workspace_id, spec["profile"], spec["mode"], now)
        fleet.seed_load(ACCOUNT, REGION, workspace_id, spec["profile"], spec["mode"], spec["load"], now)
        ws = Workspace(
            workspace_id, "d-1", name, "AVAILABLE", spec["mode"], spec["compute"], role=spec.get("role", "")
        )
        workspaces.append(ws)
        rows.append(
            ReportRow.error(Target(ACCOUNT, REGION), workspace_id, "d-1", "", "", True, now.isoformat())
        )
    return workspaces, rows, Batch("run", now.date(), now, now, {})


def test_a_standby_workspace_is_not_judged_and_an_unreadable_load_is_named_in_its_row(aws):
    specs = {
        "standby": {
            "mode": "AUTO_STOP",
            "compute": "STANDARD",
            "profile": "office",
            "load": "light",
            "role": "STANDBY",
        },
        "person": {"mode": "AUTO_STOP", "compute": "STANDARD", "profile": "office", "load": "light"},
    }
    workspaces, rows, batch = _batch_of(specs, LAST_DAY)
    metrics = UsageMetrics(aws["cloudwatch"])
    usage = metrics.hourly_connected([ws.workspace_id for ws in workspaces], evaluation_window(LAST_DAY))
    review = RightsizingReview(metrics, None, Target(ACCOUNT, REGION))

    found = {r.workspace_id: r for r in review.review(rows, workspaces, usage, batch)}
    assert (found["ws-standby"].rightsize_to, found["ws-standby"].rightsize_note) == ("", STANDBY_NOTE)
    assert found["ws-standby"].cpu_p95 is None
    assert found["ws-person"].rightsize_to == "VALUE"
    assert found["ws-person"].rightsize_note.endswith("; no dollars: no price list")
    assert review.metrics() == {"RightsizingDown": 1, "RightsizingUp": 0}

    with simulator.inject(simulator.Fault("cloudwatch", "GetMetricData", "AccessDenied")):
        found = {r.workspace_id: r for r in review.review(rows, workspaces, usage, batch)}
    assert len(found) == 2  # every row kept
    assert (
        found["ws-person"].rightsize_note
        == "CPUUsage/MemoryUsage unreadable (GetMetricData failed: AccessDenied)"
    )
    assert found["ws-person"].rightsize_to == ""


class _FailsAfterItsFirstRead(UsageMetrics):
    """The real read of the first WorkSpace, then a fault outside any one WorkSpace (as a
    malformed GetMetricData response would raise)."""

    def hourly_load(self, workspace_ids, window):
        yield from super().hourly_load(workspace_ids[:1], window)
        raise ValueError("Timestamps and Values of unequal length")


class _OneBadSeries(UsageMetrics):
    """The real reads, with one WorkSpace's CPU series made of values that are not numbers."""

    def hourly_load(self, workspace_ids, window):
        for loads in super().hourly_load(workspace_ids, window):
            if isinstance(bad := loads.get("ws-first"), HourlyLoad):
                loads["ws-first"] = HourlyLoad(dict.fromkeys(bad.cpu, "n/a"), bad.memory)
            yield loads


LIGHT_PAIR = {
    "first": {"mode": "AUTO_STOP", "compute": "STANDARD", "profile": "office", "load": "light"},
    "second": {"mode": "AUTO_STOP", "compute": "STANDARD", "profile": "office", "load": "light"},
}


def _reviewed(metrics: UsageMetrics) -> tuple[RightsizingReview, dict[str, ReportRow]]:
    """LIGHT_PAIR's month-end review read through `metrics`, and its rows by WorkSpace."""
    workspaces, rows, batch = _batch_of(LIGHT_PAIR, LAST_DAY)
    usage = metrics.hourly_connected([ws.workspace_id for ws in workspaces], evaluation_window(LAST_DAY))
    review = RightsizingReview(metrics, None, Target(ACCOUNT, REGION))
    return review, {r.workspace_id: r for r in review.review(rows, workspaces, usage, batch)}


def test_a_fault_while_reading_keeps_what_was_judged_before_it_and_names_the_rest(aws):
    _, found = _reviewed(_FailsAfterItsFirstRead(aws["cloudwatch"]))

    assert found["ws-first"].rightsize_to == "VALUE"  # judged before the fault: kept
    assert (found["ws-second"].rightsize_to, found["ws-second"].rightsize_note) == (
        "",
        "right-sizing failed: internal error (ValueError)",
    )


def test_one_workspace_whose_load_cannot_be_judged_does_not_stop_the_others(aws):
    review, found = _reviewed(_OneBadSeries(aws["cloudwatch"]))

    assert found["ws-first"].rightsize_note.startswith("right-sizing failed: internal error (")
    assert (found["ws-first"].rightsize_to, found["ws-first"].cpu_p95) == ("", None)
    assert found["ws-second"].rightsize_to == "VALUE"
    assert review.metrics() == {"RightsizingDown": 1, "RightsizingUp": 0}
