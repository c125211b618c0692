"""The billing-mode decision rules, as pure functions.

`decide()` is the whole rule set for one WorkSpace. Before rule 1, `not_judged()` sets aside the
WorkSpaces the rules do not apply to whatever their state: standby WorkSpaces of multi-region
resilience and WorkSpaces that are not for a person (agentic ones). The optimizer calls the
rules' two halves separately, `evaluate()` then `apply_opt_out()`, so that a WorkSpace whose
tags could not be read is only held back when its decision would be a conversion.
`choose_threshold()` says which threshold a WorkSpace is judged by: its `Autopilot_Threshold`
tag, else the break-even of its prices, else its compute type's parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from fractions import Fraction

from ws_autopilot.core.calendar import HOUR, Window, evaluation_window, is_last_day_of_month, to_utc
from ws_autopilot.core.models import (
    MetricsUnavailable,
    RunningMode,
    Tags,
    TagsUnavailable,
    Usage,
    Workspace,
    WorkspaceCategory,
)
from ws_autopilot.core.opt_out import find_opt_out_tag
from ws_autopilot.cost.bill import cents, switch_extra_cost, switching_pays, use_rate
from ws_autopilot.cost.billing import (
    DEFAULT_AUTO_STOP_TIMEOUT_MINUTES,
    billable_hours,
    connected_hours,
    idle_allowance_hours,
    is_late,
    measured_hours,
    unattended_hours,
)
from ws_autopilot.cost.hibernation import NoHibernationTypes, no_hibernation_rule
from ws_autopilot.cost.models import Action, ConversionTiming, Decision, ThresholdOrigin
from ws_autopilot.cost.pricing import BundlePrices, NoPrice, Priced

MODIFIABLE_STATES = frozenset({"AVAILABLE", "STOPPED"})
MANAGED_MODES = frozenset({RunningMode.AUTO_STOP.value, RunningMode.ALWAYS_ON.value})
SKIP_CONVERT_TAG = "Skip_Convert"
THRESHOLD_TAG = "Autopilot_Threshold"
MIN_MEASURED_HOURS = 168  # a week (billing rules, "Partial months"): less is too little to reset on
MAX_THRESHOLD_HOURS = 744  # the hours of a 31-day month, as the threshold parameters allow
NEGATIVE_TAG_VALUES = frozenset({"false", "no", "0", "off", "n"})
STANDBY_REASON = "standby WorkSpace (multi-region resilience): not converted"
AGENTIC_REASON = "agentic WorkSpace: no billing rule for WorkSpaces without user sessions; not converted"


@dataclass(frozen=True, slots=True)
class Threshold:
    """The threshold one WorkSpace is judged by, where it came from (None: it has none) and the
    prices behind it, or why the price list was not used. `invalid` names an unusable
    `Autopilot_Threshold` tag: the WorkSpace is then an `error` and nothing is converted."""

    hours: int | None
    source: ThresholdOrigin | None
    prices: str
    invalid: str = ""


def not_judged(workspace: Workspace) -> str:
    """Why the billing rules do not apply to the WorkSpace at all, whatever its state and use;
    "" when they do. A standby WorkSpace is idle by design until its primary fails, and its use
    says nothing about its bill; an agentic WorkSpace works without user sessions, the only use
    the billable hours count; a category the product does not know has no rule either."""
    if workspace.is_standby:
        return STANDBY_REASON
    if workspace.category == WorkspaceCategory.AGENTIC:
        return AGENTIC_REASON
    if not workspace.is_personal:
        return f"WorkSpace category {workspace.category}: no billing rule for it; not converted"
    return ""


def is_evaluated(workspace: Workspace) -> bool:
    """True when the billing rules judge the WorkSpace past rules 1 and 2 (its threshold, tags and
    prices matter): not set aside by `not_judged`, in a modifiable state and a managed mode."""
    return (
        not not_judged(workspace)
        and workspace.state in MODIFIABLE_STATES
        and workspace.running_mode in MANAGED_MODES
    )


def threshold_tag(tags: Mapping[str, str]) -> int | str | None:
    """The hours an `Autopilot_Threshold` tag sets (key compared as `Skip_Convert`'s: any case,
    surrounding whitespace ignored): an int; a str saying why the tag is invalid; None: no tag.

    The value must be a whole number of hours from 0 to 744 in ASCII digits, surrounding spaces
    allowed, as the threshold parameters take."""
    wanted = THRESHOLD_TAG.casefold()
    values = [(k, v) for k, v in tags.items() if k.strip().casefold() == wanted]
    if not values:
        return None
    if len({v.strip() for _, v in values}) > 1:
        given = ", ".join(f"{k!r}={v!r}" for k, v in values)
        return f"tag {THRESHOLD_TAG} is given {len(values)} times with different values ({given})"
    key, value = values[0]
    text = value.strip(" \t")
    if text.isascii() and text.isdigit() and len(text) <= 3 and int(text) <= MAX_THRESHOLD_HOURS:
        return int(text)
    return (
        f"tag {key.strip()} has the invalid value {value[:80]!r}: hours must be a whole number"
        f" from 0 to {MAX_THRESHOLD_HOURS}"
    )


def choose_threshold(
    workspace: Workspace,
    parameters: Mapping[str, int],
    tags: Tags | None,
    priced: Priced | NoPrice,
    *,
    use_prices: bool,
) -> Threshold:
    """The threshold of one WorkSpace: its `Autopilot_Threshold` tag (an invalid one makes it an
    error), else, with `use_prices`, the break-even of its prices, else its compute type's
    parameter (None when there is none). `tags` None or unreadable: no tag is known."""
    listed = f"; list prices {priced}" if isinstance(priced, Priced) else ""
    tagged = threshold_tag(tags) if isinstance(tags, Mapping) else None
    if isinstance(tagged, str):
        return Threshold(
            None, ThresholdOrigin.TAG, f"price list not used: invalid {THRESHOLD_TAG} tag{listed}", tagged
        )
    if tagged is not None:
        return Threshold(tagged, ThresholdOrigin.TAG, f"price list not used: {THRESHOLD_TAG} tag{listed}")
    if not use_prices:
        why = "ThresholdSource is Parameters"
    elif isinstance(priced, NoPrice):
        why = priced.reason
    else:
        why = priced.prices.break_even_problem()
        if not why:
            worked_out = f"{priced} -> {priced.prices.break_even_formula()}"
            return Threshold(priced.prices.break_even_hours(), ThresholdOrigin.PRICE_LIST, worked_out)
    parameter = parameters.get(workspace.compute_type)
    source = ThresholdOrigin.PARAMETER if parameter is not None else None
    return Threshold(parameter, source, f"price list not used: {why}{listed}")


def evaluate(
    workspace: Workspace,
    usage: Usage,
    thresholds: Mapping[str, int],
    now: datetime,
    *,
    run_day: date | None = None,
    conversion_timeout_minutes: int = DEFAULT_AUTO_STOP_TIMEOUT_MINUTES,
    chosen: Threshold | None = None,
    always_on_since: datetime | None = None,
    prices: BundlePrices | None = None,
    timing: ConversionTiming = ConversionTiming.SAVINGS,
    no_hibernation: NoHibernationTypes = NoHibernationTypes.KEEP_ALWAYS_ON,
) -> Decision:
    """Rules 1-7 of the billing rules, without the tag opt-out, once `not_judged` has set aside
    the WorkSpaces they do not apply to (`skipped`, its reason).

    `thresholds` maps compute type to hours per month; `chosen`, when given, is the WorkSpace's
    own threshold (`choose_threshold`) and replaces it. `usage` is the month-to-date hourly
    series or the reason it could not be read. `run_day` is the UTC day the run started (default:
    `now`'s day): the month and the last-day rule are that day's, however late `now` is.
    `conversion_timeout_minutes` is the AutoStop timeout a conversion to AUTO_STOP sets, which
    gives an ALWAYS_ON WorkSpace its G. `always_on_since`: when the product switched the
    WorkSpace to ALWAYS_ON this month (the ledger's); it was AUTO_STOP before, so its hours
    without datapoints then are hours it did not run, not unmeasured ones. `prices` and
    `timing`: when an AUTO_STOP WorkSpace over its threshold is switched (`timing_rule`).
    `no_hibernation`: what a month-end reset of a compute type that does not hibernate does
    (`cost.hibernation.no_hibernation_rule`: noted in its reason, or held on ALWAYS_ON).
    """
    day = run_day or to_utc(now).date()
    set_aside = not_judged(workspace)
    if set_aside:
        return Decision(Action.SKIPPED, set_aside)
    if workspace.state not in MODIFIABLE_STATES:
        return Decision(Action.SKIPPED, f"state {workspace.state} is not modifiable")
    if workspace.running_mode not in MANAGED_MODES:
        return Decision(Action.SKIPPED, f"running mode {workspace.running_mode} is not managed")
    if chosen is not None and chosen.invalid:
        return Decision(Action.ERROR, chosen.invalid, error_code="InvalidThresholdTag")
    threshold = thresholds.get(workspace.compute_type) if chosen is None else chosen.hours
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
        # Billing rules, "Partial months": an AUTO_STOP WorkSpace's hours without datapoints are
        # hours it did not run, so its whole window is measured.
        judged = Decision(
            Action.NONE, "", billable_hours=hours, threshold=threshold, measured_hours=window.hours
        )
        if hours > threshold:
            return timing_rule(judged, prices, timing, now, day)
        return replace(judged, reason=f"billable {hours} h <= threshold {threshold} h")

    measured = measured_hours(usage.points, window)
    if always_on_since is not None:  # every hour while AUTO_STOP is known: run or not
        auto_stop_hours = (
            window.hours if window.end <= always_on_since else window.hour_index(always_on_since) or 0
        )
        measured = sorted({*range(auto_stop_hours), *measured})
    if window.hours > 0 and not usage.has_datapoints:
        return Decision(
            Action.ERROR,
            "no UserConnected datapoints this month for an ALWAYS_ON WorkSpace",
            error_code="NoDatapoints",
            billable_hours=hours,
            threshold=threshold,
            measured_hours=len(measured),
        )
    if not is_last_day_of_month(day):
        return Decision(
            Action.NONE,
            "ALWAYS_ON is converted only on the last day of the month",
            billable_hours=hours,
            threshold=threshold,
            measured_hours=len(measured),
        )
    reset = month_end_reset(hours, threshold, measured, window)
    return no_hibernation_rule(reset, workspace.compute_type, no_hibernation, prices, now)


def hours_with_nobody_connected(
    workspace: Workspace,
    usage: Usage,
    now: datetime,
    run_day: date | None = None,
    *,
    reset_this_month: bool = False,
) -> int | None:
    """For a WorkSpace AUTO_STOP when listed that the billing rules judge (not set aside by
    `not_judged`), the hours of the month-to-date window it ran with nobody connected that no
    session explains (`cost.billing.unattended_hours`, with its own AutoStop timeout as G); None
    for any other WorkSpace and when its usage could not be read. `reset_this_month`: the ledger
    holds a conversion to AUTO_STOP of this month (a later run of the month-end day lists it
    AUTO_STOP): it was ALWAYS_ON all month and reported every hour, so None. Report only: no
    decision depends on it."""
    if workspace.running_mode != RunningMode.AUTO_STOP or reset_this_month or not_judged(workspace):
        return None
    if isinstance(usage, MetricsUnavailable):
        return None
    window = evaluation_window(now, run_day or to_utc(now).date())
    allowance = idle_allowance_hours(workspace, DEFAULT_AUTO_STOP_TIMEOUT_MINUTES)
    return unattended_hours(usage.points, window, allowance)


def timing_rule(
    over: Decision, prices: BundlePrices | None, timing: ConversionTiming, now: datetime, run_day: date
) -> Decision:
    """Billing rules, "When to switch": `over` is an AUTO_STOP WorkSpace over its threshold.
    `Threshold` switches it now. `Savings` switches it on the month's last day, and on another
    day only when switching now costs less for the rest of the month than staying hourly at its
    rate so far; without prices it behaves as `Threshold` and says so."""
    crossed = f"billable {over.billable_hours} h > threshold {over.threshold} h"
    convert = replace(over, action=Action.TO_ALWAYS_ON, reason=crossed)
    if timing is ConversionTiming.THRESHOLD or is_last_day_of_month(run_day):
        return convert
    if prices is None:
        return replace(convert, reason=f"{crossed} (no prices, so converted on the threshold)")
    rate = use_rate(over.billable_hours or 0, over.measured_hours or 0)
    if switching_pays(prices, rate, now):
        return convert
    extra = cents(switch_extra_cost(prices, rate, now))
    return replace(
        over,
        reason=(
            f"{crossed}, but switching today would cost ${extra} more this month than staying"
            " AUTO_STOP at this use; the month-end run converts it"
        ),
    )


def month_end_reset(hours: int, threshold: int, measured: list[int], window: Window) -> Decision:
    """Rule 6 on the month's last day for an ALWAYS_ON WorkSpace with `hours` billable hours in
    the window, of which the hours in `measured` have a datapoint (billing rules, "Partial
    months"): judged on its hours as they are when the whole window was measured, on the hours a
    whole window would have shown at the same rate when part was not, and not at all with less
    than a week measured."""
    kept = Decision(Action.NONE, "", billable_hours=hours, threshold=threshold, measured_hours=len(measured))
    if len(measured) == window.hours:
        if hours <= threshold:
            reason = f"month-end reset: billable {hours} h <= threshold {threshold} h"
            return replace(kept, action=Action.TO_AUTO_STOP, reason=reason)
        return replace(kept, reason=f"billable {hours} h > threshold {threshold} h")
    first = window.start + measured[0] * HOUR
    since = f"measured since {first:%Y-%m-%d %H:%M} UTC only ({len(measured)} of {window.hours} h)"
    if len(measured) < MIN_MEASURED_HOURS:
        return replace(
            kept, reason=f"{since}: under {MIN_MEASURED_HOURS} h, not reset; judged again next month"
        )
    whole = Fraction(hours * window.hours, len(measured))
    scaled = f"billable {hours} h, {round(whole)} h over the whole month at that rate"
    if whole <= threshold:
        reason = f"month-end reset: {scaled} <= threshold {threshold} h ({since})"
        return replace(kept, action=Action.TO_AUTO_STOP, reason=reason)
    return replace(kept, reason=f"{scaled} > threshold {threshold} h ({since})")


def mark_if_late(decision: Decision, run_day: date, at: datetime) -> Decision:
    """A conversion carried out at `at`, once the month after `run_day` has begun, is late, and
    the report's reason says what it costs (billing rules, "When to switch"): a month-end reset
    takes effect a month later; a switch to ALWAYS_ON comes after the new month started
    AUTO_STOP, so that month pays the AUTO_STOP monthly fee on top of its monthly price."""
    if not decision.action.is_conversion or not is_late(run_day, at):
        return decision
    month = to_utc(at).strftime("%B %Y")
    if decision.action is Action.TO_AUTO_STOP:
        late = f"late: made after 00:00 UTC on the 1st, billed monthly for {month} all the same"
    else:
        late = f"late: made after 00:00 UTC on the 1st, {month} pays the AUTO_STOP monthly fee as well"
    return replace(decision, reason=f"{decision.reason} ({late})", late=True)


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
    chosen: Threshold | None = None,
    prices: BundlePrices | None = None,
    timing: ConversionTiming = ConversionTiming.SAVINGS,
    no_hibernation: NoHibernationTypes = NoHibernationTypes.KEEP_ALWAYS_ON,
) -> Decision:
    """The whole rule set for one WorkSpace: action, reason and billable hours."""
    decision = evaluate(
        workspace,
        usage,
        thresholds,
        now,
        run_day=run_day,
        conversion_timeout_minutes=conversion_timeout_minutes,
        chosen=chosen,
        prices=prices,
        timing=timing,
        no_hibernation=no_hibernation,
    )
    return apply_opt_out(decision, tags)
