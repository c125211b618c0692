"""The login function's WorkSpaces API budget, shared by all its concurrent invocations.

Every account and region gets at most `per_minute` user-name lookups a minute, spread evenly:
time is cut into slots of 60/per_minute seconds, and the one invocation that creates a slot's
item (a conditional PutItem on `LOOKUP#<account>#<region>#<slot>` in the user table) may make
that slot's call. A burst of logins therefore never becomes a burst of WorkSpaces calls, however
many containers Lambda runs; the rest of the API's 2 requests per second stays with the
optimizer, remediation and other tools.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from ws_autopilot.aws.clients import client, conditional_write
from ws_autopilot.core.errors import AwsCallFailed
from ws_autopilot.core.models import Target

logger = Logger(child=True)
SLOT_KEPT = timedelta(hours=1)


def lookup_slot(now: datetime, per_minute: int) -> int:
    """The number of the budget slot `now` falls in: slots are 60/per_minute seconds long."""
    return int(now.timestamp() * per_minute // 60)


class LookupBudget:
    def __init__(
        self,
        table_name: str,
        per_minute: int,
        dynamodb_client: Any | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.table_name = table_name
        self.per_minute = per_minute
        self._client = dynamodb_client or client("dynamodb")
        self.clock = clock

    def take(self, target: Target) -> bool:
        """True when this invocation may make one WorkSpaces call for `target` now. Never raises:
        when the budget cannot be read, no call is made (the login is stored without a user name)."""
        if self.per_minute == 0:
            return False
        now = self.clock()
        slot = lookup_slot(now, self.per_minute)
        try:
            return conditional_write(
                "PutItem",
                self._client.put_item,
                TableName=self.table_name,
                Item={
                    "id": {"S": f"LOOKUP#{target.account_id}#{target.region}#{slot}"},
                    "taken_at": {"S": now.isoformat()},
                    "expires_at": {"N": str(int((now + SLOT_KEPT).timestamp()))},
                },
                ConditionExpression="attribute_not_exists(id)",
            )
        except AwsCallFailed as exc:
            logger.warning("lookup budget unreadable; no lookup made", extra={"error": str(exc)})
            return False
