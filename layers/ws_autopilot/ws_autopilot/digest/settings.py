"""Settings of the monthly digest, read from its environment once, at cold start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from ws_autopilot.core.settings import parse_arn, parse_bucket, require


@dataclass(frozen=True, slots=True)
class DigestSettings:
    """The monthly digest: where the reports are, where the message goes, and the ledger table
    that remembers which months were sent."""

    report_bucket: str
    alert_topic_arn: str
    ledger_table: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DigestSettings:
        env = os.environ if env is None else env
        return cls(
            report_bucket=parse_bucket(env, "REPORT_BUCKET", "(the stack's report bucket)"),
            alert_topic_arn=parse_arn(env, "ALERT_TOPIC_ARN", "(the stack's alert topic)", "sns"),
            ledger_table=require(env, "LEDGER_TABLE", "(the stack's ledger table)"),
        )
