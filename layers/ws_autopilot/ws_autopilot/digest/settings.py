"""Settings of the monthly digest, read from its environment once, at cold start."""

from __future__ import annotations

from dataclasses import dataclass

from ws_autopilot.core.settings import AlertTopicSetting, LedgerTableSetting, ReportBucketSetting


@dataclass(frozen=True)
class DigestSettings(LedgerTableSetting, AlertTopicSetting, ReportBucketSetting):
    """The monthly digest: where the reports are, where the message goes, and the ledger table
    that remembers which months were sent."""
