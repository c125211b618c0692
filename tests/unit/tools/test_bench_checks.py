"""The benchmark's targets are checks that can fail: a run over budget is reported as such."""

from tools.bench import check


def figures(**changes):
    base = {
        "size": 1000,
        "directories": 2,
        "reported": 1000,
        "failed": [],
        "opted_out": 20,
        "unused_looked_up": 170,
        "actions": {"to_always_on": 200, "to_auto_stop": 50, "none": 700, "skipped": 50, "error": 0},
        "calls": {
            "workspaces:DescribeWorkspaces": 40,
            "workspaces:DescribeWorkspaceDirectories": 1,
            "resource-groups-tagging-api:GetResources": 5,
            "workspaces:ModifyWorkspaceProperties": 250,
            "workspaces:DescribeWorkspacesConnectionStatus": 10,
            "cloudwatch:GetMetricData": 8,
            "s3:PutObject": 10,
            "dynamodb:BatchGetItem": 16,
            "dynamodb:PutItem": 251,
            "dynamodb:UpdateItem": 250,
            "dynamodb:DeleteItem": 1,
        },
        "invocations": {"OptimizeDirectoryFunctionArn": 2},
        "cpu_seconds": 5.0,
        "decision_cpu_ms_per_workspace": 0.2,
        "peak_rss_mb": 200.0,
        "planned_resets": 0,
        "last_reset_at": "2026-11-30T12:06:44+00:00",
    }
    return {**base, **changes}


def test_a_run_within_every_target_passes():
    result = check(figures())
    assert result["checks_passed"], result["checks"]
    assert result["workspaces_calls"] == 301
    assert result["shortest_wall_seconds"] == 301 / 2


def test_a_call_per_workspace_fails_the_workspaces_target():
    calls = {**figures()["calls"], "workspaces:DescribeWorkspaces": 1000}
    result = check(figures(calls=calls))
    assert not result["checks"]["WorkSpaces calls within target"]
    assert not result["checks_passed"]


def test_missing_rows_memory_and_slow_decisions_fail():
    result = check(figures(reported=999, peak_rss_mb=600.0, decision_cpu_ms_per_workspace=1.5))
    assert not result["checks"]["every WorkSpace reported once"]
    assert not result["checks"]["peak memory under 512 MB"]
    assert not result["checks"]["decision work under 1 ms per WorkSpace"]


def test_fifty_thousand_must_go_through_continuation():
    result = check(
        figures(
            size=50_000, reported=50_000, directories=10, invocations={"OptimizeDirectoryFunctionArn": 10}
        )
    )
    assert not result["checks"]["completed through continuation"]


def test_a_month_end_reset_after_midnight_fails_the_deadline():
    result = check(figures(last_reset_at="2026-12-01T00:00:01+00:00"))
    assert not result["checks"]["every month-end reset made before midnight"]
    assert not result["checks_passed"]


def test_a_deadline_fleet_whose_resets_were_not_all_made_fails():
    result = check(figures(planned_resets=51))
    assert not result["checks"]["the fleet's month-end resets were all made"]


def test_ledger_calls_per_workspace_fail_the_dynamodb_target():
    calls = {**figures()["calls"], "dynamodb:GetItem": 1000}
    result = check(figures(calls=calls))
    assert not result["checks"][
        "DynamoDB: 2 per conversion, 2 per 100 WorkSpaces of a batch (ledger, logins), 2 per run"
    ]


def test_connection_status_per_workspace_fails_the_unused_check_target():
    calls = {**figures()["calls"], "workspaces:DescribeWorkspacesConnectionStatus": 170}
    result = check(figures(calls=calls))
    assert not result["checks"][
        "unused check: connection status 25 per call, only for WorkSpaces with no connection this month"
    ]
    assert not result["checks"]["WorkSpaces calls within target"]


def test_user_map_writes_per_workspace_fail_their_target_and_not_the_ledgers():
    calls = {**figures()["calls"], "dynamodb:BatchWriteItem": 1000}
    result = check(figures(calls=calls))
    assert not result["checks"]["the login function's user map: 1 DynamoDB batch per page listed"]
    assert result["checks"][
        "DynamoDB: 2 per conversion, 2 per 100 WorkSpaces of a batch (ledger, logins), 2 per run"
    ]
    calls = {**figures()["calls"], "dynamodb:BatchWriteItem": 40}
    assert check(figures(calls=calls))["checks_passed"]


def test_tags_read_per_workspace_fail_the_tag_targets():
    calls = {
        **figures()["calls"],
        "workspaces:DescribeTags": 250,
        "resource-groups-tagging-api:GetResources": 250,
    }
    result = check(figures(calls=calls))
    assert not result["checks"]["no per-WorkSpace DescribeTags"]
    assert not result["checks"]["tagging API: 1 call per 100 WorkSpaces of a batch"]
    assert not result["checks"]["WorkSpaces calls within target"]


def test_price_lookups_per_batch_fail_the_price_list_target():
    assert check(figures(calls={**figures()["calls"], "pricing:GetProducts": 2}))["checks_passed"]
    result = check(figures(calls={**figures()["calls"], "pricing:GetProducts": 16}))
    assert not result["checks"]["Price List: a handful of calls per run, whatever the fleet's size"]


def test_month_end_right_sizing_reads_fit_their_own_share_of_the_cloudwatch_target():
    # 1,000 WorkSpaces in 2 directories at 708 hours: 8 batches of 125; UserConnected 8 calls
    # (+ 1 a batch), history 1 a batch, and 2 calls of CPUUsage and MemoryUsage per batch (71
    # WorkSpaces a call): 8 + 16 + 16
    result = check(figures(calls={**figures()["calls"], "cloudwatch:GetMetricData": 32}))
    assert result["rightsizing_calls_target"] == 16
    assert result["cloudwatch_calls_target"] == 40
    assert result["checks"]["CloudWatch calls within target"]
    # one call per WorkSpace for its load would be far over
    over = check(figures(calls={**figures()["calls"], "cloudwatch:GetMetricData": 16 + 1000}))
    assert not over["checks"]["CloudWatch calls within target"]
