"""The simulator's WorkSpaces extensions behave as the API documents, so code under test cannot
tell them from AWS."""

from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from tests.conftest import ACCOUNT, REGION
from tests.support import fleet, simulator


@pytest.fixture
def workspaces(aws):
    directory_id = fleet.create_directory(aws, "corp")
    ids = fleet.create_workspaces(
        aws,
        directory_id,
        [{"user": f"u{i}", "compute_type": "VALUE", "running_mode": "AUTO_STOP"} for i in range(4)],
    )
    return aws["workspaces"], directory_id, ids


def test_describe_workspaces_refuses_a_limit_above_25(workspaces):
    client, directory_id, _ = workspaces
    with pytest.raises(ClientError, match="Limit must be between 1 and 25"):
        client.describe_workspaces(DirectoryId=directory_id, Limit=26)


def test_describe_workspaces_pages_with_limit_and_next_token(workspaces):
    client, directory_id, ids = workspaces
    first = client.describe_workspaces(DirectoryId=directory_id, Limit=3)
    second = client.describe_workspaces(DirectoryId=directory_id, Limit=3, NextToken=first["NextToken"])
    assert len(first["Workspaces"]) == 3 and "NextToken" not in second
    assert sorted(w["WorkspaceId"] for w in first["Workspaces"] + second["Workspaces"]) == sorted(ids)


def test_reboot_reports_failed_requests_for_states_that_do_not_allow_it(workspaces):
    client, _, ids = workspaces
    simulator.set_state(ACCOUNT, REGION, ids[1], "STOPPED")
    response = client.reboot_workspaces(RebootWorkspaceRequests=[{"WorkspaceId": i} for i in ids[:2]])
    assert [(f["WorkspaceId"], f["ErrorCode"]) for f in response["FailedRequests"]] == [
        (ids[1], "InvalidResourceState.WorkspaceState")
    ]
    assert simulator.workspace(ACCOUNT, REGION, ids[0]).state == "REBOOTING"


def test_rebuild_takes_exactly_one_workspace(workspaces):
    client, _, ids = workspaces
    with pytest.raises(ClientError, match="exactly one"):
        client.rebuild_workspaces(RebuildWorkspaceRequests=[{"WorkspaceId": i} for i in ids[:2]])
    simulator.set_state(ACCOUNT, REGION, ids[0], "UNHEALTHY")
    assert (
        client.rebuild_workspaces(RebuildWorkspaceRequests=[{"WorkspaceId": ids[0]}])["FailedRequests"] == []
    )
    assert simulator.workspace(ACCOUNT, REGION, ids[0]).state == "REBUILDING"


def test_start_and_stop_follow_states_and_running_modes(workspaces):
    client, _, ids = workspaces
    assert client.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": ids[0]}])["FailedRequests"] == []
    assert simulator.workspace(ACCOUNT, REGION, ids[0]).state == "STOPPING"
    client.modify_workspace_properties(WorkspaceId=ids[1], WorkspaceProperties={"RunningMode": "ALWAYS_ON"})
    failed = client.stop_workspaces(StopWorkspaceRequests=[{"WorkspaceId": ids[1]}])["FailedRequests"]
    assert failed[0]["ErrorCode"] == "UnsupportedOperation.RunningMode"
    failed = client.start_workspaces(StartWorkspaceRequests=[{"WorkspaceId": ids[2]}])["FailedRequests"]
    assert failed[0]["ErrorCode"] == "InvalidResourceState.WorkspaceState"


def test_modify_refuses_non_modifiable_states_and_modifications_in_flight(workspaces):
    client, _, ids = workspaces
    simulator.set_state(ACCOUNT, REGION, ids[0], "MAINTENANCE")
    with pytest.raises(ClientError) as raised:
        client.modify_workspace_properties(
            WorkspaceId=ids[0], WorkspaceProperties={"RunningMode": "ALWAYS_ON"}
        )
    assert raised.value.response["Error"]["Code"] == "InvalidResourceStateException"
    simulator.workspace(ACCOUNT, REGION, ids[1]).modification_states = [
        {"Resource": "COMPUTE_TYPE", "State": "UPDATE_IN_PROGRESS"}
    ]
    with pytest.raises(ClientError) as raised:
        client.modify_workspace_properties(
            WorkspaceId=ids[1], WorkspaceProperties={"RunningMode": "ALWAYS_ON"}
        )
    assert raised.value.response["Error"]["Code"] == "OperationInProgressException"


def test_connection_status_and_snapshots(workspaces):
    client, _, ids = workspaces
    seen = datetime(2026, 11, 30, 8, tzinfo=UTC)
    simulator.set_connection(ACCOUNT, REGION, ids[0], "CONNECTED", seen)
    simulator.add_snapshot(ACCOUNT, REGION, ids[0], "rebuild", seen - timedelta(hours=3))
    status = client.describe_workspaces_connection_status(WorkspaceIds=[ids[0]])["WorkspacesConnectionStatus"]
    assert (status[0]["ConnectionState"], status[0]["LastKnownUserConnectionTimestamp"]) == (
        "CONNECTED",
        seen,
    )
    snapshots = client.describe_workspace_snapshots(WorkspaceId=ids[0])
    assert snapshots["RebuildSnapshots"] == [{"SnapshotTime": seen - timedelta(hours=3)}]
    assert snapshots["RestoreSnapshots"] == []


