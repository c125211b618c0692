"""What each function's member sessions may do, for each of its settings (core/member_access.py);
IAM's evaluation of these against member-account.yaml's role is in
tests/template/test_iam_coverage.py."""

import json

import pytest

from ws_autopilot.core.member_access import (
    CHANGES,
    READS,
    MemberAccess,
    MemberFunction,
    optimizer_access,
    read_only,
    remediation_access,
)

MODIFY, STOP, TERMINATE = (
    "workspaces:ModifyWorkspaceProperties",
    "workspaces:StopWorkspaces",
    "workspaces:TerminateWorkspaces",
)
REBOOT, REBUILD = "workspaces:RebootWorkspaces", "workspaces:RebuildWorkspaces"


@pytest.mark.parametrize("function", [MemberFunction.LIST_DIRECTORIES, MemberFunction.LOGIN_EVENTS])
def test_the_listing_and_login_functions_only_read(function):
    access = read_only(function)
    assert access.changes == frozenset()
    assert all(a.split(":")[1].startswith("Describe") for a in access.actions)


@pytest.mark.parametrize(
    ("dry_run", "unused_action", "confirmed", "changes"),
    [
        (True, "report", False, set()),
        (True, "stop", False, set()),
        (True, "terminate", True, set()),
        (False, "report", False, {MODIFY}),
        (False, "stop", False, {MODIFY, STOP}),
        (False, "terminate", False, {MODIFY}),  # not confirmed: terminates nothing
        (False, "report", True, {MODIFY}),
        (False, "terminate", True, {MODIFY, TERMINATE}),
    ],
)
def test_the_optimizer_changes_only_what_its_settings_allow(dry_run, unused_action, confirmed, changes):
    access = optimizer_access(dry_run=dry_run, unused_action=unused_action, terminate_confirmed=confirmed)
    assert access.changes == changes
    assert access.actions - access.changes == READS[MemberFunction.OPTIMIZE_DIRECTORY]


@pytest.mark.parametrize(
    ("dry_run", "rebuild_policy", "changes"),
    [
        (True, "Auto", set()),
        (True, "Never", set()),
        (False, "Never", {REBOOT}),
        (False, "Auto", {REBOOT, REBUILD}),
    ],
)
def test_remediation_reboots_and_rebuilds_only_under_auto(dry_run, rebuild_policy, changes):
    assert remediation_access(dry_run=dry_run, rebuild_policy=rebuild_policy).changes == changes


def test_the_session_policy_allows_exactly_the_actions_and_fits_the_sts_limit():
    access = optimizer_access(dry_run=False, unused_action="stop", terminate_confirmed=False)
    policy = access.session_policy()
    (statement,) = json.loads(policy)["Statement"]
    assert statement == {
        "Sid": "OnlyWhatThisFunctionNeeds",
        "Effect": "Allow",
        "Action": sorted(access.actions),
        "Resource": "*",
    }
    widest = MemberAccess(MemberFunction.REMEDIATE, READS[MemberFunction.REMEDIATE] | {REBOOT, REBUILD})
    assert max(len(policy), len(widest.session_policy())) < 2048  # AssumeRole's plain-text limit


@pytest.mark.parametrize("function", list(MemberFunction))
def test_each_function_has_a_session_name_of_its_own_within_sts_limits(function):
    name = read_only(function).session_name
    assert name == f"ws-autopilot-{function.value}"
    assert len(name) <= 64
    assert len({read_only(f).session_name for f in MemberFunction}) == len(MemberFunction)


def test_an_action_a_function_has_no_use_for_is_refused():
    with pytest.raises(ValueError, match="login-events has no use for"):
        MemberAccess(
            MemberFunction.LOGIN_EVENTS, frozenset({"workspaces:DescribeWorkspaces", "iam:PassRole"})
        )
    assert {MODIFY, STOP, TERMINATE, REBOOT, REBUILD} <= CHANGES
