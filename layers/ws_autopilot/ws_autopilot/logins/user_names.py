"""Who logged in: a WorkSpace's user name at the least WorkSpaces API cost.

Looked for in order: this container's memory, the WorkSpace's last login, the map the daily run
keeps (aws/workspace_users.py), and only then the WorkSpaces API, through the member role of
the WorkSpace's account, under the container's token bucket and the budget all invocations share
(logins/lookup_budget.py). One lookup asks for its own WorkSpace and up to 24 of those waiting
for a name in the same call, so a storm of first logins costs a call per 25 WorkSpaces.

A login that gets no name is stored without one and put on the waiting list. `settle()` fills
the name in later: when a lookup in the same account and region takes the WorkSpace along, or
at the WorkSpace's next login once the daily run has mapped it. No login waits for a name, and
none loses it for good while the WorkSpace exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from aws_lambda_powertools import Logger

from ws_autopilot.aws.fleet import PAGE_SIZE, WorkspacesFleet
from ws_autopilot.aws.workspace_users import WorkspaceUserMap
from ws_autopilot.core.errors import AwsCallFailed
from ws_autopilot.core.models import Target
from ws_autopilot.logins.lookup_budget import LookupBudget
from ws_autopilot.logins.store import LoginStore

logger = Logger(child=True)


class NameSource(StrEnum):
    MEMORY = "memory"
    LAST_LOGIN = "last_login"
    MAP = "map"
    LOOKUP = "lookup"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Resolved:
    user_name: str | None
    source: NameSource


@dataclass
class UserNameCache:
    """(account, region, WorkSpace id) -> user name. A WorkSpace belongs to one user for its
    whole life, so entries stay valid; the bound only caps memory."""

    max_entries: int = 10_000
    names: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def get(self, target: Target, workspace_id: str) -> str | None:
        return self.names.get((target.account_id, target.region, workspace_id))

    def put(self, target: Target, workspace_id: str, user_name: str) -> None:
        if len(self.names) >= self.max_entries:
            self.names.pop(next(iter(self.names)))
        self.names[(target.account_id, target.region, workspace_id)] = user_name


class UserNames:
    def __init__(
        self,
        users: WorkspaceUserMap,
        budget: LookupBudget,
        store: LoginStore,
        fleet_for: Callable[[Target], WorkspacesFleet],
        cache: UserNameCache,
    ) -> None:
        self.users = users
        self.budget = budget
        self.store = store
        self._fleet_for = fleet_for
        self._fleets: dict[Target, WorkspacesFleet] = {}
        self.cache = cache

    def resolve(self, target: Target, workspace_id: str, stored: str | None) -> Resolved:
        """The user name and where it came from. Never raises: a name that cannot be found now
        is None (NameSource.NONE), and the login is stored without it."""
        name = self.cache.get(target, workspace_id)
        if name:
            return Resolved(name, NameSource.MEMORY)
        if stored:
            self.cache.put(target, workspace_id, stored)
            return Resolved(stored, NameSource.LAST_LOGIN)
        try:
            name = self.users.user_name(target, workspace_id)
        except AwsCallFailed as exc:
            logger.warning("WorkSpace user map unreadable", extra={"error": str(exc)})
        if name:
            self.cache.put(target, workspace_id, name)
            return Resolved(name, NameSource.MAP)
        name = self._look_up(target, workspace_id)
        if name:
            self.cache.put(target, workspace_id, name)
            return Resolved(name, NameSource.LOOKUP)
        return Resolved(None, NameSource.NONE)

    def wait(self, target: Target, workspace_id: str, login_sort_key: str, since: str) -> str | None:
        """Put a login stored without a user name on the waiting list, then read the map once
        more: a lookup or the daily run may have mapped the WorkSpace meanwhile, and its settle()
        cannot have seen this login. Returns the name when it was filled in at once.
        Raises AwsCallFailed when the login cannot be put on the list (the event is retried)."""
        self.users.mark_waiting(target, workspace_id, login_sort_key, since)
        try:
            name = self.users.user_name(target, workspace_id)
        except AwsCallFailed as exc:
            logger.warning("WorkSpace user map unreadable", extra={"error": str(exc)})
            return None
        if name and self.settle(target, workspace_id, name, own_login=login_sort_key) is not None:
            return name
        return None

    def settle(
        self, target: Target, workspace_id: str, user_name: str, own_login: str | None = None
    ) -> int | None:
        """Fill `user_name` into the WorkSpace's logins stored without it (and its last login),
        then take it off the waiting list; the number of logins filled in. Never raises: on a
        failure (None) what was not filled in stays on the list for the next time."""
        try:
            keys = self.users.waiting_logins(target, workspace_id)
            if own_login:
                keys.add(own_login)
            filled = sum(self.store.fill_user_name(workspace_id, key, user_name) for key in sorted(keys))
            self.store.fill_last_user_name(target, workspace_id, user_name)
            self.users.clear_waiting(target, workspace_id)
        except AwsCallFailed as exc:
            logger.warning(
                "user name not filled in yet",
                extra={"target": str(target), "workspace_id": workspace_id, "error": str(exc)},
            )
            return None
        self.cache.put(target, workspace_id, user_name)
        return filled

    def _look_up(self, target: Target, workspace_id: str) -> str | None:
        """One DescribeWorkspaces call for this WorkSpace and up to 24 waiting ones, when the
        shared budget allows it."""
        if not self.budget.take(target):
            return None
        try:
            others = [w for w in self.users.waiting(target, PAGE_SIZE) if w != workspace_id][: PAGE_SIZE - 1]
            mapped = self.users.user_names(target, others) if others else {}
        except AwsCallFailed as exc:
            logger.warning("waiting list unreadable; looking up one WorkSpace", extra={"error": str(exc)})
            others, mapped = [], {}
        asked = [workspace_id, *(w for w in others if w not in mapped)]
        try:
            found = {w: n for w, n in self._fleet(target).user_names(asked).items() if n}
        except AwsCallFailed as exc:
            logger.warning(
                "user name not resolved; the login is stored without it",
                extra={"target": str(target), "workspace_id": workspace_id, "error": str(exc)},
            )
            return None
        try:
            self.users.put(target, found)
        except AwsCallFailed as exc:
            logger.warning("looked-up user names not mapped", extra={"error": str(exc)})
        for other in others:
            name = mapped.get(other) or found.get(other)
            if name:
                self.settle(target, other, name)
            else:
                self._give_up(target, other)
        return found.get(workspace_id)

    def _give_up(self, target: Target, workspace_id: str) -> None:
        # DescribeWorkspaces knows no such WorkSpace (terminated) or it has no user: asking
        # again would only take a place in the next lookups.
        logger.warning(
            "waiting WorkSpace has no user; its logins keep no user name",
            extra={"target": str(target), "workspace_id": workspace_id},
        )
        try:
            self.users.clear_waiting(target, workspace_id)
        except AwsCallFailed as exc:
            logger.warning("waiting list not updated", extra={"error": str(exc)})

    def _fleet(self, target: Target) -> WorkspacesFleet:
        if target not in self._fleets:
            self._fleets[target] = self._fleet_for(target)
        return self._fleets[target]
