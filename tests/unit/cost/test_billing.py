from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ws_autopilot.core.calendar import evaluation_window, is_last_day_of_month, month_end
from ws_autopilot.core.models import Workspace
from ws_autopilot.cost.billing import (
    billable_hours,
    connected_hours,
    idle_allowance_hours,
    is_late,
    month_end_behind_schedule,
)


def ws(mode: str, timeout: int | None = None) -> Workspace:
    return Workspace("ws-1", "d-1", "alice", "AVAILABLE", mode, "STANDARD", timeout)


def day_hours(day: int, start: int, end: int) -> list[int]:
    """Hour indexes of [start, end) o'clock on `day` (1-based) of the window."""
    return [(day - 1) * 24 + h for h in range(start, end)]


def test_rules_page_example_ten_office_days_with_one_hour_allowance_bill_80_hours():
    connected = [h for day in range(1, 11) for h in day_hours(day, 9, 16)]
    assert billable_hours(connected, elapsed_hours=30 * 24, allowance=1) == 80


def test_no_connected_hour_bills_nothing():
    assert billable_hours([], elapsed_hours=100, allowance=2) == 0


def test_gap_shorter_than_allowance_belongs_to_the_session():
    # connected 9, 10, then 13: the 2-hour gap (11, 12) is shorter than G=3 -> one session 9..13 + 3
    assert billable_hours([9, 10, 13], elapsed_hours=48, allowance=3) == 5 + 3


def test_gap_equal_to_allowance_ends_the_session():
    # gap of 2 hours (11, 12) with G=2 closes the first session: (2 + 2) + (1 + 2)
    assert billable_hours([9, 10, 13], elapsed_hours=48, allowance=2) == 4 + 3


def test_session_still_open_at_now_bills_only_the_hours_elapsed_since_its_last_connection():
    assert billable_hours([20, 21, 22, 23], elapsed_hours=24, allowance=3) == 4
    assert billable_hours([20, 21, 22], elapsed_hours=24, allowance=3) == 3 + 1
    assert billable_hours([20], elapsed_hours=24, allowance=3) == 1 + 3


def test_session_crossing_midnight_is_one_session():
    connected = day_hours(1, 22, 24) + day_hours(2, 0, 6)
    assert billable_hours(connected, elapsed_hours=72, allowance=1) == 8 + 1


def test_session_crossing_the_run_time_is_not_split_between_runs():
    # evaluated at 18:00 the session is open; evaluated the next day it bills once, in full
    connected = day_hours(1, 16, 20)
    assert billable_hours([h for h in connected if h < 18], elapsed_hours=18, allowance=1) == 2
    assert billable_hours(connected, elapsed_hours=48, allowance=1) == 4 + 1


def test_connected_hour_outside_the_window_is_rejected():
    with pytest.raises(ValueError, match="outside the window"):
        billable_hours([24], elapsed_hours=24, allowance=1)


def test_allowance_must_be_at_least_one_hour():
    with pytest.raises(ValueError, match="at least 1 hour"):
        billable_hours([1], elapsed_hours=24, allowance=0)


@pytest.mark.parametrize(
    ("mode", "timeout", "conversion_timeout", "expected"),
    [
        ("AUTO_STOP", 60, 60, 1),
        ("AUTO_STOP", 120, 60, 2),
        ("AUTO_STOP", None, 180, 1),
        ("AUTO_STOP", 90, 60, 2),
        ("AUTO_STOP", 30, 240, 1),
        ("ALWAYS_ON", None, 60, 1),
        ("ALWAYS_ON", None, 120, 2),
        ("ALWAYS_ON", None, 240, 4),
    ],
)
def test_idle_allowance_is_the_own_timeout_for_auto_stop_and_the_conversion_timeout_for_always_on(
    mode, timeout, conversion_timeout, expected
):
    assert idle_allowance_hours(ws(mode, timeout), conversion_timeout) == expected


def test_window_runs_from_the_first_of_the_month_to_now_truncated_to_the_hour():
    window = evaluation_window(datetime(2026, 11, 26, 21, 59, 59, tzinfo=UTC))
    assert window.start == datetime(2026, 11, 1, tzinfo=UTC)
    assert window.end == datetime(2026, 11, 26, 21, tzinfo=UTC)
    assert window.hours == 25 * 24 + 21


def test_window_at_midnight_on_the_first_is_empty():
    assert evaluation_window(datetime(2026, 12, 1, 0, 0, tzinfo=UTC)).hours == 0


def test_a_run_that_crosses_midnight_into_a_new_month_keeps_judging_its_own_month():
    window = evaluation_window(datetime(2026, 12, 1, 2, 30, tzinfo=UTC), run_day=date(2026, 11, 30))
    assert window.start == datetime(2026, 11, 1, tzinfo=UTC)
    assert window.end == datetime(2026, 12, 1, tzinfo=UTC)
    assert window.hours == 30 * 24


