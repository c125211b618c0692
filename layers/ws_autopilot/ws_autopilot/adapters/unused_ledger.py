"""Stops and terminations of unused WorkSpaces in the conversion ledger's table, and the run's
cap on them.

Keys (`pk`, `sk`), beside the conversions' (adapters/ledger.py):
- `<account>#<region>#<workspace id>`, `UNUSED#<YYYY-MM>`: the stop or termination the product
  made (claimed before the call, done after) to that WorkSpace in that month; kept 400 days;
- `RUN#<run id>`, `UNUSED_ACTIONS`: the WorkSpaces the run has acted on (or, in a dry run, would
  have), a string set the cap is checked against; kept 7 days.

Every write is conditional, so two runs never both claim one WorkSpace and a run never takes
more than its cap, whatever the retries.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from ws_autopilot.adapters.aws import aws_call, client, conditional_write
from ws_autopilot.adapters.ledger import BATCH_GET_LIMIT, RETENTION
from ws_autopilot.ledger import LedgerStatus
from ws_autopilot.models import Target
from ws_autopilot.unused import ActionEntry, UnusedPolicy

SLOTS_RETENTION = timedelta(days=7)


def entry_key(target: Target, workspace_id: str, month: str) -> dict[str, Any]:
    pk = f"{target.account_id}#{target.region}#{workspace_id}"
    return {"pk": {"S": pk}, "sk": {"S": f"UNUSED#{month}"}}


def _item(target: Target, entry: ActionEntry) -> dict[str, Any]:
    item: dict[str, Any] = {
        **entry_key(target, entry.workspace_id, entry.month),
        "workspace_id": {"S": entry.workspace_id},
        "directory_id": {"S": entry.directory_id},
        "action": {"S": entry.policy.value},
        "run_id": {"S": entry.run_id},
        "status": {"S": entry.status.value},
        "claimed_at": {"S": entry.claimed_at.isoformat()},
        "expires_at": {"N": str(int((entry.claimed_at + RETENTION).timestamp()))},
    }
    if entry.last_connection is not None:
        item["last_connection"] = {"S": entry.last_connection.isoformat()}
    return item


def _entry(item: dict[str, Any]) -> ActionEntry:
    def moment(name: str) -> datetime | None:
        text = item.get(name, {}).get("S")
        return datetime.fromisoformat(text) if text else None

    return ActionEntry(
        workspace_id=item["workspace_id"]["S"],
        directory_id=item["directory_id"]["S"],
        month=item["sk"]["S"].removeprefix("UNUSED#"),
        policy=UnusedPolicy(item["action"]["S"]),
        run_id=item["run_id"]["S"],
        status=LedgerStatus(item["status"]["S"]),
        claimed_at=datetime.fromisoformat(item["claimed_at"]["S"]),
        last_connection=moment("last_connection"),
        done_at=moment("done_at"),
    )


class UnusedLedger:
    """The product's record of its own stops and terminations, one entry per WorkSpace and month."""

    def __init__(self, table_name: str, dynamodb_client: Any | None = None) -> None:
        self.table_name = table_name
        self._client = dynamodb_client or client("dynamodb")

    def entries(self, target: Target, workspace_ids: Iterable[str], month: str) -> dict[str, ActionEntry]:
        """This month's entries of the given WorkSpaces, by id (strongly consistent, 100 keys
        per call). Raises AwsCallFailed."""
        keys = [entry_key(target, w, month) for w in dict.fromkeys(workspace_ids)]
        found: dict[str, ActionEntry] = {}
        for offset in range(0, len(keys), BATCH_GET_LIMIT):
            pending: dict[str, Any] = {
                self.table_name: {"Keys": keys[offset : offset + BATCH_GET_LIMIT], "ConsistentRead": True}
            }
            while pending:
                with aws_call("BatchGetItem"):
                    response = self._client.batch_get_item(RequestItems=pending)
                for item in response.get("Responses", {}).get(self.table_name, []):
                    entry = _entry(item)
                    found[entry.workspace_id] = entry
                pending = response.get("UnprocessedKeys") or {}
        return found

    def claim(self, target: Target, entry: ActionEntry) -> bool:
        """Record an action about to be made; False when the WorkSpace has an entry this month."""
        return conditional_write(
            "PutItem",
            self._client.put_item,
            TableName=self.table_name,
            Item=_item(target, entry),
            ConditionExpression="attribute_not_exists(pk)",
        )

    def take_over(self, target: Target, entry: ActionEntry, stale: ActionEntry) -> bool:
        """Replace another run's stale claim; False when it changed since it was read."""
        return conditional_write(
            "PutItem",
            self._client.put_item,
            TableName=self.table_name,
            Item=_item(target, entry),
            ConditionExpression="run_id = :stale AND #status = :claimed",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":stale": {"S": stale.run_id},
                ":claimed": {"S": LedgerStatus.CLAIMED.value},
            },
        )

    def complete(self, target: Target, entry: ActionEntry, at: datetime) -> bool:
        """Mark this run's claim done; False when another run holds the entry now."""
        return conditional_write(
            "UpdateItem",
            self._client.update_item,
            TableName=self.table_name,
            Key=entry_key(target, entry.workspace_id, entry.month),
            UpdateExpression="SET #status = :done, done_at = :at",
            ConditionExpression="run_id = :run",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":done": {"S": LedgerStatus.DONE.value},
                ":at": {"S": at.isoformat()},
                ":run": {"S": entry.run_id},
            },
        )

    def release(self, target: Target, entry: ActionEntry) -> bool:
        """Drop this run's claim of an action the API refused, so a later run may try again."""
        return conditional_write(
            "DeleteItem",
            self._client.delete_item,
            TableName=self.table_name,
            Key=entry_key(target, entry.workspace_id, entry.month),
            ConditionExpression="run_id = :run AND #status = :claimed",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":run": {"S": entry.run_id},
                ":claimed": {"S": LedgerStatus.CLAIMED.value},
            },
        )

    def take_slot(self, run_id: str, target: Target, workspace_id: str, cap: int, now: datetime) -> bool:
        """One of the run's `cap` actions for this WorkSpace; True when it has one (already had
        one: a retried batch takes no second), False when the run has used them all. Raises
        AwsCallFailed."""
        member = f"{target.account_id}#{target.region}#{workspace_id}"
        return conditional_write(
            "UpdateItem",
            self._client.update_item,
            TableName=self.table_name,
            Key={"pk": {"S": f"RUN#{run_id}"}, "sk": {"S": "UNUSED_ACTIONS"}},
            UpdateExpression="ADD workspaces :me SET expires_at = if_not_exists(expires_at, :expires)",
            ConditionExpression=(
                "attribute_not_exists(workspaces) OR contains(workspaces, :id) OR size(workspaces) < :cap"
            ),
            ExpressionAttributeValues={
                ":me": {"SS": [member]},
                ":id": {"S": member},
                ":cap": {"N": str(cap)},
                ":expires": {"N": str(int((now + SLOTS_RETENTION).timestamp()))},
            },
        )
