"""The payloads the state machine passes between the optimizer's functions (typed, validated)."""

from __future__ import annotations

from collections.abc import Collection

from pydantic import BaseModel, ConfigDict, Field

from ws_autopilot.core.errors import InvalidRunInput
from ws_autopilot.core.models import Target

DIRECTORY_ID = r"^d-[0-9a-f]{10}$"
RUN_ID = r"^[A-Za-z0-9_.:-]{1,80}$"
RUN_DATE = r"^\d{4}-\d{2}-\d{2}$"
ACCOUNT_ID = r"^\d{12}$"
REGION = r"^[a-z]{2}(-[a-z]+)+-\d$"


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


EXECUTION_ARN = r"^arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:execution:[\w.-]+:[A-Za-z0-9_.:-]{1,80}$"


class StartRun(_Payload):
    """Input of ListTargets: the execution's name, id and start time."""

    run_id: str = Field(pattern=RUN_ID)
    execution_arn: str = Field(pattern=EXECUTION_ARN)
    started_at: str = Field(min_length=10)


class _TargetPayload(_Payload):
    run_id: str = Field(pattern=RUN_ID)
    run_date: str = Field(pattern=RUN_DATE)
    account_id: str = Field(pattern=ACCOUNT_ID)
    region: str = Field(pattern=REGION)

    @property
    def target(self) -> Target:
        return Target(self.account_id, self.region)


class ListDirectoriesRequest(_TargetPayload):
    """One account and region whose directories are to be listed."""


MAX_SEQUENCE = 999_999  # report parts are numbered with six digits
MAX_TOKEN = 2048


class ContinuationModel(_Payload):
    """Where a directory's optimization goes on, and which directory the token belongs to."""

    directory_id: str = Field(pattern=DIRECTORY_ID)
    next_token: str | None = Field(default=None, min_length=1, max_length=MAX_TOKEN)
    sequence: int = Field(default=0, ge=0, le=MAX_SEQUENCE)


class OptimizeDirectoryRequest(_TargetPayload):
    directory_id: str = Field(pattern=DIRECTORY_ID)
    continuation: ContinuationModel | None = None

    def check(self, covered: Collection[Target]) -> None:
        """Raise InvalidRunInput unless the run covers this account and region and the
        continuation is this directory's own."""
        check_covered(self.target, covered)
        if self.continuation is not None and self.continuation.directory_id != self.directory_id:
            raise InvalidRunInput(
                f"the continuation belongs to directory {self.continuation.directory_id}, "
                f"not {self.directory_id}"
            )


def check_covered(target: Target, covered: Collection[Target]) -> None:
    """Raise InvalidRunInput unless `target` is one of the run's accounts and regions."""
    if target not in covered:
        raise InvalidRunInput(f"account and region {target} are not covered by this run")


class DirectoryResult(_Payload):
    """One directory's outcome: finished, or failed after retries (`error` set)."""

    directory_id: str
    done: bool = False
    error: str | None = None


class TargetResult(_Payload):
    """One account and region's outcome: its directories, or why it could not be read."""

    account_id: str = Field(pattern=ACCOUNT_ID)
    region: str = Field(pattern=REGION)
    error: str | None = None
    directories: list[DirectoryResult] = Field(default_factory=list)

    @property
    def target(self) -> Target:
        return Target(self.account_id, self.region)


class ResultWriterDetails(_Payload):
    bucket: str = Field(alias="Bucket", min_length=3)
    key: str = Field(alias="Key", min_length=1, max_length=1024)


class MapRunResults(_Payload):
    """What a Distributed Map with a ResultWriter outputs: where its child executions' results are."""

    map_run_arn: str = Field(alias="MapRunArn", min_length=1)
    details: ResultWriterDetails = Field(alias="ResultWriterDetails")


class WriteReportRequest(_Payload):
    run_id: str = Field(pattern=RUN_ID)
    run_date: str = Field(pattern=RUN_DATE)
    results: MapRunResults

    def check(self, bucket: str, results_prefix: str) -> None:
        """Raise InvalidRunInput unless the results are this run's, in the report bucket."""
        details = self.results.details
        if details.bucket != bucket or not details.key.startswith(results_prefix + "/"):
            raise InvalidRunInput(
                f"results s3://{details.bucket}/{details.key} are not this run's (s3://{bucket}/{results_prefix}/)"
            )
