"""Member accounts discovered from AWS Organizations (roots or organizational units)."""

from __future__ import annotations

from typing import Any

from ws_autopilot.aws.clients import aws_call, client


class OrganizationAccounts:
    def __init__(self, organizations_client: Any | None = None) -> None:
        self._client = organizations_client or client("organizations")

    def active_accounts(self, parent_ids: list[str]) -> list[str]:
        """ACTIVE accounts under each parent (a root `r-...` or an OU `ou-...`), nested OUs included."""
        accounts: list[str] = []
        pending = list(parent_ids)
        while pending:
            parent = pending.pop(0)
            for page in self._pages("list_accounts_for_parent", ParentId=parent):
                accounts += [a["Id"] for a in page["Accounts"] if a.get("Status", "ACTIVE") == "ACTIVE"]
            for page in self._pages("list_organizational_units_for_parent", ParentId=parent):
                pending += [ou["Id"] for ou in page["OrganizationalUnits"]]
        return list(dict.fromkeys(accounts))

    def _pages(self, operation: str, **request: Any) -> Any:
        paginator = self._client.get_paginator(operation)
        with aws_call(operation):
            yield from paginator.paginate(**request)
