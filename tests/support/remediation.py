"""Helpers for remediation scenarios against the simulator: WorkSpaces made UNHEALTHY as AWS
would show them (state and the directory's `Unhealthy` metric), scans at a frozen time, and the
alerts they published."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from freezegun import freeze_time

from tests.support import fleet as fleet_support
from tests.support import simulator
from tests.support.lambda_runtime import FakeContext
from tools.local_run import FREEZE_IGNORE

ACCOUNT, REGION = "123456789012", "us-east-1"
MIN = timedelta(minutes=1)
LIVE = {"DryRun": "false", "Remediation": "On"}  # remediation acts only when both say so


@dataclass(frozen=True, slots=True)
class Alert:
    """One message of the alert topic: its `alert_type` attribute, subject and JSON body."""

    kind: str
    subject: str
    body: dict[str, Any]

    def names(self, workspace_id: str) -> bool:
        """True when the alert concerns `workspace_id` (alone or in a list)."""
        return workspace_id in json.dumps(self.body)


def set_unhealthy(directory_id: str, workspace_ids: list[str], at: datetime) -> None:
    """Make WorkSpaces UNHEALTHY and let the directory's `Unhealthy` metric say so 5 minutes before `at`."""
    for workspace_id in workspace_ids:
        simulator.set_state(ACCOUNT, REGION, workspace_id, "UNHEALTHY")
    fleet_support.report_unhealthy(ACCOUNT, REGION, directory_id, len(workspace_ids), at - 5 * MIN)


def state_of(workspace_id: str) -> str:
    return str(simulator.workspace(ACCOUNT, REGION, workspace_id).state)


def scan(stack: Any, at: datetime) -> dict[str, Any]:
    with freeze_time(at, ignore=FREEZE_IGNORE):
        return dict(stack.handlers["RemediateFunction"]({}, FakeContext()))


def calls(operation: str) -> int:
    return simulator.CALLS[("workspaces", operation)]


def alerts_of(received: Callable[[datetime], list[dict[str, Any]]], at: datetime) -> list[Alert]:
    """The alerts an inbox (conftest's `alert_inbox`) received, read at the scenario time `at`."""
    return [
        Alert(m["MessageAttributes"]["alert_type"]["Value"], m.get("Subject", ""), json.loads(m["Message"]))
        for m in received(at)
    ]
