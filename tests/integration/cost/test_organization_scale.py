"""A run over a whole organization on the Step Functions engine: the parent execution's history
and payloads stay the same size however many account-region pairs the run covers (Step Functions
allows 25,000 history events per execution and 256 KiB per state's input or output)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest

from tests.conftest import REGION
from tests.integration.conftest import read_report
from tests.support import step_functions
from tests.template.test_iam_coverage import ENGINE_OPERATIONS
from tools.local_run import execution_history, run_daily

NOW = datetime(2026, 11, 30, 21, 5, tzinfo=UTC)
# 125 accounts (the management account and 124 members) in 16 regions: 2,000 account-region pairs.
MEMBERS = 124
REGIONS = sorted(boto3.session.Session().get_available_regions("workspaces"))[:16]
HISTORY_LIMIT = 25_000
PAYLOAD_LIMIT = 256 * 1024

pytestmark = pytest.mark.slow  # about 45 s


def organization(size: int) -> str:
    """An organization of `size` member accounts under its root (the deployment account manages
    it); the root's id."""
    organizations = boto3.client("organizations", region_name=REGION)
    organizations.create_organization(FeatureSet="ALL")
    for n in range(size):
        organizations.create_account(AccountName=f"member-{n:04d}", Email=f"member-{n:04d}@example.com")
    return str(organizations.list_roots()["Roots"][0]["Id"])


def payload_sizes(history: list[dict]) -> list[int]:
    """The size of every state's input and output (and the execution's) in a history."""
    sizes = []
    for event in history:
        for key, details in event.items():
            if key.endswith("EventDetails") and isinstance(details, dict):
                sizes += [
                    len(details[f].encode()) for f in ("input", "output") if isinstance(details.get(f), str)
                ]
    return sizes


def test_a_run_over_2000_account_regions_keeps_the_parent_history_and_payloads_bounded(
    aws, make_fleet, deploy
):
    fleet = make_fleet(
        {
            "busy": {"mode": "AUTO_STOP", "profile": "office"},
            "light": {"mode": "ALWAYS_ON", "profile": "part_time"},
        },
        NOW,
    )
    root = organization(MEMBERS)
    stack = deploy(DryRun="false", OrganizationParentIds=root, Regions=",".join(REGIONS))
    step_functions.ENGINE_CALLS.clear()

    output, execution = run_daily(stack.state_machine, NOW)

    pairs = (MEMBERS + 1) * len(REGIONS)
    rows, summary = read_report(aws["s3"], output)
    assert len(summary["targets"]) == pairs and summary["failed"] == []
    assert {r["workspace_id"]: r["action"] for r in rows} == {
        fleet.ids["busy"]: "to_always_on",
        fleet.ids["light"]: "to_auto_stop",
    }
    sfn = aws["stepfunctions"]
    target_machine = stack.machines["OptimizeTargetStateMachine"].arn
    children = [
        e["executionArn"]
        for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=target_machine)
        for e in page["executions"]
    ]
    assert len(children) == pairs, "one execution of its own per account and region"
    largest_child = max(len(execution_history(sfn, arn)) for arn in children[:50])
    sizes = payload_sizes(execution.history)
    print(
        f"\n{pairs} account-region pairs: parent history {len(execution.history)} events "
        f"(limit {HISTORY_LIMIT:,}), largest payload {max(sizes):,} bytes (limit {PAYLOAD_LIMIT:,}); "
        f"a child execution's history: up to {largest_child} events; "
        f"Lambda invocations {dict(execution.invocations)}"
    )
    assert len(execution.history) < 100, "far below 25,000, and independent of the number of pairs"
    assert max(sizes) < 2_000, "far below 256 KiB, and independent of the number of pairs"
    assert set(step_functions.ENGINE_CALLS) <= set(ENGINE_OPERATIONS), "calls the roles were checked for"
    assert json.loads(json.dumps(output))["targets"] == pairs
