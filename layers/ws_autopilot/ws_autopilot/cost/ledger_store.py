"""The conversion ledger: one item per WorkSpace and month for each conversion the product made
(`<account>#<region>#<workspace id>`, `<YYYY-MM>`), claimed before the change and done after;
kept 400 days."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ws_autopilot.aws.claim_ledger import RETENTION, ClaimLedger
from ws_autopilot.aws.clients import aws_call
from ws_autopilot.core.claims import LedgerStatus
from ws_autopilot.core.models import Target
from ws_autopilot.cost.ledger import LedgerEntry


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
