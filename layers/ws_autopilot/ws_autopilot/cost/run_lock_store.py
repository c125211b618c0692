"""The daily run's one-run-at-a-time lock, an item of the ledger table (`RUN#optimizer`, `LOCK`).
Every write is conditional, so two runs never both hold it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ws_autopilot.aws.clients import aws_call, client, conditional_write

LOCK_KEY = {"pk": {"S": "RUN#optimizer"}, "sk": {"S": "LOCK"}}


@dataclass(frozen=True, slots=True)
class LockHolder:
    run_id: str
    execution_arn: str
    started_at: str
    expires_at: int


class RunLock:
    """One optimization run at a time: the execution that holds the lock item runs, any other
    ends at once. A holder that is no longer running (failed, aborted, timed out) or whose lock
    has expired is replaced."""

    def __init__(self, table_name: str, dynamodb_client: Any | None = None) -> None:
        self.table_name = table_name
        self._client = dynamodb_client or client("dynamodb")

    def acquire(self, holder: LockHolder, now: datetime, replacing: LockHolder | None = None) -> bool:
        """Take the lock for `holder`: when it is free, expired or already `holder`'s, or, with
        `replacing`, when it is still held by that (dead) execution. Raises AwsCallFailed."""
        values: dict[str, Any] = {":me": {"S": holder.run_id}, ":now": {"N": str(int(now.timestamp()))}}
        condition = "attribute_not_exists(pk) OR run_id = :me OR expires_at < :now"
        if replacing is not None:
            condition += " OR run_id = :dead"
            values[":dead"] = {"S": replacing.run_id}
        return conditional_write(
            "PutItem",
            self._client.put_item,
            TableName=self.table_name,
            Item={
                **LOCK_KEY,
                "run_id": {"S": holder.run_id},
                "execution_arn": {"S": holder.execution_arn},
                "started_at": {"S": holder.started_at},
                "expires_at": {"N": str(holder.expires_at)},
            },
            ConditionExpression=condition,
            ExpressionAttributeValues=values,
        )

    def holder(self) -> LockHolder | None:
        with aws_call("GetItem"):
            item = self._client.get_item(TableName=self.table_name, Key=LOCK_KEY, ConsistentRead=True).get(
                "Item"
            )
        if not item:
            return None
        return LockHolder(
            item["run_id"]["S"],
            item["execution_arn"]["S"],
            item["started_at"]["S"],
            int(item["expires_at"]["N"]),
        )

    def release(self, run_id: str) -> bool:
        """Free the lock if `run_id` still holds it."""
        return conditional_write(
            "DeleteItem",
            self._client.delete_item,
            TableName=self.table_name,
            Key=LOCK_KEY,
            ConditionExpression="run_id = :me",
            ExpressionAttributeValues={":me": {"S": run_id}},
        )
