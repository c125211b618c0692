"""The unused check of one account and region, composed for the daily pass of its directory
(functions/optimize_directory), which adds it to its batch reviews."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ws_autopilot.aws.notifications import Notifier
from ws_autopilot.cost.wiring import TargetClients
from ws_autopilot.logins.store import LoginStore
from ws_autopilot.unused.actor import UnusedActor
from ws_autopilot.unused.api import UnusedWorkspacesApi
from ws_autopilot.unused.ledger_store import UnusedLedger
from ws_autopilot.unused.review import EvidenceReader, UnusedReview
from ws_autopilot.unused.settings import UnusedSettings


def unused_review(
    settings: UnusedSettings, clients: TargetClients, clock: Callable[[], datetime]
) -> UnusedReview:
    """The unused check of `clients.target`; its WorkSpaces client is the optimizer's, so both
    share the account and region's rate limit."""
    api = UnusedWorkspacesApi(clients.workspaces)
    target = clients.target
    actor = UnusedActor(
        settings,
        api,
        UnusedLedger(settings.ledger_table),
        clients.tags,
        Notifier(settings.alert_topic_arn),
        target,
        clock,
    )
    reader = EvidenceReader(clients.usage, LoginStore(settings.login_table), api, target)
    return UnusedReview(settings, reader, actor)
