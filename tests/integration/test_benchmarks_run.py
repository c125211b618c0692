"""The login storm benchmark runs end to end on a small storm (`make bench-logins` is not part of
`make test`; this keeps it runnable: it once failed for weeks unseen, when a module it loads
under its frozen clock gained a pydantic model)."""

import os
from unittest import mock

import pytest

from tests.support import bench_logins


@pytest.mark.slow
def test_the_login_storm_benchmark_runs_and_passes_its_checks_on_a_small_storm(capsys):
    with mock.patch.dict(os.environ):
        status = bench_logins.main(["--logins", "20", "--minutes", "1"])
    printed = capsys.readouterr().out
    assert status == 0, printed[-3000:]
    assert "[ok] every login stored, once" in printed
