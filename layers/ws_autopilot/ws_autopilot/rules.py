"""The billing-mode decision rules, as pure functions.

`decide()` is the whole rule set for one WorkSpace. The optimizer calls its two halves
separately, `evaluate()` then `apply_opt_out()`, so that tags are read only for WorkSpaces
whose decision would be a conversion.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from ws_autopilot.billing import (
    billable_hours,
    connected_hours,
    evaluation_window,
    idle_allowance_hours,
    is_last_day_of_month,
)
from ws_autopilot.models import (
    Action,
    Decision,
    MetricsUnavailable,
    RunningMode,
    Tags,
    TagsUnavailable,
    Usage,
    Workspace,
)

MODIFIABLE_STATES = frozenset({"AVAILABLE", "STOPPED"})
MANAGED_MODES = frozenset({RunningMode.AUTO_STOP.value, RunningMode.ALWAYS_ON.value})
SKIP_CONVERT_TAG = "Skip_Convert"
NEGATIVE_TAG_VALUES = frozenset({"false", "no", "0", "off", "n"})


def evaluate(workspace: Workspace, usage: Usage, thresholds: Mapping[str, int], now: datetime) -> Decision:
    """Rules 1-7 of the billing rules, without the tag opt-out.

    `thresholds` maps compute type to hours per month; `usage` is the month-to-date hourly
    series or the reason it could not be read.
    """
    if workspace.state not in MODIFIABLE_STATES:
        return Decision(Action.SKIPPED, f"state {workspace.state} is not modifiable")
    if workspace.running_mode not in MANAGED_MODES:
        return Decision(Action.SKIPPED, f"running mode {workspace.running_mode} is not managed")
    threshold = thresholds.get(workspace.compute_type)
    if threshold is None:
        return Decision(Action.SKIPPED, f"no threshold for {workspace.compute_type}")
    if isinstance(usage, MetricsUnavailable):
        return Decision(
            Action.ERROR,
            f"metrics unavailable: {usage.reason}",
            threshold=threshold,
            error_code="MetricsUnavailable",
        )

    window = evaluation_window(now)
    hours = billable_hours(
        connected_hours(usage.points, window), window.hours, idle_allowance_hours(workspace)
    )
    measured = {"billable_hours": hours, "threshold": threshold}

    if workspace.running_mode == RunningMode.AUTO_STOP:
        if hours > threshold:
            return Decision(Action.TO_ALWAYS_ON, f"billable {hours} h > threshold {threshold} h", **measured)
        return Decision(Action.NONE, f"billable {hours} h <= threshold {threshold} h", **measured)

    if window.hours > 0 and not usage.has_datapoints:
        return Decision(
            Action.ERROR,
            "no UserConnected datapoints this month for an ALWAYS_ON WorkSpace",
            error_code="NoDatapoints",
            **measured,
        )
    if not is_last_day_of_month(now):
        return Decision(Action.NONE, "ALWAYS_ON is converted only on the last day of the month", **measured)
    if hours <= threshold:
        return Decision(
            Action.TO_AUTO_STOP,
            f"month-end reset: billable {hours} h <= threshold {threshold} h",
            **measured,
        )
    return Decision(Action.NONE, f"billable {hours} h > threshold {threshold} h", **measured)


def find_opt_out_tag(tags: Mapping[str, str], key: str) -> tuple[str, str] | None:
    """The (key, value) of the tag whose key equals `key` ignoring case and surrounding
    whitespace, any value, or None."""
    wanted = key.strip().casefold()
    for tag_key, value in tags.items():
        if tag_key.strip().casefold() == wanted:
            return tag_key, value
    return None


def opt_out_value_looks_negative(value: str) -> bool:
    """True for values such as `false` or `no`: they still opt out, but deserve a warning."""
    return value.strip().casefold() in NEGATIVE_TAG_VALUES


def apply_opt_out(decision: Decision, tags: Tags) -> Decision:
    """Turn a conversion into `skipped` when the WorkSpace opted out or its tags are unreadable.

    Non-conversions are returned unchanged: their tags need not be read at all.
    """
    if not decision.action.is_conversion:
        return decision
    measured = {"billable_hours": decision.billable_hours, "threshold": decision.threshold}
    if isinstance(tags, TagsUnavailable):
        return Decision(
            Action.SKIPPED,
            f"tags unreadable ({tags.error_code}); not converted",
            error_code=tags.error_code,
            **measured,
        )
    if find_opt_out_tag(tags, SKIP_CONVERT_TAG) is not None:
        return Decision(Action.SKIPPED, "Skip_Convert tag", **measured)
    return decision


def decide(
    workspace: Workspace,
    usage: Usage,
    thresholds: Mapping[str, int],
    tags: Tags,
    now: datetime,
) -> Decision:
    """The whole rule set for one WorkSpace: action, reason and billable hours."""
    return apply_opt_out(evaluate(workspace, usage, thresholds, now), tags)
