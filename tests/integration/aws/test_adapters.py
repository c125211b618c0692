"""The adapters against the simulator through real boto3 clients."""

from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import ACCOUNT, REGION
from tests.support import fleet, simulator
from ws_autopilot.aws.fleet import WorkspacesFleet
from ws_autopilot.aws.tags import WorkspaceTags, workspace_arn
from ws_autopilot.aws.usage import UsageMetrics, batch_size
from ws_autopilot.core.calendar import evaluation_window
from ws_autopilot.core.models import HourlyUsage, MetricsUnavailable, RunningMode, TagsUnavailable, Target

NOW = datetime(2026, 12, 31, 21, 30, tzinfo=UTC)  # 741 hours into a 31-day month


def seeded(aws, count: int, mode: str = "ALWAYS_ON") -> tuple[str, list[str]]:
    directory_id = fleet.create_directory(aws, "corp")
    ids = fleet.create_workspaces(
        aws,
        directory_id,
        [{"user": f"u{i}", "compute_type": "VALUE", "running_mode": mode} for i in range(count)],
    )
    return directory_id, ids


def test_directory_is_listed_page_by_page_with_at_most_25_workspaces(aws):
    directory_id, ids = seeded(aws, 60)
    pages = list(WorkspacesFleet(aws["workspaces"]).pages(directory_id))
    assert [len(p.workspaces) for p in pages] == [25, 25, 10]
    assert sorted(ws.workspace_id for p in pages for ws in p.workspaces) == sorted(ids)
    assert pages[-1].next_token is None


def test_page_request_asks_for_25_and_passes_the_token():
    assert WorkspacesFleet.page_request("d-0123456789", "tok") == {
        "DirectoryId": "d-0123456789",
        "Limit": 25,
        "NextToken": "tok",
    }
    assert "NextToken" not in WorkspacesFleet.page_request("d-0123456789", None)


def test_a_month_of_hourly_usage_for_a_full_batch_is_read_across_paginated_responses(aws):
    _, ids = seeded(aws, 140)
    window = evaluation_window(NOW)
    for workspace_id in ids:
        fleet.seed_usage(ACCOUNT, REGION, workspace_id, "office", "ALWAYS_ON", NOW)
    calls_before = simulator.CALLS[("cloudwatch", "GetMetricData")]

    usage = UsageMetrics(aws["cloudwatch"]).hourly_connected(ids, window)

    assert window.hours * len(ids) > 100_800, "the batch must not fit one response"
    assert simulator.CALLS[("cloudwatch", "GetMetricData")] - calls_before == 2
    assert all(isinstance(u, HourlyUsage) and len(u.points) == window.hours for u in usage.values())


def test_batch_size_keeps_a_month_to_date_batch_within_one_response():
    assert batch_size(1) == 500
    assert batch_size(200) == 500
    assert batch_size(744) == 125
    assert all(batch_size(h) * h <= 100_800 for h in range(202, 745))


def test_workspace_without_datapoints_has_an_empty_series_not_an_error(aws):
    _, ids = seeded(aws, 2, mode="AUTO_STOP")
    usage = UsageMetrics(aws["cloudwatch"]).hourly_connected(ids, evaluation_window(NOW))
    assert usage == {i: HourlyUsage({}) for i in ids}


def test_empty_window_reads_nothing(aws):
    _, ids = seeded(aws, 1)
    calls_before = simulator.CALLS[("cloudwatch", "GetMetricData")]
    first_hour = evaluation_window(datetime(2026, 12, 1, 0, 10, tzinfo=UTC))
    assert UsageMetrics(aws["cloudwatch"]).hourly_connected(ids, first_hour) == {ids[0]: HourlyUsage({})}
    assert simulator.CALLS[("cloudwatch", "GetMetricData")] == calls_before


def test_usage_points_are_keyed_by_hour(aws):
    _, (workspace_id,) = seeded(aws, 1)
    start = evaluation_window(NOW).start
    simulator.put_hourly_series(
        ACCOUNT,
        REGION,
        "AWS/WorkSpaces",
        "UserConnected",
        [{"Name": "WorkspaceId", "Value": workspace_id}],
        [(start + timedelta(minutes=5), 0.0), (start + timedelta(minutes=35), 1.0)],
    )
    usage = UsageMetrics(aws["cloudwatch"]).hourly_connected([workspace_id], evaluation_window(NOW))
    assert usage[workspace_id] == HourlyUsage({start: 1.0})


