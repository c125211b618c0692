"""The remediation benchmark's model of a scan's time in AWS."""

import pytest

from tools.bench_remediation import bucket_seconds, makespan, max_rate_excess


def test_calls_beyond_the_burst_wait_for_the_rate():
    assert bucket_seconds(2, rate=0.5, burst=2, latency=0) == 0
    assert bucket_seconds(5, rate=0.5, burst=2, latency=0) == pytest.approx(6)
    assert bucket_seconds(1, rate=0.5, burst=2, latency=0.15) == pytest.approx(0.15)
    # latency refills the bucket while the call is out: 85 calls at 0.5/s take about 166 s
    assert 160 < bucket_seconds(85, rate=0.5, burst=2, latency=0.15) < 167


def test_pairs_start_in_order_on_the_first_free_worker():
    assert makespan([10, 1, 1, 1], workers=2) == 10
    assert makespan([1, 1, 1, 10], workers=2) == 11
    assert makespan([3] * 32, workers=16) == 6
    assert makespan([], workers=16) == 0


def test_the_rate_check_can_fail():
    assert max_rate_excess([0, 0, 2, 4], rate=0.5, burst=2) <= 0
    assert max_rate_excess([0, 0, 0.5, 4], rate=0.5, burst=2) > 0
