"""The login storm benchmark's checks can fail: a storm over budget or with lost logins is reported."""

from tools.bench_logins import check


def figures(**changes):
    base = {
        "logins": 10_000,
        "minutes": 10,
        "lookups_per_minute": 20,
        "stored": 10_000,
        "duplicates": 0,
        "seen_asked": 0,
        "workspaces_calls": 200,
        "busiest_minute": 20,
        "still_unnamed": 12,
        "waiting_at_end": 12,
        "peak_rss_mb": 400.0,
    }
    return {**base, **changes}


def test_a_storm_within_every_target_passes():
    result = check(figures())
    assert result["checks_passed"], result["checks"]


def test_a_lost_or_doubled_login_fails():
    assert not check(figures(stored=9_999))["checks"]["every login stored, once"]
    assert not check(figures(duplicates=1))["checks_passed"]


def test_calls_past_the_budget_or_for_mapped_workspaces_fail():
    assert not check(figures(workspaces_calls=5_000))["checks"]["WorkSpaces calls within the shared budget"]
    assert not check(figures(busiest_minute=21))["checks_passed"]
    assert not check(figures(seen_asked=3))["checks"][
        "no WorkSpaces call for a WorkSpace the daily run listed"
    ]


def test_names_neither_filled_in_nor_waiting_fail():
    assert not check(figures(still_unnamed=13, waiting_at_end=12))["checks_passed"]
