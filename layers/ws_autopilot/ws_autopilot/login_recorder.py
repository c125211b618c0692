"""Recording one login: resolve the user, check where the login came from, store it, alert."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aws_lambda_powertools import Logger

from ws_autopilot.access_events import WorkSpacesAccessEvent
from ws_autopilot.adapters.fleet import WorkspacesFleet
from ws_autopilot.adapters.logins import LoginStore
from ws_autopilot.adapters.notifications import Notifier
from ws_autopilot.errors import AwsCallFailed
from ws_autopilot.logins import (
    AlertReason,
    Login,
    allow_list_violation,
    is_new_network,
    network_of,
    parse_client_ip,
)
from ws_autopilot.settings import LoginSettings

logger = Logger(child=True)

ALERT_SUBJECTS = {
    AlertReason.OUTSIDE_ALLOWED_NETWORKS: "WorkSpaces login from outside the allowed networks",
    AlertReason.NO_CLIENT_IP: "WorkSpaces login without a client IP address",
    AlertReason.UNPARSEABLE_CLIENT_IP: "WorkSpaces login with an unreadable client IP address",
    AlertReason.NEW_NETWORK: "WorkSpaces login from a network not used before",
}


@dataclass
class UserNameCache:
    """WorkSpace id -> user name. A WorkSpace belongs to one user for its whole life, so entries
    stay valid; the bound only caps memory."""

    max_entries: int = 10_000
    names: dict[str, str] = field(default_factory=dict)

    def get(self, workspace_id: str) -> str | None:
        return self.names.get(workspace_id)

    def put(self, workspace_id: str, user_name: str) -> None:
        if len(self.names) >= self.max_entries:
            self.names.pop(next(iter(self.names)))
        self.names[workspace_id] = user_name


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    event_id: str
    workspace_id: str
    user_name_resolved: bool
    alerts: list[str]

    def to_dict(self) -> dict[str, object]:
        return {
            "event_id": self.event_id,
            "workspace_id": self.workspace_id,
            "user_name_resolved": self.user_name_resolved,
            "alerts": self.alerts,
        }


class LoginRecorder:
    def __init__(
        self,
        settings: LoginSettings,
        store: LoginStore,
        fleet: WorkspacesFleet,
        notifier: Notifier,
        users: UserNameCache,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.store = store
        self.fleet = fleet
        self.notifier = notifier
        self.users = users
        self.clock = clock

    def record(self, event: WorkSpacesAccessEvent) -> LoginOutcome:
        """Store the login and publish its alerts. Raises AwsCallFailed when the login cannot be
        stored or an alert cannot be published (the event is then retried, then dead-lettered)."""
        workspace_id = event.detail.workspace_id
        previous = self.store.last_login(workspace_id)
        login = Login.from_event(
            event, self._user_name(workspace_id, previous.user_name if previous else None)
        )
        expires_at = self._expiry(login)
        alerts = self._check(login, has_history=previous is not None, expires_at=expires_at)
        self.store.put_login(login, [a.value for a in alerts], expires_at)
        self.store.update_last_login(login, expires_at)
        for reason in alerts:
            self.notifier.publish(reason.value, ALERT_SUBJECTS[reason], self._alert_body(login, reason))
        return LoginOutcome(event.id, workspace_id, login.user_name is not None, [a.value for a in alerts])

    def _user_name(self, workspace_id: str, stored: str | None) -> str | None:
        name = self.users.get(workspace_id) or stored
        if name is None:
            try:
                name = self.fleet.user_names([workspace_id]).get(workspace_id) or None
            except AwsCallFailed as exc:
                logger.warning(
                    "user name not resolved; the login is stored without it",
                    extra={"workspace_id": workspace_id, "error": str(exc)},
                )
                return None
        if name:
            self.users.put(workspace_id, name)
        return name

    def _expiry(self, login: Login) -> int:
        # From the login time, but never later than from now: a login time in the future must
        # not keep personal data longer than the retention period.
        start = min(login.login_time, self.clock())
        return int((start + timedelta(days=self.settings.retention_days)).timestamp())

    def _check(self, login: Login, has_history: bool, expires_at: int) -> list[AlertReason]:
        alerts = []
        violation = allow_list_violation(login.client_ip, self.settings.allowed_networks)
        if violation:
            alerts.append(violation)
        address = parse_client_ip(login.client_ip)
        if self.settings.new_network_alerts and address is not None:
            seen = self.store.remember_network(
                login.workspace_id, network_of(address), login.login_time.isoformat(), expires_at
            )
            if is_new_network(seen, has_history):
                alerts.append(AlertReason.NEW_NETWORK)
        return alerts

    def _alert_body(self, login: Login, reason: AlertReason) -> dict[str, object]:
        address = parse_client_ip(login.client_ip)
        return {
            "alert": reason.value,
            "user_name": login.user_name or "(not resolved)",
            "workspace_id": login.workspace_id,
            "directory_id": login.directory_id,
            "client_ip": login.client_ip or "(empty)",
            "client_network": str(network_of(address)) if address else None,
            "client_platform": login.client_platform,
            "client_product": login.client_product,
            "client_version": login.client_version,
            "login_time": login.login_time.isoformat(),
            "event_id": login.event_id,
            "allowed_networks": [str(n) for n in self.settings.allowed_networks],
        }
