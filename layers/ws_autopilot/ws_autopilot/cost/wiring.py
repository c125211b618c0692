"""What the daily run's functions are made of: the cost wing's adapters composed once per
container, and the parts made anew for each account and region a request names.

The handlers (functions/*/app.py) keep one of these in a cached `wiring()`; tests and the tools
reach the same composition through them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ws_autopilot.aws.accounts import AccountSessions
from ws_autopilot.aws.fleet import WorkspacesFleet
from ws_autopilot.aws.tags import WorkspaceTags
from ws_autopilot.aws.usage import UsageMetrics
from ws_autopilot.aws.workspace_users import WorkspaceUserMap
from ws_autopilot.core.models import Target, Usage, Workspace
from ws_autopilot.core.settings import known_compute_types
from ws_autopilot.cost.converter import Batch
from ws_autopilot.cost.ledger_store import ConversionLedger
from ws_autopilot.cost.models import ReportRow
from ws_autopilot.cost.optimizer import BatchReview, DirectoryOptimizer
from ws_autopilot.cost.price_list import PriceList
from ws_autopilot.cost.report_store import ReportStore
from ws_autopilot.cost.rightsizing_review import RightsizingReview
from ws_autopilot.cost.settings import OptimizerSettings


@dataclass(frozen=True, slots=True)
class TargetClients:
    """The adapters of one account and region that the daily pass and its reviews share: one
    WorkSpaces client, so they share the account and region's rate limit."""

    target: Target
    workspaces: Any
    fleet: WorkspacesFleet
    usage: UsageMetrics
    tags: WorkspaceTags


class UserMapReview:
    """Keeps the WorkSpace-to-user map the login function reads (aws/workspace_users.py) from
    the WorkSpaces each batch lists. Never changes a row; the map never raises."""

    def __init__(self, users: WorkspaceUserMap, target: Target) -> None:
        self.users = users
        self.target = target

    def review(
        self, rows: list[ReportRow], workspaces: list[Workspace], usage: dict[str, Usage], batch: Batch
    ) -> list[ReportRow]:
        self.users.remember(self.target, workspaces)
        return rows

    def metrics(self) -> Mapping[str, int]:
        return {}


@dataclass(frozen=True, slots=True)
class DailyPass:
    """The optimizer of one directory, with the reviews the handler adds to its batches."""

    settings: OptimizerSettings
    sessions: AccountSessions
    user_table: str
    clock: Callable[[], datetime]

    def clients(self, target: Target) -> TargetClients:
        workspaces = self.sessions.client("workspaces", target)
        fleet = WorkspacesFleet(workspaces)
        tags = WorkspaceTags(target, fleet, self.sessions.client("resourcegroupstaggingapi", target))
        return TargetClients(
            target, workspaces, fleet, UsageMetrics(self.sessions.client("cloudwatch", target)), tags
        )

    def user_map(self, target: Target) -> UserMapReview:
        return UserMapReview(WorkspaceUserMap(self.user_table, clock=self.clock), target)

    def price_list(self) -> PriceList:
        """The day's prices, one object for the optimizer and right-sizing: a region's book is
        read once per invocation."""
        return PriceList(self.settings.report_bucket, known_compute_types())

    def rightsizing(self, clients: TargetClients, prices: PriceList) -> RightsizingReview:
        return RightsizingReview(clients.usage, prices, clients.target)

    def optimizer(
        self, clients: TargetClients, reviews: Sequence[BatchReview], prices: PriceList | None = None
    ) -> DirectoryOptimizer:
        config = self.settings
        return DirectoryOptimizer(
            config,
            clients.fleet,
            clients.usage,
            ReportStore(config.report_bucket),
            ConversionLedger(config.ledger_table),
            clients.tags,
            clients.target,
            clock=self.clock,
            prices=prices or self.price_list(),
            reviews=reviews,
        )
