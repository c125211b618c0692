import dataclasses
import json
from decimal import Decimal

import pytest

from ws_autopilot.core.errors import InvalidWorkspaceRecord
from ws_autopilot.core.models import Target, Workspace
from ws_autopilot.cost.models import Action, ReportRow
from ws_autopilot.cost.report_store import part_record

ITEM = {
    "WorkspaceId": "ws-abc123def",
    "DirectoryId": "d-0123456789",
    "UserName": "alice",
    "State": "AVAILABLE",
    "WorkspaceProperties": {
        "RunningMode": "AUTO_STOP",
        "RunningModeAutoStopTimeoutInMinutes": 120,
        "ComputeTypeName": "STANDARD",
    },
    "ModificationStates": [{"Resource": "COMPUTE_TYPE", "State": "UPDATE_IN_PROGRESS"}],
    "RelatedWorkspaces": [{"WorkspaceId": "ws-other", "Type": "PRIMARY"}],
}


def test_workspace_is_read_from_a_describe_workspaces_entry():
    ws = Workspace.from_api(ITEM)
    assert (ws.workspace_id, ws.running_mode, ws.compute_type, ws.auto_stop_timeout_minutes) == (
        "ws-abc123def",
        "AUTO_STOP",
        "STANDARD",
        120,
    )
    assert ws.modification_states == ("COMPUTE_TYPE",)
    assert (ws.role, ws.is_standby) == ("STANDBY", True)


STANDBY_ENTRY = {"WorkspaceId": "ws-primary1", "Region": "us-west-2", "Type": "PRIMARY", "State": "AVAILABLE"}
PRIMARY_ENTRY = {"WorkspaceId": "ws-standby1", "Region": "us-west-2", "Type": "STANDBY", "State": "STOPPED"}


@pytest.mark.parametrize(
    ("related", "role"),
    [
        ([STANDBY_ENTRY], "STANDBY"),  # it names its primary: it is the standby
        ([PRIMARY_ENTRY], "PRIMARY"),  # it names its standby: it is the primary
        ([], ""),
        (None, ""),
        ("not a list", ""),
        ([{"WorkspaceId": "ws-x"}], ""),  # no type: no role is guessed
    ],
)
def test_a_workspaces_role_is_read_from_the_type_of_its_related_workspace(related, role):
    item = {**ITEM, "RelatedWorkspaces": related}
    ws = Workspace.from_api(item)
    assert (ws.role, ws.is_standby) == (role, role == "STANDBY")


@pytest.mark.parametrize(
    ("category", "read", "personal"),
    [
        ("PERSONAL", "PERSONAL", True),
        ("AGENTIC", "AGENTIC", False),
        (None, "", True),  # the API does not say: a WorkSpace as before categories
        ("NEWKIND", "NEWKIND", False),  # a category the product has no rule for
    ],
)
def test_the_category_is_read_as_given_and_only_personal_or_none_counts_as_personal(category, read, personal):
    item = {**ITEM} if category is None else {**ITEM, "WorkspaceCategory": category}
    ws = Workspace.from_api(item)
    assert (ws.category, ws.is_personal) == (read, personal)


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        ({"WorkspaceId": None}, "WorkspaceId is missing"),
        ({"State": ""}, "State is missing"),
        ({"WorkspaceProperties": None}, "WorkspaceProperties is missing"),
        (
            {"WorkspaceProperties": {"RunningMode": "AUTO_STOP"}},
            "WorkspaceProperties.ComputeTypeName is missing",
        ),
        (
            {
                "WorkspaceProperties": {
                    "ComputeTypeName": "VALUE",
                    "RunningMode": "AUTO_STOP",
                    "RunningModeAutoStopTimeoutInMinutes": "sixty",
                }
            },
            "RunningModeAutoStopTimeoutInMinutes is not a positive integer",
        ),
    ],
)
def test_malformed_entries_name_the_missing_field(broken, message):
    with pytest.raises(InvalidWorkspaceRecord, match=message):
        Workspace.from_api({**ITEM, **broken})


def test_report_row_round_trips_through_its_record():
    row = ReportRow(
        "123456789012",
        "us-east-1",
        "ws-1",
        "d-1",
        'a,"b"',
        "VALUE",
        "AVAILABLE",
        "AUTO_STOP",
        "ALWAYS_ON",
        90,
        81,
        Action.TO_ALWAYS_ON,
        "billable 90 h > threshold 81 h",
        False,
        "",
        "2026-11-30T21:00:00+00:00",
    )
    assert ReportRow.from_record(row.to_record()) == row


def test_the_operating_system_and_volumes_are_read_when_describe_workspaces_gives_them():
    props = {**ITEM["WorkspaceProperties"], "OperatingSystemName": "WINDOWS_SERVER_2022"}
    ws = Workspace.from_api(
        {**ITEM, "WorkspaceProperties": {**props, "RootVolumeSizeGib": 80, "UserVolumeSizeGib": 50}}
    )
    assert (ws.operating_system, ws.root_volume_gib, ws.user_volume_gib) == ("WINDOWS_SERVER_2022", 80, 50)
    bare = Workspace.from_api(
        {**ITEM, "WorkspaceProperties": {**props, "RootVolumeSizeGib": "80", "UserVolumeSizeGib": 0}}
    )
    assert (bare.root_volume_gib, bare.user_volume_gib) == (None, None)
    assert Workspace.from_api(ITEM).operating_system == ""


def test_dollars_round_trip_exactly_through_a_report_part():
    row = ReportRow(
        "123456789012",
        "us-east-1",
        "ws-1",
        "d-1",
        "alice",
        "STANDARD",
        "AVAILABLE",
        "AUTO_STOP",
        "ALWAYS_ON",
        90,
        84,
        Action.TO_ALWAYS_ON,
        "billable 90 h > threshold 84 h",
        False,
        "",
        "2026-11-30T21:00:00+00:00",
        threshold_source="price_list",
        prices="us-east-1 STANDARD ...",
        month_cost=Decimal("36.75"),
        saving_this_month=Decimal("-0.10"),
        saving_next_month=Decimal("36.85"),
        price_always_on_monthly=Decimal("35.00"),
        price_auto_stop_monthly=Decimal("9.75"),
        price_auto_stop_hourly=Decimal("0.30"),
    )
    record = json.loads(json.dumps(part_record(row)))
    assert record["month_cost"] == "36.75"
    assert ReportRow.from_record(record) == row


def test_a_part_written_before_the_dollar_columns_reads_as_without_them():
    record = json.loads(
        json.dumps(
            part_record(ReportRow.error(Target("1" * 12, "us-east-1"), "ws-1", "d-1", "r", "E", False, "t"))
        )
    )
    for name in ("threshold_source", "prices", "month_cost", "saving_this_month", "saving_next_month"):
        record.pop(name)
    row = ReportRow.from_record(record)
    assert (row.threshold_source, row.prices, row.month_cost, row.saving_next_month) == ("", "", None, None)


def test_a_part_written_before_the_role_and_category_columns_reads_them_as_empty():
    row = dataclasses.replace(
        ReportRow.error(Target("1" * 12, "us-east-1"), "ws-1", "d-1", "r", "E", False, "t"),
        workspace_role="STANDBY",
        workspace_category="AGENTIC",
    )
    record = json.loads(json.dumps(part_record(row)))
    assert ReportRow.from_record(record) == row
    for name in ("workspace_role", "workspace_category"):
        record.pop(name)
    old = ReportRow.from_record(record)
    assert (old.workspace_role, old.workspace_category) == ("", "")
