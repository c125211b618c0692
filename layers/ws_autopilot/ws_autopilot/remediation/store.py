"""Remediation state in DynamoDB, with optimistic locking so two scans never act twice.

Partition key `pk`:
- `<account>#<region>#<workspace id>`: the WorkSpace's remediation record (`version` guards
  every write), under remediation or only remembered for a day after it (recoveries, the last
  alert to a person);
- `DIR#<account>#<region>#<directory id>`: whether the directory's circuit breaker is open;
- `REBUILDS#<YYYY-MM-DD>`: rebuilds made that day in every account and region (a conditional
  counter).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from ws_autopilot.aws.clients import aws_call, client, conditional_write
from ws_autopilot.core.models import Target
from ws_autopilot.remediation.policy import MEMORY, Phase, Record

RETENTION = timedelta(days=30)  # records hold no personal data; old ones expire all the same


def record_key(target: Target, workspace_id: str) -> str:
    return f"{target.account_id}#{target.region}#{workspace_id}"


def _expiry(record: Record, now: datetime) -> datetime:
    """A remembered record lives as long as what it remembers; any other one RETENTION."""
    if record.phase is Phase.REMEMBERED:
        return max([*record.recoveries, record.escalated_at or now]) + MEMORY
    return now + RETENTION


def _item(record: Record, version: int, now: datetime) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": {"S": record_key(record.target, record.workspace_id)},
        "account_id": {"S": record.target.account_id},
        "region": {"S": record.target.region},
        "workspace_id": {"S": record.workspace_id},
        "directory_id": {"S": record.directory_id},
        "phase": {"S": record.phase.value},
        "unhealthy_since": {"S": record.unhealthy_since.isoformat()},
        "reboots": {"N": str(record.reboots)},
        "rebuilt": {"BOOL": record.rebuilt},
        "last_notice": {"S": record.last_notice},
        "paused_in": {"S": record.paused_in},
        "refusals": {"N": str(record.refusals)},
        "refusal_code": {"S": record.refusal_code},
        "recoveries": {"L": [{"S": t.isoformat()} for t in record.recoveries]},
        "version": {"N": str(version)},
        "expires_at": {"N": str(int(_expiry(record, now).timestamp()))},
    }
    for name, value in (
        ("last_action_at", record.last_action_at),
        ("settled_at", record.settled_at),
        ("refused_at", record.refused_at),
        ("escalated_at", record.escalated_at),
    ):
        if value is not None:
            item[name] = {"S": value.isoformat()}
    return item


def _optional_time(item: dict[str, Any], name: str) -> datetime | None:
    text = item.get(name, {}).get("S")
    return datetime.fromisoformat(text) if text else None


def _record(item: dict[str, Any]) -> Record:
    return Record(
        target=Target(item["account_id"]["S"], item["region"]["S"]),
        workspace_id=item["workspace_id"]["S"],
        directory_id=item["directory_id"]["S"],
        phase=Phase(item["phase"]["S"]),
        unhealthy_since=datetime.fromisoformat(item["unhealthy_since"]["S"]),
        reboots=int(item["reboots"]["N"]),
        rebuilt=item["rebuilt"]["BOOL"],
        last_action_at=_optional_time(item, "last_action_at"),
        last_notice=item.get("last_notice", {}).get("S", ""),
        version=int(item["version"]["N"]),
        paused_in=item.get("paused_in", {}).get("S", ""),
        settled_at=_optional_time(item, "settled_at"),
        refusals=int(item.get("refusals", {}).get("N", "0")),
        refusal_code=item.get("refusal_code", {}).get("S", ""),
        refused_at=_optional_time(item, "refused_at"),
        recoveries=tuple(datetime.fromisoformat(t["S"]) for t in item.get("recoveries", {}).get("L", [])),
        escalated_at=_optional_time(item, "escalated_at"),
    )


class RemediationStore:
    def __init__(self, table_name: str, dynamodb_client: Any | None = None) -> None:
        self.table_name = table_name
        self._client = dynamodb_client or client("dynamodb")

    def records(self) -> dict[Target, dict[str, Record]]:
        """Every WorkSpace record (under remediation or remembered), by account and region, then
        by WorkSpace id: one read of the table per scan, whatever the number of pairs."""
        records: dict[Target, dict[str, Record]] = {}
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "ConsistentRead": True,
            "FilterExpression": "attribute_exists(workspace_id)",
        }
        while True:
            with aws_call("Scan"):
                response = self._client.scan(**request)
            for item in response.get("Items", []):
                record = _record(item)
                records.setdefault(record.target, {})[record.workspace_id] = record
            if "LastEvaluatedKey" not in response:
                return records
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def save(self, record: Record, previous: Record | None, now: datetime) -> Record | None:
        """Write `record` if the stored one is still `previous` (None: no record yet). Returns the
        record as stored (its new version), or None when another scan changed it first."""
        version = (previous.version if previous else 0) + 1
        condition = (
            {"ConditionExpression": "attribute_not_exists(pk)"}
            if previous is None
            else {
                "ConditionExpression": "version = :v",
                "ExpressionAttributeValues": {":v": {"N": str(previous.version)}},
            }
        )
        if not self._conditional("PutItem", Item=_item(record, version, now), **condition):
            return None
        return replace(record, version=version)

    def delete(self, previous: Record) -> bool:
        """Forget a WorkSpace if its record is still `previous`; False when another scan changed it."""
        return self._conditional(
            "DeleteItem",
            Key={"pk": {"S": record_key(previous.target, previous.workspace_id)}},
            ConditionExpression="version = :v",
            ExpressionAttributeValues={":v": {"N": str(previous.version)}},
        )

    def set_breaker(self, target: Target, directory_id: str, is_open: bool, now: datetime) -> bool:
        """Record the directory's breaker state; True when it changed (announce it)."""
        with aws_call("UpdateItem"):
            old = self._client.update_item(
                TableName=self.table_name,
                Key={"pk": {"S": f"DIR#{target.account_id}#{target.region}#{directory_id}"}},
                UpdateExpression="SET breaker_open = :o, expires_at = :e",
                ExpressionAttributeValues={
                    ":o": {"BOOL": is_open},
                    ":e": {"N": str(int((now + RETENTION).timestamp()))},
                },
                ReturnValues="ALL_OLD",
            ).get("Attributes", {})
        return bool(old.get("breaker_open", {}).get("BOOL", False)) != is_open

    def take_rebuild_slot(self, day: str, limit: int, now: datetime) -> bool:
        """Count one rebuild for `day` unless `limit` are counted already (in every account and
        region together)."""
        if limit <= 0:
            return False
        return self._conditional(
            "UpdateItem",
            Key={"pk": {"S": f"REBUILDS#{day}"}},
            UpdateExpression="ADD rebuilds :one SET expires_at = :e",
            ConditionExpression="attribute_not_exists(rebuilds) OR rebuilds < :limit",
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                ":limit": {"N": str(limit)},
                ":e": {"N": str(int((now + RETENTION).timestamp()))},
            },
        )

    def _conditional(self, operation: str, **request: Any) -> bool:
        call = {
            "PutItem": self._client.put_item,
            "DeleteItem": self._client.delete_item,
            "UpdateItem": self._client.update_item,
        }[operation]
        return conditional_write(operation, call, TableName=self.table_name, **request)