def test_tags_and_running_mode_changes(aws):
    _, (workspace_id,) = seeded(aws, 1, mode="AUTO_STOP")
    adapter = WorkspacesFleet(aws["workspaces"])
    aws["workspaces"].create_tags(ResourceId=workspace_id, Tags=[{"Key": "Skip_Convert", "Value": "a"}])
    aws["workspaces"].create_tags(ResourceId=workspace_id, Tags=[{"Key": "Skip_Convert", "Value": "b"}])
    assert adapter.tags(workspace_id) == {"Skip_Convert": "b"}
    assert adapter.tags("ws-missing00") == TagsUnavailable("ResourceNotFoundException")

    assert adapter.set_running_mode(workspace_id, RunningMode.ALWAYS_ON, 120).ok
    assert (
        aws["workspaces"].describe_workspaces(WorkspaceIds=[workspace_id])["Workspaces"][0][
            "WorkspaceProperties"
        ]["RunningMode"]
        == "ALWAYS_ON"
    )
    assert adapter.set_running_mode(workspace_id, RunningMode.AUTO_STOP, 180).ok
    properties = aws["workspaces"].describe_workspaces(WorkspaceIds=[workspace_id])["Workspaces"][0][
        "WorkspaceProperties"
    ]
    assert (properties["RunningMode"], properties["RunningModeAutoStopTimeoutInMinutes"]) == (
        "AUTO_STOP",
        180,
    )
    simulator.set_state(ACCOUNT, REGION, workspace_id, "REBOOTING")
    refused = adapter.set_running_mode(workspace_id, RunningMode.AUTO_STOP, 60)
    assert (refused.ok, refused.error_code) == (False, "InvalidResourceStateException")


def test_metric_query_failures_are_per_workspace(aws):
    _, ids = seeded(aws, 3)
    with simulator.inject(simulator.Fault("cloudwatch", "GetMetricData", "AccessDenied")):
        usage = UsageMetrics(aws["cloudwatch"]).hourly_connected(ids, evaluation_window(NOW))
    assert usage == {i: MetricsUnavailable("GetMetricData failed: AccessDenied") for i in ids}


def test_member_accounts_are_discovered_under_roots_and_nested_ous(aws):
    from ws_autopilot.aws.organization import OrganizationAccounts

    org = boto3.client("organizations", region_name="us-east-1")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    europe = org.create_organizational_unit(ParentId=root, Name="europe")["OrganizationalUnit"]["Id"]
    paris = org.create_organizational_unit(ParentId=europe, Name="paris")["OrganizationalUnit"]["Id"]

    def account(name, parent):
        created = org.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]
        org.move_account(AccountId=created["AccountId"], SourceParentId=root, DestinationParentId=parent)
        return created["AccountId"]

    london, lyon = account("london", europe), account("lyon", paris)
    account("elsewhere", root)
    assert sorted(OrganizationAccounts(org).active_accounts([europe])) == sorted([london, lyon])


# ----------------------------------------------------------------------------------------------
# Tags from the Resource Groups Tagging API
# ----------------------------------------------------------------------------------------------
TARGET = Target(ACCOUNT, REGION)


def tagged(aws, count: int) -> list[str]:
    _, ids = seeded(aws, count, mode="AUTO_STOP")
    for n, workspace_id in enumerate(ids):
        if n % 3 == 0:
            aws["workspaces"].create_tags(
                ResourceId=workspace_id, Tags=[{"Key": " skip_convert ", "Value": ""}]
            )
        elif n % 3 == 1:
            aws["workspaces"].create_tags(ResourceId=workspace_id, Tags=[{"Key": "Team", "Value": f"t{n}"}])
    return ids


def test_the_tagging_api_serves_workspace_tags_in_its_documented_shape(aws):
    ids = tagged(aws, 3)
    tagging = boto3.client("resourcegroupstaggingapi", region_name=REGION)
    listed = tagging.get_resources(ResourceTypeFilters=["workspaces:workspace"], ResourcesPerPage=100)
    by_arn = {m["ResourceARN"]: m["Tags"] for m in listed["ResourceTagMappingList"]}
    assert by_arn == {
        workspace_arn(TARGET, ids[0]): [{"Key": " skip_convert ", "Value": ""}],
        workspace_arn(TARGET, ids[1]): [{"Key": "Team", "Value": "t1"}],
    }, "untagged WorkSpaces are not returned"
    assert workspace_arn(TARGET, ids[0]) == f"arn:aws:workspaces:{REGION}:{ACCOUNT}:workspace/{ids[0]}"
    only = tagging.get_resources(ResourceARNList=[workspace_arn(TARGET, ids[1])])["ResourceTagMappingList"]
    assert [m["ResourceARN"] for m in only] == [workspace_arn(TARGET, ids[1])]


