"""The vocabulary of the product's claim ledger, shared by the conversions (cost) and the unused
WorkSpaces actions (unused): a claim's status, its month key and when an unfinished claim is stale."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

# A claim is made and completed within one invocation (at most 15 minutes); an older claim that
# was never completed belongs to an invocation that died, and another run may take it over.
CLAIM_STALE_AFTER = timedelta(minutes=15)


class LedgerStatus(StrEnum):
    CLAIMED = "claimed"  # written before ModifyWorkspaceProperties
    DONE = "done"  # the change was made
    UNKNOWN = "unknown"  # the change was requested and its response lost: the WorkSpace's mode tells


def ledger_month(run_day: date) -> str:
    """The ledger's month key of a run: YYYY-MM of the run's day."""
    return run_day.strftime("%Y-%m")
