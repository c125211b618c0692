"""Realized savings (digest/realized.py): each conversion in effect in the month that ended, its
bill without the product minus its bill as it was, worked out with the billing rules' bill model.

Prices throughout: STANDARD Windows, M = 35.00 (ALWAYS_ON monthly), F = 9.75 (AUTO_STOP monthly),
p = 0.30 (AUTO_STOP hourly); November 2026 has L = 720 hours."""

from datetime import date
from decimal import Decimal

import pytest

from ws_autopilot.digest.realized import (
    CHANGED_BY_HAND,
    NO_HOURS,
    NO_HOURS_BEFORE,
    NO_TIME,
    NOT_IN_FINAL,
    NOT_PRICED,
    ConversionsInEffect,
    FinalFacts,
    RealizedMonth,
    carried_saving,
    realized_saving,
)
from ws_autopilot.digest.rows import DigestRow, read_rows, write_rows

NOVEMBER = date(2026, 11, 1)
RESET_AT = "2026-10-31T12:05:00+00:00"  # the month-end run of October 31
SWITCH_AT = "2026-11-13T21:05:00+00:00"  # 410 h 55 min before December 1


def row(workspace_id: str, action: str, evaluated_at: str = SWITCH_AT, **changes) -> DigestRow:
    values = {
        "account_id": "123456789012",
        "region": "us-east-1",
        "workspace_id": workspace_id,
        "directory_id": "d-1",
        "user_name": "u",
        "compute_type": "STANDARD",
        "state": "AVAILABLE",
        "running_mode_before": "ALWAYS_ON" if action == "to_auto_stop" else "AUTO_STOP",
        "running_mode_after": "AUTO_STOP" if action == "to_auto_stop" else "ALWAYS_ON",
        "action": action,
        "reason": "",
        "dry_run": False,
        "error_code": "",
        "billable_hours": 64,
        "evaluated_at": evaluated_at,
        "price_always_on_monthly": Decimal("35.00"),
        "price_auto_stop_monthly": Decimal("9.75"),
        "price_auto_stop_hourly": Decimal("0.30"),
        **changes,
    }
    return DigestRow(**values)


def reset(workspace_id: str = "ws-r", evaluated_at: str = RESET_AT, **changes) -> DigestRow:
    return row(workspace_id, "to_auto_stop", evaluated_at, **changes)


def switch(workspace_id: str = "ws-s", evaluated_at: str = SWITCH_AT, **changes) -> DigestRow:
    return row(workspace_id, "to_always_on", evaluated_at, **changes)


def auto_stop(hours: int | None) -> FinalFacts:
    return FinalFacts(hours, "AUTO_STOP")


# -- a reset made at the end of October, in effect all November -----------------------------------
def test_a_reset_kept_all_month_saved_m_minus_its_hourly_bill():
    saved = realized_saving("to_auto_stop", reset(), auto_stop(45), NOVEMBER)
    # without: ALWAYS_ON all November, M; as it was: F + p x 45 = 9.75 + 13.50
    assert (saved.without, saved.as_billed, saved.saving) == (
        Decimal("35.00"),
        Decimal("23.25"),
        Decimal("11.75"),
    )


def test_a_reset_whose_user_came_back_cost_more():
    saved = realized_saving("to_auto_stop", reset(), auto_stop(120), NOVEMBER)
    assert saved.as_billed == Decimal("45.75") and saved.saving == Decimal("-10.75")  # 9.75 + 36.00


def test_a_reset_switched_back_by_the_product_pays_the_overlap():
    back = switch("ws-r", billable_hours=64)
    saved = realized_saving("to_auto_stop", reset(), FinalFacts(150, "ALWAYS_ON"), NOVEMBER, back)
    # F + p x 64 + M x 410.9167 / 720 = 9.75 + 19.20 + 19.975 = 48.925 -> 48.93
    assert (saved.without, saved.as_billed, saved.saving) == (
        Decimal("35.00"),
        Decimal("48.93"),
        Decimal("-13.93"),
    )


def test_a_reset_set_back_to_always_on_by_someone_else_is_not_guessed():
    saved = realized_saving("to_auto_stop", reset(), FinalFacts(150, "ALWAYS_ON"), NOVEMBER)
    assert (saved.saving, saved.problem) == (None, CHANGED_BY_HAND)