def test_tags_overwrite_and_delete(workspaces):
    client, _, ids = workspaces
    client.create_tags(ResourceId=ids[0], Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "1"}])
    client.create_tags(ResourceId=ids[0], Tags=[{"Key": "a", "Value": "2"}])
    client.delete_tags(ResourceId=ids[0], TagKeys=["b"])
    assert client.describe_tags(ResourceId=ids[0])["TagList"] == [{"Key": "a", "Value": "2"}]


def test_get_metric_data_paginates_by_max_datapoints(aws):
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for name in ("ws-a", "ws-b"):
        simulator.put_hourly_series(
            ACCOUNT,
            REGION,
            "AWS/WorkSpaces",
            "UserConnected",
            [{"Name": "WorkspaceId", "Value": name}],
            [(start + timedelta(hours=h), 1.0) for h in range(10)],
        )
    queries = [
        {
            "Id": f"q{i}",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/WorkSpaces",
                    "MetricName": "UserConnected",
                    "Dimensions": [{"Name": "WorkspaceId", "Value": name}],
                },
                "Period": 3600,
                "Stat": "Maximum",
            },
        }
        for i, name in enumerate(("ws-a", "ws-b"))
    ]
    request = {
        "MetricDataQueries": queries,
        "StartTime": start,
        "EndTime": start + timedelta(days=1),
        "ScanBy": "TimestampAscending",
        "MaxDatapoints": 15,
    }
    first = aws["cloudwatch"].get_metric_data(**request)
    second = aws["cloudwatch"].get_metric_data(**request, NextToken=first["NextToken"])
    assert [(r["Id"], len(r["Values"]), r["StatusCode"]) for r in first["MetricDataResults"]] == [
        ("q0", 10, "Complete"),
        ("q1", 5, "PartialData"),
    ]
    assert [(r["Id"], len(r["Values"])) for r in second["MetricDataResults"]] == [("q1", 5)]
    assert "NextToken" not in second


def test_terminate_refuses_suspended_workspaces_and_is_asynchronous(workspaces):
    client, directory_id, ids = workspaces
    simulator.set_state(ACCOUNT, REGION, ids[1], "SUSPENDED")
    simulator.set_state(ACCOUNT, REGION, ids[2], "ERROR")  # any other state may be terminated
    response = client.terminate_workspaces(TerminateWorkspaceRequests=[{"WorkspaceId": i} for i in ids[:3]])
    assert [(f["WorkspaceId"], f["ErrorCode"]) for f in response["FailedRequests"]] == [
        (ids[1], "InvalidResourceState.WorkspaceState")
    ]
    listed = {
        w["WorkspaceId"]: w["State"]
        for w in client.describe_workspaces(DirectoryId=directory_id)["Workspaces"]
    }
    assert (listed[ids[0]], listed[ids[2]]) == ("TERMINATING", "TERMINATING")
    assert simulator.actions(ACCOUNT, REGION, ids[0]) == ["TerminateWorkspaces"]
    assert sorted(simulator.finish_terminations(ACCOUNT, REGION)) == sorted([ids[0], ids[2]])
    remaining = client.describe_workspaces(DirectoryId=directory_id)["Workspaces"]
    assert sorted(w["WorkspaceId"] for w in remaining) == sorted([ids[1], ids[3]])


def test_terminate_stop_and_connection_status_take_at_most_25_workspaces(workspaces):
    client, _, ids = workspaces
    many = [{"WorkspaceId": ids[0]}] * 26
    with pytest.raises(ClientError, match="between 1 and 25"):
        client.terminate_workspaces(TerminateWorkspaceRequests=many)
    with pytest.raises(ClientError, match="between 1 and 25"):
        client.stop_workspaces(StopWorkspaceRequests=many)
    with pytest.raises(ClientError, match="between 1 and 25"):
        client.describe_workspaces_connection_status(WorkspaceIds=[ids[0]] * 26)
    unknown = client.terminate_workspaces(TerminateWorkspaceRequests=[{"WorkspaceId": "ws-00000000"}])
    assert unknown["FailedRequests"][0]["ErrorCode"] == "ResourceNotFound.Workspace"


