"""Hours an AUTO_STOP WorkSpace ran with nobody connected that no session explains (issue 20,
item 5): read from the same hourly UserConnected series as the billable hours, report only."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from tests.support.fleet import usage_series
from ws_autopilot.core.calendar import evaluation_window
from ws_autopilot.core.models import HourlyUsage, MetricsUnavailable, Workspace
from ws_autopilot.cost.billing import billable_hours, unattended_hours
from ws_autopilot.cost.rules import hours_with_nobody_connected

START = datetime(2026, 11, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 30, 21, 5, tzinfo=UTC)
WINDOW = evaluation_window(NOW)


def series(connected: list[int], running: list[int]) -> dict[datetime, float]:
    """A series as an AUTO_STOP WorkSpace reports it: 1 in connected hours, 0 in the other
    hours it ran, nothing while stopped (hour indexes of the window)."""
    points = {START + timedelta(hours=h): 0.0 for h in running}
    points.update({START + timedelta(hours=h): 1.0 for h in connected})
    return points


def test_sessions_as_autostop_ends_them_leave_nothing_unexplained():
    # connected 9-16 on day 1, G = 1: it runs until 17:00 (the timeout), and AWS may take a few
    # minutes into 18:00 to stop; it was started at 08:xx for its user
    assert unattended_hours(series(list(range(9, 17)), [8, 17, 18]), WINDOW, allowance=1) == 0


def test_hours_beyond_the_timeout_and_its_stop_are_counted():
    # connected at 9, G = 2: 10 and 11 are the timeout, 12 the stop; 13-15 ran for nobody
    assert unattended_hours(series([9], list(range(10, 16))), WINDOW, allowance=2) == 3


def test_a_workspace_that_never_stops_shows_almost_every_hour():
    office = [d * 24 + h for d in range(WINDOW.hours // 24) for h in range(9, 17) if d % 7 < 5]
    every_hour = list(range(WINDOW.hours))
    found = unattended_hours(series(office, every_hour), WINDOW, allowance=1)
    explained = {h + k for h in office for k in (-1, 0, 1, 2)}
    assert found == WINDOW.hours - len(explained) > 400


def test_running_for_maintenance_with_no_connection_at_all_is_counted_and_nothing_is_billed():
    points = series([], [0, 1, 2, 3, 4])
    assert unattended_hours(points, WINDOW, allowance=1) == 5
    assert billable_hours([], WINDOW.hours, 1) == 0


def test_datapoints_outside_the_window_are_not_counted():
    points = series([], [WINDOW.hours, WINDOW.hours + 3])
    points[START - timedelta(hours=2)] = 0.0
    assert unattended_hours(points, WINDOW, allowance=1) == 0


@given(
    st.sets(st.integers(0, 200), max_size=60),
    st.sets(st.integers(0, 200), max_size=120),
    st.integers(1, 4),
)
def test_unattended_hours_are_the_running_hours_no_connected_hour_reaches(connected, other, allowance):
    running = connected | other
    expected = sum(1 for h in running if not any(c - 1 <= h <= c + allowance + 1 for c in connected))
    assert unattended_hours(series(sorted(connected), sorted(running)), WINDOW, allowance) == expected


def test_the_simulators_usage_profiles_give_what_they_say():
    def found(profile: str) -> int:
        return unattended_hours(dict(usage_series(profile, "AUTO_STOP", START, WINDOW.end)), WINDOW, 1)

    assert found("office") == found("night_shift") == found("two_short_sessions") == 0
    assert found("office_with_maintenance") == 5  # Monday 16 November, 00:00-05:00
    assert found("never_stops") > 400


def ws(mode: str = "AUTO_STOP", timeout: int | None = 120, **changes: str) -> Workspace:
    own_timeout = timeout if mode == "AUTO_STOP" else None
    made = Workspace("ws-1", "d-1", "alice", "AVAILABLE", mode, "STANDARD", own_timeout)
    return replace(made, **changes)


def test_only_auto_stop_workspaces_the_rules_judge_have_the_figure():
    usage = HourlyUsage(series([9], list(range(10, 20))))
    # its own timeout of 120 minutes: G = 2, so 10-12 are explained and 13-19 are not
    assert hours_with_nobody_connected(ws(), usage, NOW) == 7
    assert hours_with_nobody_connected(ws(mode="ALWAYS_ON"), usage, NOW) is None
    assert hours_with_nobody_connected(ws(category="AGENTIC"), usage, NOW) is None
    assert hours_with_nobody_connected(ws(role="STANDBY"), usage, NOW) is None
    assert hours_with_nobody_connected(ws(), MetricsUnavailable("GetMetricData failed"), NOW) is None


def test_a_workspace_reset_this_month_was_always_on_all_month_and_has_no_figure():
    every_hour = HourlyUsage(series([9], list(range(WINDOW.hours))))
    assert hours_with_nobody_connected(ws(), every_hour, NOW, reset_this_month=True) is None


def test_a_run_crossing_midnight_counts_its_own_month_only():
    usage = HourlyUsage(series([], [0, 1, 2]) | {datetime(2026, 12, 1, 0, tzinfo=UTC): 0.0})
    after_midnight = datetime(2026, 12, 1, 0, 40, tzinfo=UTC)
    assert hours_with_nobody_connected(ws(), usage, after_midnight, NOW.date()) == 3
