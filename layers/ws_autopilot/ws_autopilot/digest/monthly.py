"""Sending the monthly digest: read the month's reports, build and render the digest, store it
in S3, announce it on the alert topic. The handler makes it idempotent per month (Powertools
idempotency), so a schedule that fires twice sends one message."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

from ws_autopilot.aws.notifications import Notifier
from ws_autopilot.digest.alerts import digest_alert
from ws_autopilot.digest.archive import ReportArchive
from ws_autopilot.digest.content import DigestBuilder, final_run, month_days, render

logger = Logger(child=True)


class MonthlyDigest:
    def __init__(self, archive: ReportArchive, notifier: Notifier, clock: Callable[[], datetime]) -> None:
        self.archive = archive
        self.notifier = notifier
        self.clock = clock

    def send(self, month: str) -> dict[str, Any]:
        """Write `month`'s digest to S3 and publish one `monthly_digest` message; the message's
        body. Raises ValueError for a month that is not YYYY-MM, AwsCallFailed when S3 or SNS
        fail (nothing is published then)."""
        month_days(month)  # a clear error for a bad month before any call
        runs = self.archive.month_reports(month)
        builder = DigestBuilder(month, final=final_run(runs))
        for run in runs:
            builder.add(run, self.archive.rows(run))
        digest = builder.digest(self.clock())
        key = self.archive.write_digest(month, render(digest))
        location = f"s3://{self.archive.bucket}/{key}"
        message = digest_alert(digest, location)
        self.notifier.send(message)
        logger.info("monthly digest sent", extra={"month": month, "digest": location, "runs": digest.runs})
        return message.body
