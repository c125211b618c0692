"""One optimization run at a time: taking and releasing the run lock (docs/cost.md, "Memory
across runs"; D-054 in docs/decisions.md).

A run that finds the lock held by a running execution does not start. A holder whose execution
has ended without releasing it (failed, stopped by hand) is replaced; any doubt about the holder
counts as running.
"""

from __future__ import annotations

from datetime import datetime

from aws_lambda_powertools import Logger

from ws_autopilot.aws.executions import Executions
from ws_autopilot.core.errors import AwsCallFailed, TransientAwsError
from ws_autopilot.cost.run_lock_store import LockHolder, RunLock
from ws_autopilot.cost.runs import RUN_TIMEOUT

logger = Logger(child=True)


def take_lock(
    lock: RunLock, executions: Executions, run_id: str, execution_arn: str, started_at: str, now: datetime
) -> LockHolder | None:
    """Take the lock for this execution: None when taken, else the run that holds it.

    Raises TransientAwsError when the lock changed hands between two reads (Step Functions
    retries), AwsCallFailed when the table cannot be reached.
    """
    started = datetime.fromisoformat(started_at.replace("Z", "+00:00"))
    me = LockHolder(run_id, execution_arn, started_at, int((started + RUN_TIMEOUT).timestamp()))
    if lock.acquire(me, now):
        return None
    holder = lock.holder()
    if holder is None or not executions.is_running(holder.execution_arn):
        logger.info("replacing the lock of an ended run", extra={"holder": holder and holder.run_id})
        if lock.acquire(me, now, replacing=holder):
            return None
        holder = lock.holder()
    if holder is None:  # released and taken again between our reads
        raise TransientAwsError("PutItem", "RunLockContended")
    return holder


def release_lock(lock: RunLock, run_id: str) -> None:
    """The report is written: the next run may start. A lock that cannot be released is taken
    over by the next run once this execution has ended, so a failure is logged, not raised."""
    try:
        if not lock.release(run_id):
            logger.warning("run lock already released or taken over", extra={"run_id": run_id})
    except AwsCallFailed as exc:
        logger.warning("run lock not released", extra={"run_id": run_id, "error": str(exc)})