def test_a_run_that_crosses_midnight_inside_a_month_keeps_its_month_and_takes_the_new_hours():
    window = evaluation_window(datetime(2026, 11, 19, 1, 10, tzinfo=UTC), run_day=date(2026, 11, 18))
    assert (window.start, window.end) == (
        datetime(2026, 11, 1, tzinfo=UTC),
        datetime(2026, 11, 19, 1, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("day", "renews"),
    [
        (date(2026, 11, 30), datetime(2026, 12, 1, tzinfo=UTC)),
        (date(2026, 12, 31), datetime(2027, 1, 1, tzinfo=UTC)),
        (date(2028, 2, 1), datetime(2028, 3, 1, tzinfo=UTC)),
    ],
)
def test_month_end_is_midnight_utc_on_the_first_of_the_next_month(day, renews):
    assert month_end(day) == renews


def test_late_means_at_or_after_midnight_utc_on_the_first():
    assert not is_late(date(2026, 11, 30), datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC))
    assert is_late(date(2026, 11, 30), datetime(2026, 12, 1, 0, 0, tzinfo=UTC))


def test_a_month_end_run_is_behind_schedule_from_an_hour_before_midnight():
    day = date(2026, 11, 30)
    assert not month_end_behind_schedule(day, datetime(2026, 11, 30, 22, 59, tzinfo=UTC))
    assert month_end_behind_schedule(day, datetime(2026, 11, 30, 23, 0, tzinfo=UTC))
    assert month_end_behind_schedule(day, datetime(2026, 12, 1, 3, 0, tzinfo=UTC))
    assert not month_end_behind_schedule(date(2026, 11, 29), datetime(2026, 11, 29, 23, 30, tzinfo=UTC))


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
    st.integers(min_value=0, max_value=72 * 60),
)
def test_the_window_never_leaves_the_run_days_month(day, minutes_later):
    now = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(minutes=minutes_later)
    window = evaluation_window(now, run_day=day)
    assert window.start == datetime(day.year, day.month, 1, tzinfo=UTC)
    assert window.start <= window.end <= month_end(day)
    assert window.hours <= 31 * 24


def test_naive_now_is_taken_as_utc():
    assert evaluation_window(datetime(2026, 11, 2, 5, 30)).hours == 29


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 11, 30, 23, 59), True),  # 30-day month
        (datetime(2026, 12, 31, 0, 0), True),  # 31-day month
        (datetime(2026, 12, 30, 23, 0), False),
        (datetime(2028, 2, 29, 12, 0), True),  # leap February
        (datetime(2028, 2, 28, 12, 0), False),
        (datetime(2027, 2, 28, 12, 0), True),  # non-leap February
        (datetime(2026, 12, 1, 0, 0), False),
    ],
)
def test_last_day_of_month(now, expected):
    assert is_last_day_of_month(now.replace(tzinfo=UTC)) is expected


def test_connected_hours_keep_hours_with_maximum_at_least_one_inside_the_window():
    window = evaluation_window(datetime(2026, 11, 2, 0, 0, tzinfo=UTC))
    points = {
        datetime(2026, 11, 1, 9, tzinfo=UTC): 1.0,
        datetime(2026, 11, 1, 10, tzinfo=UTC): 0.0,
        datetime(2026, 11, 1, 11, tzinfo=UTC): 2.0,
        datetime(2026, 10, 31, 23, tzinfo=UTC): 1.0,  # before the window
        datetime(2026, 11, 2, 0, tzinfo=UTC): 1.0,  # at `now`: not yet a whole hour
    }
    assert connected_hours(points, window) == [9, 11]


hours_st = st.integers(min_value=1, max_value=744).flatmap(
    lambda elapsed: st.tuples(
        st.just(elapsed),
        st.sets(st.integers(min_value=0, max_value=elapsed - 1), max_size=200),
        st.integers(min_value=1, max_value=48),
    )
)


@given(hours_st)
def test_billable_hours_never_exceed_elapsed_hours_nor_fall_below_connected_hours(case):
    elapsed, connected, allowance = case
    total = billable_hours(connected, elapsed, allowance)
    assert len(connected) <= total <= elapsed


@given(hours_st, st.integers(min_value=0, max_value=743))
def test_adding_a_connected_hour_never_lowers_billable_hours(case, extra):
    elapsed, connected, allowance = case
    extra %= elapsed
    assert billable_hours(connected | {extra}, elapsed, allowance) >= billable_hours(
        connected, elapsed, allowance
    )


@given(hours_st)
def test_a_longer_allowance_never_lowers_billable_hours(case):
    elapsed, connected, allowance = case
    assert billable_hours(connected, elapsed, allowance + 1) >= billable_hours(connected, elapsed, allowance)