@pytest.mark.parametrize(
    "request_",
    [
        {
            "ResourceARNList": [
                f"arn:aws:workspaces:{REGION}:{ACCOUNT}:workspace/ws-{i:09d}" for i in range(101)
            ]
        },
        {
            "ResourceARNList": [f"arn:aws:workspaces:{REGION}:{ACCOUNT}:workspace/ws-1"],
            "ResourcesPerPage": 50,
        },
        {
            "ResourceARNList": [f"arn:aws:workspaces:{REGION}:{ACCOUNT}:workspace/ws-1"],
            "ResourceTypeFilters": ["workspaces:workspace"],
        },
    ],
)
def test_the_tagging_api_refuses_what_its_reference_refuses(aws, request_):
    tagging = boto3.client("resourcegroupstaggingapi", region_name=REGION)
    with pytest.raises(ClientError, match="InvalidParameterException"):
        tagging.get_resources(**request_)


def test_tags_are_read_100_workspaces_per_call_outside_the_workspaces_api(aws):
    ids = tagged(aws, 130)
    simulator.CALLS.clear()
    reader = WorkspaceTags(
        TARGET, WorkspacesFleet(aws["workspaces"]), boto3.client("resourcegroupstaggingapi")
    )

    tags = reader.tags(ids)

    assert simulator.CALLS[("resourcegroupstaggingapi", "GetResources")] == 2
    assert simulator.CALLS[("workspaces", "DescribeTags")] == 0
    assert tags[ids[0]] == {" skip_convert ": ""}
    assert tags[ids[1]] == {"Team": "t1"}
    assert tags[ids[2]] == {}
    # every WorkSpace of each call is answered, the 100th of the first and the last of the second too
    expected = {ws: ({" skip_convert ": ""}, {"Team": f"t{n}"}, {})[n % 3] for n, ws in enumerate(ids)}
    assert tags == expected
    assert not reader.fell_back


def test_a_denied_tagging_api_falls_back_to_describe_tags(aws):
    ids = tagged(aws, 4)
    simulator.CALLS.clear()
    reader = WorkspaceTags(
        TARGET, WorkspacesFleet(aws["workspaces"]), boto3.client("resourcegroupstaggingapi")
    )

    with simulator.inject(
        simulator.Fault("resourcegroupstaggingapi", "GetResources", "AccessDeniedException")
    ):
        tags = reader.tags(ids)
        again = reader.tags(ids[:1])

    assert reader.fell_back
    assert tags == {
        ids[0]: {" skip_convert ": ""},
        ids[1]: {"Team": "t1"},
        ids[2]: {},
        ids[3]: {" skip_convert ": ""},
    }
    assert again == {ids[0]: {" skip_convert ": ""}}
    assert simulator.CALLS[("resourcegroupstaggingapi", "GetResources")] == 1, "not asked again once denied"
    assert simulator.CALLS[("workspaces", "DescribeTags")] == 5


def test_an_outage_of_the_tagging_api_makes_tags_unreadable_not_empty(aws):
    ids = tagged(aws, 2)
    reader = WorkspaceTags(
        TARGET, WorkspacesFleet(aws["workspaces"]), boto3.client("resourcegroupstaggingapi")
    )
    with simulator.inject(
        simulator.Fault("resourcegroupstaggingapi", "GetResources", "InvalidParameterException")
    ):
        tags = reader.tags(ids)
    assert tags == {i: TagsUnavailable("InvalidParameterException") for i in ids}
    assert not reader.fell_back


def test_tags_in_bulk_never_fall_back_to_one_workspaces_call_each(aws):
    ids = tagged(aws, 4)
    simulator.CALLS.clear()
    reader = WorkspaceTags(
        TARGET, WorkspacesFleet(aws["workspaces"]), boto3.client("resourcegroupstaggingapi")
    )
    assert reader.bulk(ids) == {
        ids[0]: {" skip_convert ": ""},
        ids[1]: {"Team": "t1"},
        ids[2]: {},
        ids[3]: {" skip_convert ": ""},
    }
    with simulator.inject(
        simulator.Fault("resourcegroupstaggingapi", "GetResources", "AccessDeniedException")
    ):
        assert reader.bulk(ids) is None
    assert reader.fell_back and reader.bulk(ids) is None
    assert simulator.CALLS[("workspaces", "DescribeTags")] == 0
    assert reader.tags(ids[:1]) == {ids[0]: {" skip_convert ": ""}}  # the one-by-one fallback
