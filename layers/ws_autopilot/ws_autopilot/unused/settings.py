"""Settings of the unused-WorkSpaces check, read from the daily function's environment once, at cold start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from ws_autopilot.core.errors import ConfigurationError
from ws_autopilot.core.settings import parse_arn, parse_bool, parse_int, require, strip_ascii
from ws_autopilot.unused.policy import TERMINATE_CONFIRMATION, UnusedPolicy


@dataclass(frozen=True, slots=True)
class UnusedSettings:
    """Unused WorkSpaces (unused.py): the window in months, what is done with them, and what
    acting needs. Terminating needs both UnusedAction=terminate and the confirmation parameter;
    without it, nothing is terminated and the report says why (the template refuses the pair at
    deploy time too), so a half-made setting never stops the daily optimization."""

    months: int
    policy: UnusedPolicy
    terminate_confirmed: bool
    max_actions_per_run: int
    dry_run: bool
    login_table: str
    alert_topic_arn: str
    ledger_table: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> UnusedSettings:
        env = os.environ if env is None else env
        policy_text = require(env, "UNUSED_ACTION", "UnusedAction")
        if policy_text not in {p.value for p in UnusedPolicy}:
            raise ConfigurationError(
                "UNUSED_ACTION",
                "UnusedAction",
                "must be report, stop or terminate, got {value!r}",
                value=policy_text,
            )
        confirmation = strip_ascii(env.get("CONFIRM_TERMINATE_UNUSED", ""))
        if confirmation not in ("", TERMINATE_CONFIRMATION):
            raise ConfigurationError(
                "CONFIRM_TERMINATE_UNUSED",
                "ConfirmTerminateUnused",
                "must be empty or {phrase}, got {value!r}",
                phrase=TERMINATE_CONFIRMATION,
                value=confirmation,
            )
        return cls(
            months=parse_int(env, "UNUSED_MONTHS", "UnusedMonths", 1, 12),
            policy=UnusedPolicy(policy_text),
            terminate_confirmed=confirmation == TERMINATE_CONFIRMATION,
            max_actions_per_run=parse_int(
                env, "MAX_UNUSED_ACTIONS_PER_RUN", "MaxUnusedActionsPerRun", 1, 500
            ),
            dry_run=parse_bool(env, "DRY_RUN", "DryRun"),
            login_table=require(env, "LOGIN_TABLE", "(the stack's login table)"),
            alert_topic_arn=parse_arn(env, "ALERT_TOPIC_ARN", "(the stack's alert topic)", "sns"),
            ledger_table=require(env, "LEDGER_TABLE", "(the stack's ledger table)"),
        )