# -- a switch to ALWAYS_ON made in November ---------------------------------------------------------
def test_a_switch_on_the_13th_saved_the_hourly_bill_minus_the_overlap():
    saved = realized_saving("to_always_on", switch(billable_hours=64), FinalFacts(150, "ALWAYS_ON"), NOVEMBER)
    # without: AUTO_STOP all November, F + p x 150 = 9.75 + 45.00; as it was: 48.93 (above)
    assert (saved.without, saved.as_billed, saved.saving) == (
        Decimal("54.75"),
        Decimal("48.93"),
        Decimal("5.82"),
    )


def test_a_switch_made_too_early_for_the_use_that_followed_shows_negative():
    saved = realized_saving("to_always_on", switch(billable_hours=64), FinalFacts(70, "ALWAYS_ON"), NOVEMBER)
    assert saved.without == Decimal("30.75") and saved.saving == Decimal("-18.18")  # 30.75 - 48.93


def test_a_late_switch_of_the_october_31_run_bills_november_from_its_time():
    late = switch(evaluated_at="2026-11-01T00:20:00+00:00", late=True, billable_hours=200)
    saved = realized_saving("to_always_on", late, FinalFacts(150, "ALWAYS_ON"), NOVEMBER)
    # 200 h are October's; November's before 00:20 are none: 9.75 + 35 x (720 - 1/3) / 720
    assert (saved.as_billed, saved.saving) == (Decimal("44.73"), Decimal("10.02"))


@pytest.mark.parametrize(
    ("conversion", "final", "problem"),
    [
        (switch(price_auto_stop_hourly=None), FinalFacts(150, "ALWAYS_ON"), NOT_PRICED),
        (switch(), None, NOT_IN_FINAL),
        (switch(), FinalFacts(None, "ALWAYS_ON"), NO_HOURS),
        (switch(evaluated_at=""), FinalFacts(150, "ALWAYS_ON"), NO_TIME),
        (switch(billable_hours=None), FinalFacts(150, "ALWAYS_ON"), NO_HOURS_BEFORE),
        (switch(evaluated_at="2026-12-01T00:05:00+00:00"), FinalFacts(150, "ALWAYS_ON"), NO_TIME),
    ],
)
def test_what_the_reports_cannot_say_is_named_never_guessed(conversion, final, problem):
    saved = realized_saving("to_always_on", conversion, final, NOVEMBER)
    assert (saved.without, saved.as_billed, saved.saving, saved.problem) == (None, None, None, problem)


# -- which conversions count for November ------------------------------------------------------------
def in_effect(previous: list[DigestRow], month: list[DigestRow]) -> ConversionsInEffect:
    found = ConversionsInEffect()
    for r in previous:
        found.add_previous(r)
    for r in month:
        found.add(r)
    return found


def test_only_conversions_carried_out_with_effect_in_the_month_count():
    found = in_effect(
        previous=[
            reset("ws-reset"),
            reset("ws-late-reset", late=True, evaluated_at="2026-11-01T00:10:00+00:00"),
            reset("ws-dry-reset", dry_run=True),
            switch("ws-october-switch", "2026-10-31T12:05:00+00:00"),  # October's
            switch("ws-late-switch", "2026-11-01T00:20:00+00:00", late=True),
        ],
        month=[
            switch("ws-switch"),
            switch("ws-dry-switch", dry_run=True),
            switch("ws-december-switch", "2026-12-01T00:30:00+00:00", late=True),  # December's
            reset("ws-month-end-reset", evaluated_at="2026-11-30T12:05:00+00:00"),  # December's
        ],
    )
    assert set(found.resets) == {("123456789012", "us-east-1", "ws-reset")}
    assert [k[2] for k in found.late_resets] == ["ws-late-reset"]
    assert sorted(k[2] for k in found.switches) == ["ws-late-switch", "ws-switch"]


