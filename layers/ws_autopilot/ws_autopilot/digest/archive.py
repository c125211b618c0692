"""The reports in S3 as the monthly digest reads them, and the digests it writes.

Reports are `reports/YYYY/MM/DD/<run>.csv` (cost/report_store.py), filed under the day their run
started; digests `digests/YYYY-MM.html`, one per month, so a digest written twice replaces
itself, with the month's figures for later digests' charts beside it, `digests/YYYY-MM.json`.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from typing import Any

from aws_lambda_powertools import Logger

from ws_autopilot.aws.clients import aws_call, client
from ws_autopilot.core.errors import PermanentAwsError
from ws_autopilot.cost.report_store import REPORTS_PREFIX
from ws_autopilot.digest.chart import MonthFigures
from ws_autopilot.digest.rows import DigestRow, ReportRun, read_rows, write_rows

logger = Logger(child=True)

DIGESTS_PREFIX = "digests"


class ReportArchive:
    def __init__(self, bucket: str, s3_client: Any | None = None) -> None:
        self.bucket = bucket
        self._client = s3_client or client("s3")

    @staticmethod
    def digest_key(month: str) -> str:
        return f"{DIGESTS_PREFIX}/{month}.html"

    @staticmethod
    def figures_key(month: str) -> str:
        return f"{DIGESTS_PREFIX}/{month}.json"

    @staticmethod
    def switches_key(month: str) -> str:
        return f"{DIGESTS_PREFIX}/{month}.switches.csv"

    def month_reports(self, month: str) -> list[ReportRun]:
        """The CSV reports of every run of `month` (YYYY-MM), oldest first. A key that does not
        read as reports/YYYY/MM/DD/<run>.csv is left out. Raises AwsCallFailed."""
        return self._reports(f"{REPORTS_PREFIX}/{month.replace('-', '/')}/")

    def day_reports(self, day: date) -> list[ReportRun]:
        """The CSV reports of the runs that started on `day`, oldest first. Raises AwsCallFailed."""
        return self._reports(f"{REPORTS_PREFIX}/{day:%Y/%m/%d}/")

    def _reports(self, prefix: str) -> list[ReportRun]:
        runs: list[ReportRun] = []
        paginator = self._client.get_paginator("list_objects_v2")
        with aws_call("ListObjectsV2"):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for obj in page.get("Contents", []):
                    day = _report_day(obj["Key"])
                    if day is not None:
                        runs.append(ReportRun(obj["Key"], day, obj["LastModified"]))
        return sorted(runs, key=lambda r: (r.day, r.written_at, r.key))

    def rows(self, run: ReportRun) -> Iterator[DigestRow]:
        """The report's rows, streamed (a report of 50,000 WorkSpaces is never held whole).
        Raises AwsCallFailed."""
        with aws_call("GetObject"):
            body = self._client.get_object(Bucket=self.bucket, Key=run.key)["Body"]
            with io.TextIOWrapper(body, encoding="utf-8", newline="") as text:
                yield from read_rows(text)

    def month_figures(self, month: str) -> MonthFigures | None:
        """The figures the digest of `month` stored; None when there are none (no digest was
        written that month, NoSuchKey) or they do not read as figures (logged). Raises
        AwsCallFailed for any other failure."""
        body = self._get(self.figures_key(month))
        if body is None:
            return None
        try:
            return MonthFigures.from_json(body)
        except ValueError as exc:
            logger.warning("digest figures unreadable", extra={"month": month, "error": str(exc)})
            return None

    def carried_switches(self, month: str) -> list[DigestRow]:
        """The switches to ALWAYS_ON that the digest of `month` listed for the month after it;
        none when that digest stored none (NoSuchKey). Raises AwsCallFailed for any other failure."""
        body = self._get(self.switches_key(month))
        return [] if body is None else list(read_rows(io.StringIO(body.decode("utf-8"), newline="")))

    def write_switches(self, month: str, rows: list[DigestRow]) -> str:
        """Store `month`'s switches to ALWAYS_ON for the next month's digest. Raises AwsCallFailed."""
        key = self.switches_key(month)
        with aws_call("PutObject"):
            self._client.put_object(
                Bucket=self.bucket, Key=key, Body=write_rows(rows).encode(), ContentType="text/csv"
            )
        return key

    def _get(self, key: str) -> bytes | None:
        """The object's body; None when there is none (NoSuchKey). Raises AwsCallFailed."""
        try:
            with aws_call("GetObject"):
                body: bytes = self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except PermanentAwsError as exc:
            if exc.error_code == "NoSuchKey":
                return None
            raise
        return body

    def write_digest(self, month: str, html: str) -> str:
        """Store the month's digest (encrypted by the bucket's default key). Raises AwsCallFailed."""
        key = self.digest_key(month)
        with aws_call("PutObject"):
            self._client.put_object(
                Bucket=self.bucket, Key=key, Body=html.encode(), ContentType="text/html; charset=utf-8"
            )
        return key

    def write_figures(self, figures: MonthFigures) -> str:
        """Store the month's figures beside its digest, for the charts of the months after it.
        Raises AwsCallFailed."""
        key = self.figures_key(figures.month)
        with aws_call("PutObject"):
            self._client.put_object(
                Bucket=self.bucket, Key=key, Body=figures.to_json().encode(), ContentType="application/json"
            )
        return key


def _report_day(key: str) -> date | None:
    parts = key.split("/")
    if len(parts) != 5 or not parts[4].endswith(".csv") or parts[4].endswith(".summary.csv"):
        return None
    try:
        return date(int(parts[1]), int(parts[2]), int(parts[3]))
    except ValueError:
        return None
