"""The cost optimizer's values: what it decided for a WorkSpace and the row the run's report keeps."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from ws_autopilot.core.models import RunningMode, Target


class ThresholdOrigin(StrEnum):
    """Where a WorkSpace's threshold came from (the report's `threshold_source` column)."""

    PRICE_LIST = "price_list"
    PARAMETER = "parameter"
    TAG = "tag"


class ConversionTiming(StrEnum):
    """When an AUTO_STOP WorkSpace over its threshold is switched to ALWAYS_ON (template
    parameter `ConversionTiming`; billing rules, "When to switch: the timing rule")."""

    SAVINGS = "Savings"  # when switching pays this month, else on the month's last day
    THRESHOLD = "Threshold"  # the first day its billable hours exceed the threshold


class Action(StrEnum):
    """What the optimizer decided for one WorkSpace (the report's `action` column)."""

    TO_ALWAYS_ON = "to_always_on"
    TO_AUTO_STOP = "to_auto_stop"
    NONE = "none"
    SKIPPED = "skipped"
    ERROR = "error"

    @property
    def is_conversion(self) -> bool:
        return self in (Action.TO_ALWAYS_ON, Action.TO_AUTO_STOP)

    @property
    def target_mode(self) -> RunningMode:
        if self is Action.TO_ALWAYS_ON:
            return RunningMode.ALWAYS_ON
        if self is Action.TO_AUTO_STOP:
            return RunningMode.AUTO_STOP
        raise ValueError(f"action {self.value} is not a conversion")


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of the billing rules for one WorkSpace."""

    action: Action
    reason: str
    billable_hours: int | None = None
    threshold: int | None = None
    error_code: str = ""
    late: bool = False
    measured_hours: int | None = None  # the hours of the window the use rate is taken over


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One line of the run's CSV report: one WorkSpace, what was measured, decided and done."""

    account_id: str
    region: str
    workspace_id: str
    directory_id: str
    user_name: str
    compute_type: str
    state: str
    running_mode_before: str
    running_mode_after: str
    billable_hours: int | None
    threshold: int | None
    action: Action
    reason: str
    dry_run: bool
    error_code: str
    evaluated_at: str
    late: bool = False
    threshold_source: str = ""  # "price_list", "parameter" or "tag"; "" when no threshold applied
    prices: str = ""  # the prices the threshold came from, or why the price list was not used
    # USD, from the bill model (cost/bill.py; billing rules, "Dollars in reports"); None without prices.
    month_cost: Decimal | None = None  # this month's bill so far as AWS computes it, the decision's included
    saving_this_month: Decimal | None = None  # this month's bill without the decision minus with it
    saving_next_month: Decimal | None = None  # next month's bill in the old mode minus in the new one
    # The list prices the dollars come from (ALWAYS_ON monthly, AUTO_STOP monthly, AUTO_STOP hourly)
    price_always_on_monthly: Decimal | None = None
    price_auto_stop_monthly: Decimal | None = None
    price_auto_stop_hourly: Decimal | None = None
    # Unused WorkSpaces (unused/policy.py): the latest connection known for a WorkSpace with none this
    # month (ISO 8601 UTC, "" when none is known or it was not looked up), and what was done
    # about it: "" when not unused, else "reported", "stopped", "terminated", "would stop (dry
    # run)", "would terminate (dry run)", "held: <reason>", "failed: <code>" or "unknown: <reason>".
    last_connection: str = ""
    unused_action: str = ""
    # What DescribeWorkspaces says of the WorkSpace's kind (core/models.py): "PRIMARY" or "STANDBY"
    # in multi-region resilience, "" with no related WorkSpace; its WorkspaceCategory ("PERSONAL",
    # "AGENTIC"...), "" when the API does not say. Standby and agentic ones are never converted.
    workspace_role: str = ""
    workspace_category: str = ""
    # Hours an AUTO_STOP WorkSpace ran this month with nobody connected that no session explains
    # (cost/billing.py `unattended_hours`; report only, billable_hours leave them out); None for
    # a WorkSpace not AUTO_STOP, set aside (standby, agentic), or whose usage was unreadable.
    unattended_hours: int | None = None
    # Right-sizing, on the month's last day only (cost/rightsizing.py; report only, no compute type
    # is changed): the compute type one down or up to consider ("" none), next month's bill with
    # its own type minus with that one (USD, negative: it costs more; None without prices), why
    # (or why none is possible, "" when well sized or not judged), and the 95th percentile of
    # the hourly CPUUsage and MemoryUsage judged (percent; None when not read).
    rightsize_to: str = ""
    rightsize_saving_next_month: Decimal | None = None
    rightsize_note: str = ""
    cpu_p95: int | None = None
    memory_p95: int | None = None

    @classmethod
    def error(
        cls,
        target: Target,
        workspace_id: str,
        directory_id: str,
        reason: str,
        error_code: str,
        dry_run: bool,
        evaluated_at: str,
    ) -> ReportRow:
        """A row for what could not even be evaluated (a malformed record, an unfinished
        directory, an account or region that could not be read)."""
        return cls(
            account_id=target.account_id,
            region=target.region,
            workspace_id=workspace_id,
            directory_id=directory_id,
            user_name="",
            compute_type="",
            state="",
            running_mode_before="",
            running_mode_after="",
            billable_hours=None,
            threshold=None,
            action=Action.ERROR,
            reason=reason,
            dry_run=dry_run,
            error_code=error_code,
            evaluated_at=evaluated_at,
        )

    @classmethod
    def columns(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def to_record(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.columns()}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> ReportRow:
        """The row whose `to_record()` (read back from JSON) is `record`. A field the record lacks
        reads as None (`late`: False; the text columns added later: ""), as the record's values
        are not checked; dollar amounts are read back from the text the report parts hold."""
        values: dict[str, Any] = {name: record.get(name) for name in cls.columns()}
        return cls(
            account_id=values["account_id"],
            region=values["region"],
            workspace_id=values["workspace_id"],
            directory_id=values["directory_id"],
            user_name=values["user_name"],
            compute_type=values["compute_type"],
            state=values["state"],
            running_mode_before=values["running_mode_before"],
            running_mode_after=values["running_mode_after"],
            billable_hours=values["billable_hours"],
            threshold=values["threshold"],
            action=Action(values["action"]),
            reason=values["reason"],
            dry_run=values["dry_run"],
            error_code=values["error_code"],
            evaluated_at=values["evaluated_at"],
            late=bool(values["late"]),
            threshold_source=values["threshold_source"] or "",
            prices=values["prices"] or "",
            month_cost=_money(values["month_cost"]),
            saving_this_month=_money(values["saving_this_month"]),
            saving_next_month=_money(values["saving_next_month"]),
            price_always_on_monthly=_money(values["price_always_on_monthly"]),
            price_auto_stop_monthly=_money(values["price_auto_stop_monthly"]),
            price_auto_stop_hourly=_money(values["price_auto_stop_hourly"]),
            last_connection=values["last_connection"] or "",
            unused_action=values["unused_action"] or "",
            workspace_role=values["workspace_role"] or "",
            workspace_category=values["workspace_category"] or "",
            unattended_hours=values["unattended_hours"],
            rightsize_to=values["rightsize_to"] or "",
            # a part written before D-219 (a deploy during a month-end run) has the old name
            rightsize_saving_next_month=_money(
                values["rightsize_saving_next_month"] or record.get("rightsize_saving_per_month")
            ),
            rightsize_note=values["rightsize_note"] or "",
            cpu_p95=values["cpu_p95"],
            memory_p95=values["memory_p95"],
        )


def _money(value: object) -> Decimal | None:
    """A dollar amount read back from a report part (written as text); None stays None."""
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not a dollar amount: {value!r}") from exc
