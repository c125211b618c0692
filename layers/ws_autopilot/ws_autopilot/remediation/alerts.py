"""Remediation's alerts: every alert type it publishes, and each alert's subject and body."""

from __future__ import annotations

from enum import StrEnum

from ws_autopilot.core.models import AlertMessage, Target, Workspace
from ws_autopilot.remediation.policy import Record, RemediationAction

BREAKER_OPEN_MEANING = (
    "nothing is done to this directory's WorkSpaces while it is open: "
    "the cause is probably shared (directory, DNS, network)"
)
MAX_LISTED = 200  # WorkSpaces named in the reboot-limit message (SNS takes 256 KB)
HELD_BACK_MEANING = (
    "rebooted at later scans, the longest UNHEALTHY first; their opt-out tags and "
    "other guards are read when their turn comes"
)


class Alert(StrEnum):
    """Every `alert_type` remediation publishes (docs/operations.md, "Alerts")."""

    REBOOT = "remediation_reboot"
    REBUILD = "remediation_rebuild"
    RECOVERED = "remediation_recovered"
    NEEDS_PERSON = "remediation_needs_person"
    SKIP = "remediation_skip"
    WAIT = "remediation_wait"  # a guard holds a WorkSpace back (connected user, unreadable tags...)
    FAILED = "remediation_failed"
    REBOOT_LIMIT = "remediation_reboot_limit"  # one per scan: the WorkSpaces the reboot cap held back
    BREAKER_OPENED = "remediation_breaker_opened"
    BREAKER_CLOSED = "remediation_breaker_closed"

    @classmethod
    def of(cls, action: RemediationAction) -> Alert:
        return cls(f"remediation_{action.value}")


def describe(ws: Workspace, target: Target) -> dict[str, str]:
    """How an alert names one WorkSpace: where it is, its id, its user and its directory."""
    return {
        "account_id": target.account_id,
        "region": target.region,
        "workspace_id": ws.workspace_id,
        "user_name": ws.user_name,
        "directory_id": ws.directory_id,
    }


def workspace_alert(
    alert: Alert, ws: Workspace, target: Target, reason: str, record: Record | None, dry_run: bool
) -> AlertMessage:
    """The alert about one WorkSpace: an action taken (or, in a dry run, decided), a guard that
    holds it back, a refusal, a recovery, or a person needed. `record` is its remediation record
    after the step, None when it has none."""
    prefix = "[dry run] " if dry_run else ""
    action = alert.value.removeprefix("remediation_")
    return AlertMessage(
        alert.value,
        f"{prefix}WorkSpace {ws.workspace_id} ({ws.user_name}) in {target}: {action}",
        {
            **describe(ws, target),
            "state": ws.state,
            "action": action,
            "reason": reason,
            "dry_run": dry_run,
            "reboots_so_far": record.reboots if record else 0,
            "unhealthy_since": record.unhealthy_since.isoformat() if record else None,
        },
    )


def breaker_alert(
    target: Target, directory_id: str, is_open: bool, unhealthy: int, total: int, breaker_percent: int
) -> AlertMessage:
    """The alert that a directory's circuit breaker opened (`is_open`) or closed, with the counts
    that decided it."""
    alert = Alert.BREAKER_OPENED if is_open else Alert.BREAKER_CLOSED
    state = "opened" if is_open else "closed"
    return AlertMessage(
        alert.value,
        f"Remediation circuit breaker {state} for directory {directory_id} in {target}",
        {
            "account_id": target.account_id,
            "region": target.region,
            "directory_id": directory_id,
            "unhealthy": unhealthy,
            "workspaces": total,
            "breaker_percent": breaker_percent,
            "meaning": BREAKER_OPEN_MEANING if is_open else "remediation resumes",
        },
    )


def reboot_limit_alert(
    held_back: list[dict[str, str]], max_reboots_per_run: int, dry_run: bool
) -> AlertMessage:
    """The one alert of a scan naming the WorkSpaces (`describe()` of each) the per-scan reboot
    cap held back; at most MAX_LISTED are listed, all are counted."""
    prefix = "[dry run] " if dry_run else ""
    return AlertMessage(
        Alert.REBOOT_LIMIT.value,
        f"{prefix}Reboot limit reached: {len(held_back)} UNHEALTHY WorkSpace(s) wait for the next scan",
        {
            "max_reboots_per_run": max_reboots_per_run,
            "held_back_count": len(held_back),
            "held_back": held_back[:MAX_LISTED],
            "meaning": HELD_BACK_MEANING,
            "dry_run": dry_run,
        },
    )
