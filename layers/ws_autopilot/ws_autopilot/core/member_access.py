"""What each function may do in a member account, as pure policy: the actions of its AssumeRole
session policy, computed from the function and its settings in this one place (D-192).

A member session's permissions are the intersection of the member role's policy
(member-account.yaml, with its own `Allow*` keys) and the session policy passed to AssumeRole,
so IAM itself refuses what the function's settings do not allow, in every member account and
whatever the member stack was deployed with. The login and listing functions only read; the
optimizer switches running modes, stops unused WorkSpaces only under `UnusedAction=stop` and
terminates them only under a confirmed `terminate`; remediation reboots, and rebuilds only under
`RebuildPolicy=Auto`. Under a dry run every function only reads.

The session name names the function, so a member account's CloudTrail tells which one acted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum


class MemberFunction(StrEnum):
    """The functions that assume the member role, by the name their sessions carry."""

    LIST_DIRECTORIES = "list-directories"
    OPTIMIZE_DIRECTORY = "optimize-directory"
    LOGIN_EVENTS = "login-events"
    REMEDIATE = "remediate"


# What each function reads in a member account (the calls of its adapters).
READS: dict[MemberFunction, frozenset[str]] = {
    MemberFunction.LIST_DIRECTORIES: frozenset({"workspaces:DescribeWorkspaceDirectories"}),
    MemberFunction.OPTIMIZE_DIRECTORY: frozenset(
        {
            "workspaces:DescribeWorkspaces",
            "workspaces:DescribeTags",
            "workspaces:DescribeWorkspacesConnectionStatus",
            "tag:GetResources",
            "cloudwatch:GetMetricData",
        }
    ),
    MemberFunction.LOGIN_EVENTS: frozenset({"workspaces:DescribeWorkspaces"}),
    MemberFunction.REMEDIATE: frozenset(
        {
            "workspaces:DescribeWorkspaceDirectories",
            "workspaces:DescribeWorkspaces",
            "workspaces:DescribeWorkspacesConnectionStatus",
            "workspaces:DescribeTags",
            "workspaces:DescribeWorkspaceSnapshots",
            "cloudwatch:GetMetricData",
        }
    ),
}
SESSION_PREFIX = "ws-autopilot-"
MODIFY = "workspaces:ModifyWorkspaceProperties"
STOP = "workspaces:StopWorkspaces"
TERMINATE = "workspaces:TerminateWorkspaces"
REBOOT = "workspaces:RebootWorkspaces"
REBUILD = "workspaces:RebuildWorkspaces"
CHANGES = frozenset({MODIFY, STOP, TERMINATE, REBOOT, REBUILD})


@dataclass(frozen=True)
class MemberAccess:
    """A function's member sessions: the actions they may use, and the name they carry."""

    function: MemberFunction
    actions: frozenset[str]

    def __post_init__(self) -> None:
        unknown = self.actions - READS[self.function] - CHANGES
        if unknown:
            raise ValueError(f"{self.function} has no use for {sorted(unknown)}")

    @property
    def session_name(self) -> str:
        """RoleSessionName (at most 64 characters of [\\w+=,.@-]): CloudTrail in the member
        account shows it in the ARN of every call the session makes."""
        return f"{SESSION_PREFIX}{self.function.value}"

    @property
    def changes(self) -> frozenset[str]:
        return self.actions & CHANGES

    def session_policy(self) -> str:
        """The AssumeRole `Policy`: one Allow of exactly these actions. The member role scopes
        the resources (its account's WorkSpaces), so "*" here adds nothing to it."""
        statement = {
            "Sid": "OnlyWhatThisFunctionNeeds",
            "Effect": "Allow",
            "Action": sorted(self.actions),
            "Resource": "*",
        }
        return json.dumps({"Version": "2012-10-17", "Statement": [statement]}, separators=(",", ":"))


def read_only(function: MemberFunction) -> MemberAccess:
    """The listing and login functions, and any function during a dry run."""
    return MemberAccess(function, READS[function])


def optimizer_access(*, dry_run: bool, unused_action: str, terminate_confirmed: bool) -> MemberAccess:
    """OptimizeDirectory: running-mode changes, and the unused WorkSpaces' action its
    `UnusedAction` (and `ConfirmTerminateUnused`) allow; only reads during a dry run."""
    function = MemberFunction.OPTIMIZE_DIRECTORY
    if dry_run:
        return read_only(function)
    changes = {MODIFY}
    if unused_action == "stop":
        changes.add(STOP)
    if unused_action == "terminate" and terminate_confirmed:
        changes.add(TERMINATE)
    return MemberAccess(function, READS[function] | changes)


def remediation_access(*, dry_run: bool, rebuild_policy: str) -> MemberAccess:
    """Remediate: reboots, and rebuilds only under `RebuildPolicy=Auto`; only reads during its
    dry run."""
    function = MemberFunction.REMEDIATE
    if dry_run:
        return read_only(function)
    changes = {REBOOT, REBUILD} if rebuild_policy == "Auto" else {REBOOT}
    return MemberAccess(function, READS[function] | changes)
