"""The run's report objects in S3: per-batch parts while directories are optimized, then one CSV
and one JSON summary per run."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from ws_autopilot.aws.clients import aws_call, client
from ws_autopilot.core.models import Target
from ws_autopilot.cost.models import ReportRow

PARTS_PREFIX = "runs"
REPORTS_PREFIX = "reports"
SPOOL_BYTES = 8 * 1024 * 1024


def part_record(row: ReportRow) -> dict[str, Any]:
    """A row as one line of a report part: dollar amounts as their exact text ("12.35"), which
    `ReportRow.from_record` reads back unchanged (a JSON number could come back as a float)."""
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in row.to_record().items()}


class ReportStore:
    def __init__(self, bucket: str, s3_client: Any | None = None) -> None:
        self.bucket = bucket
        self._client = s3_client or client("s3")

    @staticmethod
    def part_key(run_id: str, target: Target, directory_id: str, sequence: int) -> str:
        # The key depends only on where the batch starts, so a retried invocation overwrites
        # its own part instead of adding a second copy of the same WorkSpaces.
        return f"{PARTS_PREFIX}/{run_id}/parts/{target}/{directory_id}/{sequence:06d}.jsonl"

    @staticmethod
    def report_keys(run_id: str, run_date: str) -> tuple[str, str]:
        """(csv key, summary key) for a run; run_date is YYYY-MM-DD."""
        base = f"{REPORTS_PREFIX}/{run_date.replace('-', '/')}/{run_id}"
        return f"{base}.csv", f"{base}.summary.json"

    def write_part(
        self, run_id: str, target: Target, directory_id: str, sequence: int, rows: Iterable[ReportRow]
    ) -> str:
        key = self.part_key(run_id, target, directory_id, sequence)
        body = "".join(json.dumps(part_record(row)) + "\n" for row in rows)
        with aws_call("PutObject"):
            self._client.put_object(
                Bucket=self.bucket, Key=key, Body=body.encode(), ContentType="application/x-ndjson"
            )
        return key

    @staticmethod
    def targets_key(run_id: str) -> str:
        return f"{PARTS_PREFIX}/{run_id}/targets.json"

    def write_targets(self, run_id: str, targets: Iterable[Target]) -> None:
        """The accounts and regions the run covers, for its later steps to check their input against."""
        body = json.dumps([{"account_id": t.account_id, "region": t.region} for t in targets])
        with aws_call("PutObject"):
            self._client.put_object(
                Bucket=self.bucket,
                Key=self.targets_key(run_id),
                Body=body.encode(),
                ContentType="application/json",
            )

    def read_targets(self, run_id: str) -> frozenset[Target]:
        """The run's accounts and regions. Raises AwsCallFailed (NoSuchKey: a run that never
        started)."""
        return frozenset(self.read_target_list(run_id))

    def read_target_list(self, run_id: str) -> list[Target]:
        """The run's accounts and regions in the order the run lists them (the state machine's
        Distributed Map reads the same object as its items)."""
        with aws_call("GetObject"):
            body = self._client.get_object(Bucket=self.bucket, Key=self.targets_key(run_id))["Body"].read()
        return [Target(t["account_id"], t["region"]) for t in json.loads(body)]

    @staticmethod
    def skipped_key(run_id: str) -> str:
        return f"{PARTS_PREFIX}/{run_id}/skipped.json"

    def write_skipped(self, run_id: str, skipped: Iterable[tuple[Target, str]]) -> None:
        """The accounts and regions the run does not cover though configured (WorkSpaces not
        offered there), each with the reason, for the report."""
        body = json.dumps(
            [{"account_id": t.account_id, "region": t.region, "error": why} for t, why in skipped]
        )
        with aws_call("PutObject"):
            self._client.put_object(
                Bucket=self.bucket,
                Key=self.skipped_key(run_id),
                Body=body.encode(),
                ContentType="application/json",
            )

    def read_skipped(self, run_id: str) -> list[dict[str, Any]]:
        """What write_skipped wrote: account_id, region and error of each."""
        with aws_call("GetObject"):
            body = self._client.get_object(Bucket=self.bucket, Key=self.skipped_key(run_id))["Body"].read()
        return list(json.loads(body))

    @staticmethod
    def results_prefix(run_id: str) -> str:
        """Where the state machine's Distributed Map writes its child executions' results."""
        return f"{PARTS_PREFIX}/{run_id}/results"

    def read_map_results(self, manifest_key: str) -> Iterator[dict[str, Any]]:
        """The outcome of every child execution of a Distributed Map, from what Step Functions'
        ResultWriter wrote (a manifest.json naming result files by status, each a JSON array of
        executions). A succeeded child gives its output; any other gives its input with `error`
        set to its error name, or to its status when it has none (aborted, timed out)."""
        with aws_call("GetObject"):
            manifest = json.loads(
                self._client.get_object(Bucket=self.bucket, Key=manifest_key)["Body"].read()
            )
        for status, files in sorted(manifest["ResultFiles"].items()):
            for result_file in files:
                with aws_call("GetObject"):
                    body = self._client.get_object(Bucket=self.bucket, Key=result_file["Key"])["Body"].read()
                for execution in json.loads(body):
                    if status == "SUCCEEDED":
                        yield dict(json.loads(execution["Output"]))
                    else:
                        failed = dict(json.loads(execution["Input"]))
                        yield {**failed, "error": execution.get("Error") or execution.get("Status") or status}

    def write_note(self, run_id: str, target: Target, directory_id: str, name: str, text: str) -> None:
        """Something the run's summary must say about a directory (written once per name: a
        retried invocation overwrites its own note)."""
        key = f"{PARTS_PREFIX}/{run_id}/notes/{target}/{directory_id}/{name}.txt"
        with aws_call("PutObject"):
            self._client.put_object(Bucket=self.bucket, Key=key, Body=text.encode(), ContentType="text/plain")

    def read_notes(self, run_id: str) -> list[str]:
        """The run's notes, in key order."""
        notes = []
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{PARTS_PREFIX}/{run_id}/notes/"):
            for obj in sorted(page.get("Contents", []), key=lambda o: o["Key"]):
                notes.append(
                    self._client.get_object(Bucket=self.bucket, Key=obj["Key"])["Body"].read().decode()
                )
        return notes

    def read_parts(self, run_id: str) -> Iterator[ReportRow]:
        """Every row of every part of the run, parts in key order (account, region, directory, sequence)."""
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{PARTS_PREFIX}/{run_id}/parts/"):
            for obj in sorted(page.get("Contents", []), key=lambda o: o["Key"]):
                body = self._client.get_object(Bucket=self.bucket, Key=obj["Key"])["Body"].read()
                for line in body.decode().splitlines():
                    if line.strip():
                        yield ReportRow.from_record(json.loads(line))

    def write_report(
        self, run_id: str, run_date: str, csv_text: Iterable[str], summary: dict[str, Any]
    ) -> tuple[str, str]:
        """The CSV (written piece by piece to a temporary file that spills to disk past 8 MB,
        and sent from it, so the whole text is never in memory twice) and the summary."""
        csv_key, summary_key = self.report_keys(run_id, run_date)
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as body:
            for piece in csv_text:
                body.write(piece.encode())
            body.seek(0)
            self._client.put_object(Bucket=self.bucket, Key=csv_key, Body=body, ContentType="text/csv")
        summary = {**summary, "report_key": csv_key}
        self._client.put_object(
            Bucket=self.bucket,
            Key=summary_key,
            Body=json.dumps(summary, indent=2).encode(),
            ContentType="application/json",
        )
        return csv_key, summary_key
