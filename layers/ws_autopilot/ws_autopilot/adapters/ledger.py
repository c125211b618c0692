"""The conversion ledger and the run lock, in one encrypted DynamoDB table.

Keys (`pk`, `sk`):
- `<account>#<region>#<workspace id>`, `<YYYY-MM>`: the conversion the product made to that
  WorkSpace in that month (claimed before the change, done after); kept 400 days;
- `RUN#optimizer`, `LOCK`: the execution that holds the one-run-at-a-time lock.

Every write is conditional, so two runs never both claim one WorkSpace or the lock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar

from ws_autopilot.adapters.aws import aws_call, client, conditional_write
from ws_autopilot.ledger import LedgerEntry, LedgerStatus
from ws_autopilot.models import Target

RETENTION = timedelta(days=400)  # well past the month: the monthly digest reads the previous month
BATCH_GET_LIMIT = 100
LOCK_KEY = {"pk": {"S": "RUN#optimizer"}, "sk": {"S": "LOCK"}}


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

    def release(self, target: Target, entry: E) -> bool:
        """Drop this run's claim of an action that was not made (the API refused it), so a later
        run may try again; False when it is not this run's claim any more."""
        return self._change_own(
            "DeleteItem",
            target,
            entry,
            "run_id = :run AND #status = :claimed",
            {":claimed": {"S": LedgerStatus.CLAIMED.value}},
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


def entry_key(target: Target, workspace_id: str, month: str) -> dict[str, Any]:
    return {"pk": {"S": f"{target.account_id}#{target.region}#{workspace_id}"}, "sk": {"S": month}}


class ConversionLedger(ClaimLedger[LedgerEntry]):
    """The product's record of its own conversions, one entry per WorkSpace and month."""

    def key(self, target: Target, workspace_id: str, month: str) -> dict[str, Any]:
        return entry_key(target, workspace_id, month)

    def item(self, target: Target, entry: LedgerEntry) -> dict[str, Any]:
        item: dict[str, Any] = {
            **entry_key(target, entry.workspace_id, entry.month),
            "workspace_id": {"S": entry.workspace_id},
            "directory_id": {"S": entry.directory_id},
            "from_mode": {"S": entry.from_mode},
            "to_mode": {"S": entry.to_mode},
            "run_id": {"S": entry.run_id},
            "status": {"S": entry.status.value},
            "claimed_at": {"S": entry.claimed_at.isoformat()},
            "reason": {"S": entry.reason},
            "expires_at": {"N": str(int((entry.claimed_at + RETENTION).timestamp()))},
        }
        for name in ("billable_hours", "threshold"):
            value = getattr(entry, name)
            if value is not None:
                item[name] = {"N": str(value)}
        if entry.done_at is not None:
            item["done_at"] = {"S": entry.done_at.isoformat()}
        return item

    def entry_of(self, item: dict[str, Any]) -> LedgerEntry:
        def number(name: str) -> int | None:
            return int(item[name]["N"]) if name in item else None

        done = item.get("done_at", {}).get("S")
        return LedgerEntry(
            workspace_id=item["workspace_id"]["S"],
            directory_id=item["directory_id"]["S"],
            month=item["sk"]["S"],
            from_mode=item["from_mode"]["S"],
            to_mode=item["to_mode"]["S"],
            run_id=item["run_id"]["S"],
            status=LedgerStatus(item["status"]["S"]),
            claimed_at=datetime.fromisoformat(item["claimed_at"]["S"]),
            reason=item["reason"]["S"],
            billable_hours=number("billable_hours"),
            threshold=number("threshold"),
            done_at=datetime.fromisoformat(done) if done else None,
        )

    def entry(self, target: Target, workspace_id: str, month: str) -> LedgerEntry | None:
        with aws_call("GetItem"):
            item = self._client.get_item(
                TableName=self.table_name, Key=entry_key(target, workspace_id, month), ConsistentRead=True
            ).get("Item")
        return self.entry_of(item) if item else None


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
