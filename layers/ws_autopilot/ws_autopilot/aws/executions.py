"""Whether a Step Functions execution is still running (to tell a live lock holder from a dead one)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ws_autopilot.aws.clients import client, error_code


class Executions:
    def __init__(self, stepfunctions_client: Any | None = None) -> None:
        self._client = stepfunctions_client or client("stepfunctions")

    def is_running(self, execution_arn: str) -> bool:
        """False only when Step Functions says the execution ended (or never existed); any doubt
        (access denied, an outage) counts as running, so two runs never overlap on a guess."""
        try:
            status = self._client.describe_execution(executionArn=execution_arn)["status"]
        except (ClientError, BotoCoreError) as exc:
            return error_code(exc) != "ExecutionDoesNotExist"
        return bool(status == "RUNNING")
