"""Who each WorkSpace belongs to, and the WorkSpaces whose logins still wait for that answer,
in one encrypted DynamoDB table (partition key `id`):

- `USER#<account>#<region>#<workspace id>`: the WorkSpace's `user_name` and `directory_id`.
  The daily run writes one item per WorkSpace it lists (one BatchWriteItem per page of 25), the
  login function one per WorkSpace it had to look up; items expire MAP_DAYS after written.
- `WAIT#<account>#<region>#<workspace id>`: a WorkSpace whose logins were stored without a user
  name: `logins` holds their sort keys in the login table. `waiting_in` (`<account>#<region>`)
  and `since` put it on the `waiting` index, oldest first, for the next lookup to take along.
- `LOOKUP#...`: the shared lookup budget (logins/lookup_budget.py).

User names are personal data: the table is encrypted with the stack's key and every item expires.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger

from ws_autopilot.aws.clients import aws_call, client
from ws_autopilot.core.errors import AwsCallFailed
from ws_autopilot.core.models import Target, Workspace

logger = Logger(child=True)

# A week: the daily run rewrites every item each day, so a few failed runs in a row still leave
# the map in place, and a terminated WorkSpace's user name is gone a week after its last listing.
MAP_DAYS = 7
WAITING_INDEX = "waiting"
BATCH_WRITE_LIMIT = 25
BATCH_GET_LIMIT = 100
UNPROCESSED_ROUNDS = 5  # BatchWriteItem and BatchGetItem may leave part of a batch to retry


def user_key(target: Target, workspace_id: str) -> dict[str, Any]:
    return {"id": {"S": f"USER#{target.account_id}#{target.region}#{workspace_id}"}}


def waiting_key(target: Target, workspace_id: str) -> dict[str, Any]:
    return {"id": {"S": f"WAIT#{target.account_id}#{target.region}#{workspace_id}"}}


def partition(target: Target) -> str:
    return f"{target.account_id}#{target.region}"


class WorkspaceUserMap:
    """WorkSpace id -> user name per account and region, and the WorkSpaces waiting for one."""

    def __init__(
        self,
        table_name: str,
        dynamodb_client: Any | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.table_name = table_name
        self._client = dynamodb_client or client("dynamodb")
        self.clock = clock

    def _expires_at(self) -> dict[str, str]:
        return {"N": str(int((self.clock() + timedelta(days=MAP_DAYS)).timestamp()))}

    def user_item(
        self, target: Target, workspace_id: str, user_name: str, directory_id: str
    ) -> dict[str, Any]:
        item: dict[str, Any] = {
            **user_key(target, workspace_id),
            "user_name": {"S": user_name},
            "written_at": {"S": self.clock().isoformat()},
            "expires_at": self._expires_at(),
        }
        if directory_id:
            item["directory_id"] = {"S": directory_id}
        return item

    def remember(self, target: Target, workspaces: Iterable[Workspace]) -> bool:
        """Store the user of every listed WorkSpace that has one (the daily run, once per page).

        Never raises: the map only saves later WorkSpaces API calls, so a failure to write it is
        logged and the caller's work goes on. Returns whether everything was written."""
        items = [
            self.user_item(target, ws.workspace_id, ws.user_name, ws.directory_id)
            for ws in workspaces
            if ws.user_name
        ]
        try:
            self._write(items)
        except AwsCallFailed as exc:
            logger.warning(
                "WorkSpace user map not updated; logins look these WorkSpaces up instead",
                extra={"target": str(target), "workspaces": len(items), "error": str(exc)},
            )
            return False
        return True

    def put(self, target: Target, names: Mapping[str, str]) -> None:
        """Store user names found by a lookup. Raises AwsCallFailed."""
        self._write([self.user_item(target, ws, name, "") for ws, name in names.items()])

    def user_name(self, target: Target, workspace_id: str) -> str | None:
        """The mapped user name, or None. Raises AwsCallFailed."""
        with aws_call("GetItem"):
            item = self._client.get_item(TableName=self.table_name, Key=user_key(target, workspace_id)).get(
                "Item"
            )
        return item["user_name"]["S"] if item else None

    def user_names(self, target: Target, workspace_ids: list[str]) -> dict[str, str]:
        """The mapped user names of those WorkSpaces that have one. Raises AwsCallFailed."""
        items = self._read([user_key(target, ws) for ws in workspace_ids], consistent=False)
        return {item["id"]["S"].rsplit("#", 1)[1]: item["user_name"]["S"] for item in items}

    def mark_waiting(self, target: Target, workspace_id: str, login_key: str, since: str) -> None:
        """Remember that the login stored under `login_key` has no user name yet. Raises AwsCallFailed."""
        with aws_call("UpdateItem"):
            self._client.update_item(
                TableName=self.table_name,
                Key=waiting_key(target, workspace_id),
                UpdateExpression="ADD logins :k SET waiting_in = :p, workspace_id = :w, "
                "since = if_not_exists(since, :s), expires_at = :e",
                ExpressionAttributeValues={
                    ":k": {"SS": [login_key]},
                    ":p": {"S": partition(target)},
                    ":w": {"S": workspace_id},
                    ":s": {"S": since},
                    ":e": self._expires_at(),
                },
            )

    def waiting(self, target: Target, limit: int) -> list[str]:
        """Up to `limit` WorkSpaces of the target waiting for a user name, those waiting longest
        first (the index is eventually consistent: one may have just been settled). Raises AwsCallFailed."""
        with aws_call("Query"):
            response = self._client.query(
                TableName=self.table_name,
                IndexName=WAITING_INDEX,
                KeyConditionExpression="waiting_in = :p",
                ExpressionAttributeValues={":p": {"S": partition(target)}},
                Limit=limit,
            )
        return [item["workspace_id"]["S"] for item in response.get("Items", [])]

    def waiting_logins(self, target: Target, workspace_id: str) -> set[str]:
        """The sort keys of the WorkSpace's logins stored without a user name. Raises AwsCallFailed."""
        with aws_call("GetItem"):
            item = self._client.get_item(
                TableName=self.table_name, Key=waiting_key(target, workspace_id), ConsistentRead=True
            ).get("Item")
        return set(item["logins"]["SS"]) if item and "logins" in item else set()

    def clear_waiting(self, target: Target, workspace_id: str) -> None:
        """Raises AwsCallFailed."""
        with aws_call("DeleteItem"):
            self._client.delete_item(TableName=self.table_name, Key=waiting_key(target, workspace_id))

    def _write(self, items: list[dict[str, Any]]) -> None:
        for offset in range(0, len(items), BATCH_WRITE_LIMIT):
            requests = [{"PutRequest": {"Item": i}} for i in items[offset : offset + BATCH_WRITE_LIMIT]]
            for _ in range(UNPROCESSED_ROUNDS):
                with aws_call("BatchWriteItem"):
                    response = self._client.batch_write_item(RequestItems={self.table_name: requests})
                requests = response.get("UnprocessedItems", {}).get(self.table_name, [])
                if not requests:
                    break
            else:
                raise AwsCallFailed("BatchWriteItem", "UnprocessedItems")

    def _read(self, keys: list[dict[str, Any]], consistent: bool) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for offset in range(0, len(keys), BATCH_GET_LIMIT):
            request = {"Keys": keys[offset : offset + BATCH_GET_LIMIT], "ConsistentRead": consistent}
            for _ in range(UNPROCESSED_ROUNDS):
                with aws_call("BatchGetItem"):
                    response = self._client.batch_get_item(RequestItems={self.table_name: request})
                found += response.get("Responses", {}).get(self.table_name, [])
                request = response.get("UnprocessedKeys", {}).get(self.table_name)
                if not request:
                    break
            else:
                raise AwsCallFailed("BatchGetItem", "UnprocessedKeys")
        return found
