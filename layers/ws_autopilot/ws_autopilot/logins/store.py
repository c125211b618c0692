"""Login records in DynamoDB.

One table, partition key `workspace_id`, sort key `sk`:
- `LOGIN#<login time>#<event id>`: one item per login (query a WorkSpace's logins by time), with
  its `account_id` and `region`; the event id is unique, so two accounts' WorkSpaces with the
  same id never share an item. `login_date` / `login_time` feed the `by-date` index (every login
  of a day, by time);
- `LAST#<account>#<region>`: the WorkSpace's latest login and its user name;
- `NET#<account>#<region>#<network>`: when the WorkSpace last logged in from that network (the
  new-network detector), and the event that first used it with its judgement (`first_event`,
  `new`), which a retry of that event reads back.
Alert groups (alert_groups.py) live beside them under their own partition keys, `ALERTS#...`.
Every item carries `expires_at` (epoch seconds) for DynamoDB TTL: logins are personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ws_autopilot.aws.clients import aws_call, client, conditional_write
from ws_autopilot.core.errors import PermanentAwsError
from ws_autopilot.core.models import Target
from ws_autopilot.logins.policy import IPNetwork, Login


@dataclass(frozen=True, slots=True)
class LastLogin:
    login_time: str
    user_name: str | None


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def last_key(target: Target, workspace_id: str) -> dict[str, Any]:
    return {"workspace_id": _s(workspace_id), "sk": _s(f"LAST#{target.account_id}#{target.region}")}


def network_key(target: Target, workspace_id: str, network: IPNetwork) -> dict[str, Any]:
    return {
        "workspace_id": _s(workspace_id),
        "sk": _s(f"NET#{target.account_id}#{target.region}#{network}"),
    }


class LoginStore:
    def __init__(self, table_name: str, dynamodb_client: Any | None = None) -> None:
        self.table_name = table_name
        self._client = dynamodb_client or client("dynamodb")

    @staticmethod
    def login_sort_key(login: Login) -> str:
        return f"LOGIN#{login.login_time.isoformat()}#{login.event_id}"

    @classmethod
    def login_item(cls, login: Login, alerts: list[str], expires_at: int) -> dict[str, Any]:
        time = login.login_time.isoformat()
        item: dict[str, Any] = {
            "workspace_id": _s(login.workspace_id),
            "sk": _s(cls.login_sort_key(login)),
            "event_id": _s(login.event_id),
            "account_id": _s(login.account_id),
            "region": _s(login.region),
            "directory_id": _s(login.directory_id),
            "client_ip": _s(login.client_ip),
            "client_platform": _s(login.client_platform),
            "client_product": _s(login.client_product),
            "login_time": _s(time),
            "login_date": _s(time[:10]),
            "expires_at": _n(expires_at),
        }
        if login.user_name:
            item["user_name"] = _s(login.user_name)
        if login.client_version:
            item["client_version"] = _s(login.client_version)
        if alerts:
            item["alerts"] = {"SS": sorted(alerts)}
        if login.client_platform_reported:
            item["client_platform_reported"] = _s(login.client_platform_reported)
        if login.input_notes:
            item["input_notes"] = {"L": [_s(note) for note in login.input_notes]}
        return item

    def last_login(self, target: Target, workspace_id: str) -> LastLogin | None:
        with aws_call("GetItem"):
            item = self._client.get_item(
                TableName=self.table_name, Key=last_key(target, workspace_id), ConsistentRead=True
            ).get("Item")
        if not item:
            return None
        return LastLogin(item["login_time"]["S"], item.get("user_name", {}).get("S"))

    def put_login(self, login: Login, alerts: list[str], expires_at: int) -> None:
        """Store the login; a redelivered event overwrites its own item (same key)."""
        with aws_call("PutItem"):
            self._client.put_item(TableName=self.table_name, Item=self.login_item(login, alerts, expires_at))

    def update_last_login(self, login: Login, expires_at: int) -> bool:
        """Move `LAST` forward to this login; False when a later login is already recorded."""
        names = {"#t": "login_time", "#e": "expires_at", "#i": "client_ip", "#p": "client_platform"}
        values = {
            ":t": _s(login.login_time.isoformat()),
            ":e": _n(expires_at),
            ":i": _s(login.client_ip),
            ":p": _s(login.client_platform),
        }
        update = "SET #t = :t, #e = :e, #i = :i, #p = :p"
        if login.user_name:
            names["#u"] = "user_name"
            values[":u"] = _s(login.user_name)
            update += ", #u = :u"
        return conditional_write(
            "UpdateItem",
            self._client.update_item,
            TableName=self.table_name,
            Key=last_key(login.target, login.workspace_id),
            UpdateExpression=update,
            ConditionExpression="attribute_not_exists(#t) OR #t < :t",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
        )

    def remember_network(
        self,
        target: Target,
        workspace_id: str,
        network: IPNetwork,
        seen_at: str,
        expires_at: int,
        event_id: str,
        new_if_first: bool,
    ) -> bool:
        """Record that the WorkSpace used `network`; True when this login is its new-network
        login. A network seen within retention is not new; one first seen now is new when
        `new_if_first` (the WorkSpace has history, policy.is_new_network), and that judgement is
        kept with the event id that made it, so a retry of the same event judges the same (its
        alert is sent again rather than lost). Raises AwsCallFailed."""
        key = network_key(target, workspace_id, network)
        try:
            with aws_call("UpdateItem"):
                old = self._client.update_item(
                    TableName=self.table_name,
                    Key=key,
                    UpdateExpression="SET last_seen = :s, expires_at = :e",
                    ConditionExpression="attribute_exists(last_seen)",
                    ExpressionAttributeValues={":s": _s(seen_at), ":e": _n(expires_at)},
                    ReturnValues="ALL_OLD",
                )["Attributes"]
        except PermanentAwsError as exc:
            if exc.error_code != "ConditionalCheckFailedException":
                raise
        else:
            return old.get("first_event", {}).get("S") == event_id and old.get("new", {}).get("BOOL") is True
        created = conditional_write(
            "PutItem",
            self._client.put_item,
            TableName=self.table_name,
            Item={
                **key,
                "last_seen": _s(seen_at),
                "expires_at": _n(expires_at),
                "first_event": _s(event_id),
                "new": {"BOOL": new_if_first},
            },
            ConditionExpression="attribute_not_exists(last_seen)",
        )
        return created and new_if_first  # not created: another login taught it just now

    def last_login_times(self, target: Target, workspace_ids: list[str]) -> dict[str, str]:
        """The `LAST` login time in `target` of each WorkSpace that has one (ISO 8601), 100 keys per
        BatchGetItem; only the key and `login_time` are read (no user name, no IP). Raises
        AwsCallFailed."""
        times: dict[str, str] = {}
        keys = [last_key(target, w) for w in dict.fromkeys(workspace_ids)]
        for offset in range(0, len(keys), 100):
            pending: dict[str, Any] = {
                self.table_name: {
                    "Keys": keys[offset : offset + 100],
                    "ProjectionExpression": "workspace_id, login_time",
                }
            }
            while pending:
                with aws_call("BatchGetItem"):
                    response = self._client.batch_get_item(RequestItems=pending)
                for item in response.get("Responses", {}).get(self.table_name, []):
                    if "login_time" in item:
                        times[item["workspace_id"]["S"]] = item["login_time"]["S"]
                pending = response.get("UnprocessedKeys") or {}
        return times

    def fill_user_name(self, workspace_id: str, login_sort_key: str, user_name: str) -> bool:
        """Give a login stored without a user name its user; False when the login is gone
        (expired) or already has one. Raises AwsCallFailed."""
        return conditional_write(
            "UpdateItem",
            self._client.update_item,
            TableName=self.table_name,
            Key={"workspace_id": _s(workspace_id), "sk": _s(login_sort_key)},
            UpdateExpression="SET user_name = :u",
            ConditionExpression="attribute_exists(login_time) AND attribute_not_exists(user_name)",
            ExpressionAttributeValues={":u": _s(user_name)},
        )

    def fill_last_user_name(self, target: Target, workspace_id: str, user_name: str) -> bool:
        """Give the WorkSpace's `LAST` item its user when it has none. Raises AwsCallFailed."""
        return conditional_write(
            "UpdateItem",
            self._client.update_item,
            TableName=self.table_name,
            Key=last_key(target, workspace_id),
            UpdateExpression="SET user_name = :u",
            ConditionExpression="attribute_exists(login_time) AND attribute_not_exists(user_name)",
            ExpressionAttributeValues={":u": _s(user_name)},
        )
