"""The payloads the state machine passes between the optimizer's functions (typed, validated)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

DIRECTORY_ID = r"^d-[0-9a-f]{10}$"
RUN_ID = r"^[A-Za-z0-9_.:-]{1,80}$"
RUN_DATE = r"^\d{4}-\d{2}-\d{2}$"


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class StartRun(_Payload):
    """Input of ListDirectories: the execution's name and start time."""

    run_id: str = Field(pattern=RUN_ID)
    started_at: str = Field(min_length=10)


class ContinuationModel(_Payload):
    next_token: str | None = None
    sequence: int = Field(default=0, ge=0)


class OptimizeDirectoryRequest(_Payload):
    run_id: str = Field(pattern=RUN_ID)
    run_date: str = Field(pattern=RUN_DATE)
    directory_id: str = Field(pattern=DIRECTORY_ID)
    continuation: ContinuationModel | None = None


class DirectoryResult(_Payload):
    """One Map iteration's output: finished, or failed after retries (`error` set)."""

    directory_id: str
    done: bool = False
    error: str | None = None


class WriteReportRequest(_Payload):
    run_id: str = Field(pattern=RUN_ID)
    run_date: str = Field(pattern=RUN_DATE)
    results: list[DirectoryResult] = Field(default_factory=list)
