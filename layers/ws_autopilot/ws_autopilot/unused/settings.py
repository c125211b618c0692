"""Settings of the unused-WorkSpaces check, read from the daily function's environment once, at
cold start."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ws_autopilot.core.errors import ConfigurationError
from ws_autopilot.core.settings import (
    AlertTopicSetting,
    DryRunSetting,
    LedgerTableSetting,
    composite,
    parse_bool,
    parse_choice,
    parse_int,
    require,
    setting,
    strip_ascii,
)
from ws_autopilot.unused.policy import TERMINATE_CONFIRMATION, UnusedPolicy


def parse_confirmation(env: Mapping[str, str]) -> bool:
    """ConfirmTerminateUnused: empty, or the exact phrase that confirms terminating."""
    confirmation = strip_ascii(env.get("CONFIRM_TERMINATE_UNUSED", ""))
    if confirmation not in ("", TERMINATE_CONFIRMATION):
        raise ConfigurationError(
            "CONFIRM_TERMINATE_UNUSED",
            "ConfirmTerminateUnused",
            "must be empty or {phrase}, got {value!r}",
            phrase=TERMINATE_CONFIRMATION,
            value=confirmation,
        )
    return confirmation == TERMINATE_CONFIRMATION


@dataclass(frozen=True)
class UnusedSettings(LedgerTableSetting, AlertTopicSetting, DryRunSetting):
    """Unused WorkSpaces (unused/policy.py): the window in months, what is done with them, and
    what acting needs. Terminating needs both UnusedAction=terminate and the confirmation
    parameter; without it, nothing is terminated and the report says why (the template refuses
    the pair at deploy time too), so a half-made setting never stops the daily optimization."""

    # EnableUnusedCheck=false: the daily run looks for no unused WorkSpace at all.
    enabled: bool = setting("UNUSED_CHECK", "EnableUnusedCheck", parse_bool)
    months: int = setting("UNUSED_MONTHS", "UnusedMonths", parse_int, low=1, high=12)
    policy: UnusedPolicy = setting("UNUSED_ACTION", "UnusedAction", parse_choice, choices=UnusedPolicy)
    terminate_confirmed: bool = composite(parse_confirmation, "CONFIRM_TERMINATE_UNUSED")
    max_actions_per_run: int = setting(
        "MAX_UNUSED_ACTIONS_PER_RUN", "MaxUnusedActionsPerRun", parse_int, low=1, high=500
    )
    login_table: str = setting("LOGIN_TABLE", "(the stack's login table)", require)
