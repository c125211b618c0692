"""What the login function is made of, composed once per container by its handler."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ws_autopilot.aws.accounts import AccountSessions
from ws_autopilot.aws.fleet import WorkspacesFleet
from ws_autopilot.aws.notifications import Notifier
from ws_autopilot.aws.organization import OrganizationAccounts
from ws_autopilot.aws.workspace_users import WorkspaceUserMap
from ws_autopilot.core.models import Target
from ws_autopilot.core.targets import account_of_function_arn
from ws_autopilot.logins.alert_groups import AlertGroups
from ws_autopilot.logins.alerting import LoginAlerter
from ws_autopilot.logins.lookup_budget import LookupBudget
from ws_autopilot.logins.recorder import LoginRecorder
from ws_autopilot.logins.settings import LoginSettings
from ws_autopilot.logins.sources import LoginSources
from ws_autopilot.logins.store import LoginStore
from ws_autopilot.logins.user_names import UserNameCache, UserNames


class LoginWiring:
    """The accounts and regions logins may come from, and the recorder of each login."""

    def __init__(
        self,
        settings: LoginSettings,
        function_arn: str,
        sessions: AccountSessions,
        users: UserNameCache,
        clock: Callable[[], datetime],
    ) -> None:
        self.sources = LoginSources(
            settings.coverage, account_of_function_arn(function_arn), OrganizationAccounts, clock
        )
        store = LoginStore(settings.table_name)

        def fleet_for(target: Target) -> WorkspacesFleet:
            return WorkspacesFleet(sessions.client("workspaces", target))

        names = UserNames(
            WorkspaceUserMap(settings.user_table_name, clock=clock),
            LookupBudget(settings.user_table_name, settings.lookups_per_minute, clock=clock),
            store,
            fleet_for,
            users,
        )
        alerter = LoginAlerter(
            settings, Notifier(settings.alert_topic_arn), AlertGroups(settings.table_name), clock
        )
        self.recorder = LoginRecorder(settings, store, names, alerter, clock)
