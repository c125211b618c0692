"""Sending login alerts: each through its group's cap (alert_groups.py), and the allow-list's
configuration alert once a day for all containers together."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from aws_lambda_powertools import Logger

from ws_autopilot.aws.notifications import Notifier
from ws_autopilot.logins.alert_groups import AlertGroups, Turn, day_window, hour_window
from ws_autopilot.logins.alerts import alert_group, allow_list_alert, login_alert
from ws_autopilot.logins.policy import AlertReason, Login
from ws_autopilot.logins.settings import LoginSettings

logger = Logger(child=True)
CONFIGURATION_KEPT = timedelta(days=2)


class LoginAlerter:
    def __init__(
        self,
        settings: LoginSettings,
        notifier: Notifier,
        groups: AlertGroups,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.notifier = notifier
        self.groups = groups
        self.clock = clock
        self._configuration_told: str | None = None  # the day this container's share was settled
        if settings.allowed_networks.ignored:  # once per container, at cold start
            logger.warning(
                "AllowedClientNetworks: entries ignored",
                extra={"ignored": list(settings.allowed_networks.ignored)},
            )

    def send(self, login: Login, reason: AlertReason) -> bool:
        """Publish the alert when its group has room this hour (True), else count it (False).
        Raises AwsCallFailed (the event is retried, and keeps its place in the group)."""
        now = self.clock()
        cap = self.settings.alerts_per_network_hour
        turn = self.groups.take(
            reason.value,
            alert_group(login, reason),
            login.event_id,
            hour_window(now),
            cap,
            now.isoformat(),
            int((now + timedelta(days=self.settings.retention_days)).timestamp()),
        )
        if turn.turn is Turn.HOLD:
            return False
        self.notifier.send(login_alert(login, reason, self.settings.allowed_networks, turn, cap))
        return True

    def tell_configuration(self, event_id: str) -> None:
        """While AllowedClientNetworks has ignored entries: one alert a day for all containers
        (a group of cap 1 per day and parameter value); each container asks once a day.
        Raises AwsCallFailed."""
        allow_list = self.settings.allowed_networks
        now = self.clock()
        day = day_window(now)
        if not allow_list.ignored or self._configuration_told == day:
            return
        turn = self.groups.take(
            AlertReason.ALLOW_LIST_INVALID.value,
            hashlib.sha256(allow_list.text.encode()).hexdigest()[:16],
            event_id,
            day,
            1,
            now.isoformat(),
            int((now + CONFIGURATION_KEPT).timestamp()),
        )
        if turn.turn is Turn.SEND:
            self.notifier.send(allow_list_alert(allow_list))
        self._configuration_told = day