def test_a_series_shared_by_many_workspaces_is_not_changed_by_adding_to_one(aws):
    times = [datetime(2026, 11, 2, h, tzinfo=UTC) for h in range(3)]
    series = (times, [0.0, 0.0, 0.0])
    dims = [[{"Name": "WorkspaceId", "Value": f"ws-{n}"}] for n in range(2)]
    for d in dims:
        simulator.share_hourly_series(ACCOUNT, REGION, "AWS/WorkSpaces", "UserConnected", d, series)
    simulator.put_hourly_series(
        ACCOUNT,
        REGION,
        "AWS/WorkSpaces",
        "UserConnected",
        dims[0],
        [(datetime(2026, 10, 1, tzinfo=UTC), 1.0)],
    )
    index = simulator.metric_index(ACCOUNT, REGION)
    assert len(index.series[simulator.metric_key("AWS/WorkSpaces", "UserConnected", dims[0])][0]) == 4
    assert len(index.series[simulator.metric_key("AWS/WorkSpaces", "UserConnected", dims[1])][0]) == 3
    assert series == (times, [0.0, 0.0, 0.0])


OTHER_REGION = "us-west-2"
WINDOWS_2025 = "WINDOWS_SERVER_2025"


def test_a_standby_workspace_and_its_primary_each_name_the_other_with_its_current_state(aws, workspaces):
    client, directory_id, ids = workspaces
    simulator.set_state(ACCOUNT, REGION, ids[0], "STOPPED")
    other = fleet.clients_in(ACCOUNT, ACCOUNT, OTHER_REGION, ("ec2", "ds", "workspaces"))
    standby_directory = fleet.create_directory(other, "corp-standby")

    response = other["workspaces"].create_standby_workspaces(
        PrimaryRegion=REGION,
        StandbyWorkspaces=[
            {
                "PrimaryWorkspaceId": ids[0],
                "DirectoryId": standby_directory,
                "DataReplication": "PRIMARY_AS_SOURCE",
            },
            {"PrimaryWorkspaceId": "ws-000000000", "DirectoryId": standby_directory},
        ],
    )

    assert [f["ErrorCode"] for f in response["FailedStandbyRequests"]] == ["ResourceNotFound.Workspace"]
    (made,) = response["PendingStandbyRequests"]
    assert (made["UserName"], made["DirectoryId"]) == ("u0", standby_directory)
    standby = other["workspaces"].describe_workspaces(WorkspaceIds=[made["WorkspaceId"]])["Workspaces"][0]
    assert standby["RelatedWorkspaces"] == [
        {"WorkspaceId": ids[0], "Region": REGION, "Type": "PRIMARY", "State": "STOPPED"}
    ]
    assert standby["WorkspaceProperties"]["ComputeTypeName"] == "VALUE"  # the primary's bundle
    assert standby["DataReplicationSettings"]["DataReplication"] == "PRIMARY_AS_SOURCE"
    primary = client.describe_workspaces(WorkspaceIds=[ids[0]])["Workspaces"][0]
    assert primary["RelatedWorkspaces"] == [
        {"WorkspaceId": made["WorkspaceId"], "Region": OTHER_REGION, "Type": "STANDBY", "State": "AVAILABLE"}
    ]
    assert [p["StandbyWorkspaceId"] for p in primary["StandbyWorkspacesProperties"]] == [made["WorkspaceId"]]
    assert "RelatedWorkspaces" not in client.describe_workspaces(WorkspaceIds=[ids[1]])["Workspaces"][0]
    with pytest.raises(ClientError, match="in another Region"):
        same_region = [{"PrimaryWorkspaceId": ids[1], "DirectoryId": directory_id}]
        client.create_standby_workspaces(PrimaryRegion=REGION, StandbyWorkspaces=same_region)


def test_a_workspace_made_with_a_persona_configuration_is_agentic_and_others_are_personal(aws):
    directory_id = fleet.create_directory(aws, "corp")
    persona = fleet.create_persona(aws)
    agent = {"user": "agent", "compute_type": "POWER", "running_mode": "AUTO_STOP", "os": WINDOWS_2025}
    (agentic,) = fleet.create_workspaces(aws, directory_id, [{**agent, "persona": persona}])
    (personal,) = fleet.create_workspaces(aws, directory_id, [{**agent, "user": "person"}])
    categories = {
        w["WorkspaceId"]: w["WorkspaceCategory"]
        for w in aws["workspaces"].describe_workspaces(DirectoryId=directory_id)["Workspaces"]
    }
    assert categories == {agentic: "AGENTIC", personal: "PERSONAL"}

    refused = aws["workspaces"].create_workspaces(
        Workspaces=[
            {
                "DirectoryId": directory_id,
                "UserName": "unknown-persona",
                "BundleId": "wsb-simulated",
                "AgenticPersonaConfigurationId": "wsapc-000000000000",
            },
            {
                "DirectoryId": directory_id,
                "UserName": "standard-bundle",
                "BundleId": "wsb-simulated",
                "AgenticPersonaConfigurationId": persona,
                "WorkspaceProperties": {"ComputeTypeName": "STANDARD", "OperatingSystemName": WINDOWS_2025},
            },
        ]
    )
    assert [f["ErrorCode"] for f in refused["FailedRequests"]] == [
        "AgenticWorkspaceInvalidPersona",
        "AgenticWorkspaceUnsupportedBundle",
    ]
    assert refused["PendingRequests"] == []
    with pytest.raises(ClientError, match="ConflictException"):
        fleet.create_persona(aws)  # the same name again
