"""Stops and terminations of unused WorkSpaces in the conversion ledger's table, and the run's
cap on them.

Keys (`pk`, `sk`), beside the conversions' (cost/ledger_store.py):
- `<account>#<region>#<workspace id>`, `UNUSED#<YYYY-MM>`: the stop or termination the product
  made (claimed before the call, done after) to that WorkSpace in that month; kept 400 days;
- `RUN#<run id>`, `UNUSED_ACTIONS`: the WorkSpaces the run has acted on (or, in a dry run, would
  have), a string set the cap is checked against; kept 7 days.

Every write is conditional, so two runs never both claim one WorkSpace and a run never takes
more than its cap, whatever the retries.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ws_autopilot.aws.claim_ledger import RETENTION, ClaimLedger
from ws_autopilot.aws.clients import conditional_write
from ws_autopilot.core.claims import LedgerStatus
from ws_autopilot.core.models import Target
from ws_autopilot.unused.policy import ActionEntry, UnusedPolicy

SLOTS_RETENTION = timedelta(days=7)


def entry_key(target: Target, workspace_id: str, month: str) -> dict[str, Any]:
    pk = f"{target.account_id}#{target.region}#{workspace_id}"
    return {"pk": {"S": pk}, "sk": {"S": f"UNUSED#{month}"}}


class UnusedLedger(ClaimLedger[ActionEntry]):
    """The product's record of its own stops and terminations, one entry per WorkSpace and month."""

    def key(self, target: Target, workspace_id: str, month: str) -> dict[str, Any]:
        return entry_key(target, workspace_id, month)

    def item(self, target: Target, entry: ActionEntry) -> dict[str, Any]:
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

    def entry_of(self, item: dict[str, Any]) -> ActionEntry:
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
