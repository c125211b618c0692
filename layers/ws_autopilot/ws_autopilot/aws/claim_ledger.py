"""The conversion ledger and the run lock, in one encrypted DynamoDB table.

Keys (`pk`, `sk`):
- `<account>#<region>#<workspace id>`, `<YYYY-MM>`: the conversion the product made to that
  WorkSpace in that month (claimed before the change, done after); kept 400 days;
- `RUN#optimizer`, `LOCK`: the execution that holds the one-run-at-a-time lock.

Every write is conditional, so two runs never both claim one WorkSpace or the lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from ws_autopilot.aws.clients import aws_call, client, conditional_write
from ws_autopilot.core.claims import LedgerStatus
from ws_autopilot.core.models import Target

RETENTION = timedelta(days=400)  # well past the month: the monthly digest reads the previous month
BATCH_GET_LIMIT = 100


class Claim(Protocol):
    """What a ledger entry has whatever its kind."""

    @property
    def workspace_id(self) -> str: ...
    @property
    def month(self) -> str: ...
    @property
    def run_id(self) -> str: ...


E = TypeVar("E", bound=Claim)


class ClaimLedger(Generic[E]):
    """The product's record of one kind of action of its own, one entry per WorkSpace and month:
    claimed by a run before the action, done after, dropped when the API refused it. A kind
    defines its item's key and attributes; every write is conditional, so two runs never both
    claim one WorkSpace, and a run only completes or drops its own claim."""

    def __init__(self, table_name: str, dynamodb_client: Any | None = None) -> None:
        self.table_name = table_name
        self._client = dynamodb_client or client("dynamodb")

    def key(self, target: Target, workspace_id: str, month: str) -> dict[str, Any]:
        raise NotImplementedError

    def item(self, target: Target, entry: E) -> dict[str, Any]:
        raise NotImplementedError

    def entry_of(self, item: dict[str, Any]) -> E:
        raise NotImplementedError

    def entries(self, target: Target, workspace_ids: Iterable[str], month: str) -> dict[str, E]:
        """This month's entries of the given WorkSpaces, by id (strongly consistent reads, 100
        keys per call). Raises AwsCallFailed."""
        keys = [self.key(target, w, month) for w in dict.fromkeys(workspace_ids)]
        found: dict[str, E] = {}
        for offset in range(0, len(keys), BATCH_GET_LIMIT):
            pending: dict[str, Any] = {
                self.table_name: {"Keys": keys[offset : offset + BATCH_GET_LIMIT], "ConsistentRead": True}
            }
            while pending:
                with aws_call("BatchGetItem"):
                    response = self._client.batch_get_item(RequestItems=pending)
                for item in response.get("Responses", {}).get(self.table_name, []):
                    entry = self.entry_of(item)
                    found[entry.workspace_id] = entry
                # botocore's retries cover throttling of the whole call, not keys left unprocessed
                pending = response.get("UnprocessedKeys") or {}
        return found

    def claim(self, target: Target, entry: E) -> bool:
        """Record an action about to be made; False when the WorkSpace already has an entry this
        month. Raises AwsCallFailed."""
        return self._put(target, entry, "attribute_not_exists(pk)", {})

    def take_over(self, target: Target, entry: E, stale: E) -> bool:
        """Replace another run's stale claim; False when it changed since it was read."""
        return self._put(
            target,
            entry,
            "run_id = :stale_run AND #status = :claimed",
            {":stale_run": {"S": stale.run_id}, ":claimed": {"S": LedgerStatus.CLAIMED.value}},
        )

    def complete(self, target: Target, entry: E, at: datetime) -> bool:
        """Mark this run's claim done; False when another run holds the entry now."""
        return self._change_own(
            "UpdateItem",
            target,
            entry,
            "run_id = :run",
            {":done": {"S": LedgerStatus.DONE.value}, ":at": {"S": at.isoformat()}},
            UpdateExpression="SET #status = :done, done_at = :at",
        )

    def release(self, target: Target, entry: E, status: LedgerStatus = LedgerStatus.CLAIMED) -> bool:
        """Drop the claim of an action that was not made (the API refused it, or a later listing
        showed that a change of unknown outcome was not made), so a later run may try again;
        False when the entry is not `entry.run_id`'s in `status` any more."""
        return self._change_own(
            "DeleteItem",
            target,
            entry,
            "run_id = :run AND #status = :status",
            {":status": {"S": status.value}},
        )

    def mark_unknown(self, target: Target, entry: E) -> bool:
        """Keep this run's claim of a change whose response was lost, marked so that the next
        listing settles it; False when it is not this run's claim any more."""
        return self._change_own(
            "UpdateItem",
            target,
            entry,
            "run_id = :run AND #status = :claimed",
            {":claimed": {"S": LedgerStatus.CLAIMED.value}, ":unknown": {"S": LedgerStatus.UNKNOWN.value}},
            UpdateExpression="SET #status = :unknown",
        )

    def _put(self, target: Target, entry: E, condition: str, values: dict[str, Any]) -> bool:
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": self.item(target, entry),
            "ConditionExpression": condition,
        }
        if values:
            request["ExpressionAttributeValues"] = values
            request["ExpressionAttributeNames"] = {"#status": "status"}
        return conditional_write("PutItem", self._client.put_item, **request)

    def _change_own(
        self, operation: str, target: Target, entry: E, condition: str, values: dict[str, Any], **request: Any
    ) -> bool:
        call = self._client.update_item if operation == "UpdateItem" else self._client.delete_item
        return conditional_write(
            operation,
            call,
            TableName=self.table_name,
            Key=self.key(target, entry.workspace_id, entry.month),
            ConditionExpression=condition,
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":run": {"S": entry.run_id}, **values},
            **request,
        )
