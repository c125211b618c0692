"""Sending the monthly digest: read the previous months' figures, the reports of the previous
month's last day and of the month, build and render the digest, store it and its figures in S3,
announce it on the alert topic. The handler makes it idempotent per month (Powertools
idempotency), so a schedule that fires twice sends one message."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

from ws_autopilot.aws.notifications import Notifier
from ws_autopilot.digest.alerts import digest_alert
from ws_autopilot.digest.archive import ReportArchive
from ws_autopilot.digest.chart import chart_months
from ws_autopilot.digest.content import DigestBuilder, final_run, month_days, previous_day, render

logger = Logger(child=True)


class MonthlyDigest:
    def __init__(self, archive: ReportArchive, notifier: Notifier, clock: Callable[[], datetime]) -> None:
        self.archive = archive
        self.notifier = notifier
        self.clock = clock

    def send(self, month: str) -> dict[str, Any]:
        """Write `month`'s digest and its figures to S3 and publish one `monthly_digest` message;
        the message's body. Raises ValueError for a month that is not YYYY-MM, AwsCallFailed when S3 or SNS
        fail (nothing is published then)."""
        month_days(month)  # a clear error for a bad month before any call
        # the chart's earlier months first: a failure shows before 50,000-row reports are read
        history = [(m, self.archive.month_figures(m)) for m in chart_months(month)[:-1]]
        before = previous_day(month)
        carried = self.archive.carried_switches(f"{before:%Y-%m}")
        runs = self.archive.month_reports(month)
        builder = DigestBuilder(month, final=final_run(runs))
        builder.carry(carried)
        for run in self.archive.day_reports(before):
            builder.add_previous(run, self.archive.rows(run))
        for run in runs:
            builder.add(run, self.archive.rows(run))
        digest = builder.digest(self.clock(), history)
        key = self.archive.write_digest(month, render(digest))
        if digest.runs:  # a month whose reports are gone keeps what its first digest stored
            self.archive.write_figures(digest.figures)
            self.archive.write_switches(month, builder.in_effect.carry_forward())
        location = f"s3://{self.archive.bucket}/{key}"
        message = digest_alert(digest, location)
        self.notifier.send(message)
        logger.info("monthly digest sent", extra={"month": month, "digest": location, "runs": digest.runs})
        return message.body
