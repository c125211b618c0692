"""Recording one login: resolve the user, check where the login came from, store it, alert
(each alert through its group's cap, alert_groups.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from ws_autopilot.core.models import Target
from ws_autopilot.logins.alerting import LoginAlerter
from ws_autopilot.logins.events import WorkSpacesAccessEvent
from ws_autopilot.logins.policy import (
    AlertReason,
    Login,
    allow_list_violation,
    is_new_network,
    network_of,
)
from ws_autopilot.logins.settings import LoginSettings
from ws_autopilot.logins.store import LoginStore
from ws_autopilot.logins.user_names import NameSource, UserNames


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    event_id: str
    account_id: str
    region: str
    workspace_id: str
    user_name_source: NameSource
    alerts: list[str]
    held_back: list[str] = field(default_factory=list)

    @property
    def user_name_resolved(self) -> bool:
        return self.user_name_source is not NameSource.NONE

    def to_dict(self) -> dict[str, object]:
        return {
            "event_id": self.event_id,
            "account_id": self.account_id,
            "region": self.region,
            "workspace_id": self.workspace_id,
            "user_name_resolved": self.user_name_resolved,
            "user_name_source": self.user_name_source.value,
            "alerts": self.alerts,
            "alerts_held_back": self.held_back,
        }


class LoginRecorder:
    def __init__(
        self,
        settings: LoginSettings,
        store: LoginStore,
        names: UserNames,
        alerter: LoginAlerter,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.store = store
        self.names = names
        self.alerter = alerter
        self.clock = clock

    def record(self, event: WorkSpacesAccessEvent) -> LoginOutcome:
        """Store the login and publish its alerts, each within its group's cap. Raises
        AwsCallFailed when the login cannot be stored or an alert cannot be published (the event
        is then retried, then dead-lettered).

        Everything is keyed by the event's account and region as well as the WorkSpace id, so a
        WorkSpace id that two accounts share mixes neither users, histories nor networks."""
        self.alerter.tell_configuration(event.id)
        target = Target(event.account, event.region)
        workspace_id = event.detail.workspace_id
        previous = self.store.last_login(target, workspace_id)
        resolved = self.names.resolve(target, workspace_id, previous.user_name if previous else None)
        login = Login.from_event(event, resolved.user_name)
        if resolved.user_name and previous is not None and previous.user_name is None:
            self.names.settle(target, workspace_id, resolved.user_name)  # earlier logins without it
        expires_at = self._expiry(login)
        alerts = self._check(login, has_history=previous is not None, expires_at=expires_at)
        self.store.put_login(login, [a.value for a in alerts], expires_at)
        self.store.update_last_login(login, expires_at)
        source = resolved.source
        if login.user_name is None:
            late = self.names.wait(
                target, workspace_id, LoginStore.login_sort_key(login), self.clock().isoformat()
            )
            if late:  # mapped meanwhile, and filled into the login at once
                login, source = replace(login, user_name=late), NameSource.MAP
        held = [reason.value for reason in alerts if not self.alerter.send(login, reason)]
        return LoginOutcome(
            event.id, login.account_id, login.region, workspace_id, source, [a.value for a in alerts], held
        )

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
        address = login.address
        if self.settings.new_network_alerts and address is not None:
            new = self.store.remember_network(
                login.target,
                login.workspace_id,
                network_of(address),
                login.login_time.isoformat(),
                expires_at,
                login.event_id,
                new_if_first=is_new_network(False, has_history),
            )
            if new:
                alerts.append(AlertReason.NEW_NETWORK)
        return alerts
