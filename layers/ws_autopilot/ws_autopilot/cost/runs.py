"""Facts about one optimization run shared by the functions that start and end it."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

# The state machine's TimeoutSeconds (statemachine/optimizer.asl.json): a run's lock expires
# with it at the latest, so a run that vanished can never block the next day's.
RUN_TIMEOUT = timedelta(hours=23)


class RunStatus(StrEnum):
    STARTED = "started"
    NOT_STARTED = "not_started"  # another run was in progress: this one converted nothing
    COMPLETED = "completed"
