"""The billing-mode decision rules, as pure functions.

`decide()` is the whole rule set for one WorkSpace. The optimizer calls its two halves
separately, `evaluate()` then `apply_opt_out()`, so that tags are read only for WorkSpaces
whose decision would be a conversion.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime

from ws_autopilot.billing import (
    DEFAULT_AUTO_STOP_TIMEOUT_MINUTES,
    billable_hours,
    connected_hours,
    evaluation_window,
    idle_allowance_hours,
    is_last_day_of_month,
    is_late,
    to_utc,
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


def evaluate(
    workspace: Workspace,
    usage: Usage,
    thresholds: Mapping[str, int],
    now: datetime,
    *,
    run_day: date | None = None,
    conversion_timeout_minutes: int = DEFAULT_AUTO_STOP_TIMEOUT_MINUTES,
) -> Decision:
    """Rules 1-7 of the billing rules, without the tag opt-out.

    `thresholds` maps compute type to hours per month; `usage` is the month-to-date hourly
    series or the reason it could not be read. `run_day` is the UTC day the run started (default:
    `now`'s day): the month and the last-day rule are that day's, however late `now` is.
    `conversion_timeout_minutes` is the AutoStop timeout a conversion to AUTO_STOP sets, which
    gives an ALWAYS_ON WorkSpace its G.
    """
    day = run_day or to_utc(now).date()
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

    window = evaluation_window(now, day)
    allowance = idle_allowance_hours(workspace, conversion_timeout_minutes)
    hours = billable_hours(connected_hours(usage.points, window), window.hours, allowance)

    if workspace.running_mode == RunningMode.AUTO_STOP:
        if hours > threshold:
            return Decision(
                Action.TO_ALWAYS_ON,
                f"billable {hours} h > threshold {threshold} h",
                billable_hours=hours,
                threshold=threshold,
            )
        return Decision(
            Action.NONE,
            f"billable {hours} h <= threshold {threshold} h",
            billable_hours=hours,
            threshold=threshold,
        )

    if window.hours > 0 and not usage.has_datapoints:
        return Decision(
            Action.ERROR,
            "no UserConnected datapoints this month for an ALWAYS_ON WorkSpace",
            error_code="NoDatapoints",
            billable_hours=hours,
            threshold=threshold,
        )
    if not is_last_day_of_month(day):
        return Decision(
            Action.NONE,
            "ALWAYS_ON is converted only on the last day of the month",
            billable_hours=hours,
            threshold=threshold,
        )
    if hours <= threshold:
        return Decision(
            Action.TO_AUTO_STOP,
            f"month-end reset: billable {hours} h <= threshold {threshold} h",
            billable_hours=hours,
            threshold=threshold,
        )
    return Decision(
        Action.NONE,
        f"billable {hours} h > threshold {threshold} h",
        billable_hours=hours,
        threshold=threshold,
    )


def mark_if_late(decision: Decision, run_day: date, at: datetime) -> Decision:
    """A month-end reset carried out at `at`, once the month after `run_day` has begun, is late:
    it takes effect a month later, and the report's reason says so."""
    if decision.action is not Action.TO_AUTO_STOP or not is_late(run_day, at):
        return decision
    month = to_utc(at).strftime("%B %Y")
    late = f"late: made after 00:00 UTC on the 1st, billed monthly for {month} all the same"
    return replace(decision, reason=f"{decision.reason} ({late})", late=True)


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
    if isinstance(tags, TagsUnavailable):
        return Decision(
            Action.SKIPPED,
            f"tags unreadable ({tags.error_code}); not converted",
            error_code=tags.error_code,
            billable_hours=decision.billable_hours,
            threshold=decision.threshold,
        )
    if find_opt_out_tag(tags, SKIP_CONVERT_TAG) is not None:
        return Decision(
            Action.SKIPPED,
            "Skip_Convert tag",
            billable_hours=decision.billable_hours,
            threshold=decision.threshold,
        )
    return decision


def decide(
    workspace: Workspace,
    usage: Usage,
    thresholds: Mapping[str, int],
    tags: Tags,
    now: datetime,
    *,
    run_day: date | None = None,
    conversion_timeout_minutes: int = DEFAULT_AUTO_STOP_TIMEOUT_MINUTES,
) -> Decision:
    """The whole rule set for one WorkSpace: action, reason and billable hours."""
    decision = evaluate(
        workspace,
        usage,
        thresholds,
        now,
        run_day=run_day,
        conversion_timeout_minutes=conversion_timeout_minutes,
    )
    return apply_opt_out(decision, tags)