def test_a_reset_switched_back_counts_once_as_a_reset():
    found = in_effect([reset("ws-1")], [switch("ws-1"), switch("ws-2")])
    final = {("123456789012", "us-east-1", w): FinalFacts(150, "ALWAYS_ON") for w in ("ws-1", "ws-2")}
    settled = found.settle(NOVEMBER, final)
    assert [(s.conversion.workspace_id, s.direction) for s in settled] == [
        ("ws-1", "to_auto_stop"),
        ("ws-2", "to_always_on"),
    ]
    assert settled[0].switched_back is not None and settled[0].saving == Decimal("-13.93")


# -- the month's figures --------------------------------------------------------------------------------
def month_of(*savings) -> RealizedMonth:
    return RealizedMonth(NOVEMBER, list(savings), previous_reports=1, late_resets=0)


def test_totals_largest_and_the_ones_that_cost_more():
    savings = [
        realized_saving("to_auto_stop", reset(f"ws-{h:03d}"), auto_stop(h), NOVEMBER)
        for h in range(0, 150, 10)
    ]
    unpriced = realized_saving(
        "to_auto_stop", reset("ws-x", price_auto_stop_monthly=None), auto_stop(1), NOVEMBER
    )
    month = month_of(*savings, unpriced)
    # 15 resets at 0, 10, ..., 140 hours: 35 - (9.75 + 0.3 h) each
    assert month.total == sum(Decimal("25.25") - Decimal("0.3") * h for h in range(0, 150, 10))
    assert [s.saving for s in month.largest] == [Decimal("25.25") - 3 * n for n in range(9)]
    assert [s.conversion.workspace_id for s in month.cost_more] == [
        "ws-140",
        "ws-130",
        "ws-120",
        "ws-110",
        "ws-100",
        "ws-090",
    ]
    assert month.not_computed == [unpriced]
    assert month.total_of(month.of("to_always_on")) == Decimal(0)


def test_a_total_of_figures_none_could_work_out_is_unknown_not_zero():
    unpriced = realized_saving("to_auto_stop", reset(price_auto_stop_monthly=None), auto_stop(1), NOVEMBER)
    assert month_of(unpriced).total is None
    assert month_of().total == Decimal(0)


def test_a_switch_of_the_month_before_saved_this_whole_month_billed_monthly():
    # switched on October 30; November ALWAYS_ON from its 1st (M) where AUTO_STOP would have
    # billed 9.75 + 0.30 x 183 = 64.65
    carried = switch(evaluated_at="2026-10-30T21:05:00+00:00")
    found = carried_saving(carried, FinalFacts(183, "ALWAYS_ON"), NOVEMBER)
    assert (found.without, found.as_billed, found.saving) == (
        Decimal("64.65"),
        Decimal("35.00"),
        Decimal("29.65"),
    )
    assert found.carried and found.direction == "to_always_on"
    light = carried_saving(carried, FinalFacts(40, "ALWAYS_ON"), NOVEMBER)
    assert light.saving == Decimal("-13.25")  # its user stopped working: 9.75 + 12.00 - 35.00
    assert carried_saving(carried, FinalFacts(183, "AUTO_STOP"), NOVEMBER).problem == CHANGED_BY_HAND
    assert carried_saving(carried, None, NOVEMBER).problem == NOT_IN_FINAL


def test_the_months_switches_are_carried_to_the_next_digest_except_a_reset_switched_back():
    month = ConversionsInEffect()
    month.add_previous(reset("ws-back"))
    month.add(switch("ws-back"))  # reset on October 31, switched back in November: nets out
    month.add(switch("ws-heavy"))
    month.add(switch("ws-dry", dry_run=True))
    assert [r.workspace_id for r in month.carry_forward()] == ["ws-heavy"]

    following = ConversionsInEffect()
    for carried in read_rows(write_rows(month.carry_forward()).splitlines()):
        following.add_carried(carried)
    (saved,) = following.settle(date(2026, 12, 1), {switch("ws-heavy").key: FinalFacts(100, "ALWAYS_ON")})
    assert saved.carried and saved.saving == Decimal("4.75")  # 9.75 + 30.00 - 35.00


def test_the_digests_own_files_read_back_as_written():
    rows = [switch("ws-1", user_name='Doe, "Jane"\nJr', late=True), reset("ws-2", billable_hours=None)]
    assert list(read_rows(write_rows(rows).splitlines(keepends=True))) == rows
