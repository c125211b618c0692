"""Virtual time for botocore's retry backoff and adaptive rate limiter, and for the product's
own WorkSpaces rate limiter.

The retries and the rate limiting still happen (same attempts, same decisions, same order), but
every wait advances a virtual clock instead of sleeping. Tests of throttling storms finish in
seconds, and `waited` tells how long the calls would have waited.
"""

from __future__ import annotations

import sys
import threading
import time
import types
from datetime import timedelta
from typing import Any

import botocore.endpoint
import botocore.retries.bucket

from ws_autopilot.aws import rate_limit

# The real clock, whatever is frozen later: freezegun swaps module attributes that *are* the
# time functions, so the function is kept inside a tuple it does not look into.
_REAL_MONOTONIC = (time.monotonic,)


class VirtualTime:
    def __init__(self) -> None:
        self.offset = 0.0
        self._stopped_at: float | None = None  # see stop_following_real_time
        self.waits: list[float] = []
        self._frozen: Any = None

    def follow(self, frozen: Any) -> Any:
        """Move a frozen clock (freezegun's factory) forward by every wait from now on, so the
        product's own `datetime.now()` sees the time a run would take in AWS (None: stop).
        Returns the clock followed until now, to follow again when a nested run ends."""
        previous, self._frozen = self._frozen, frozen
        return previous

    @property
    def waited(self) -> float:
        return self.offset

    def now(self) -> float:
        real = _REAL_MONOTONIC[0]() if self._stopped_at is None else self._stopped_at
        return real + self.offset

    def stop_following_real_time(self) -> None:
        """From now on the clock moves by the waits only, without a jump, so the times of calls
        show nothing but the waits. Rate tests: real time spent between a token and its request,
        which grows when the machine is loaded, would bring calls closer together than the
        limiter spaced them."""
        if self._stopped_at is None:
            self._stopped_at = _REAL_MONOTONIC[0]()

    def sleep(self, seconds: float) -> None:
        self.offset += max(seconds, 0.0)
        self.waits.append(seconds)
        if self._frozen is not None and seconds > 0:
            self._frozen.tick(timedelta(seconds=seconds))

    def install(self, monkeypatch: Any) -> VirtualTime:
        monkeypatch.setattr(sys.modules[__name__], "current", self)
        clock = self

        class Clock:
            def sleep(self, amount: float) -> None:
                clock.sleep(amount)

            def current_time(self) -> float:
                return clock.now()

        class Condition:
            def __init__(self, lock: Any) -> None:
                self._condition = threading.Condition(lock)

            def __enter__(self) -> Any:
                return self._condition.__enter__()

            def __exit__(self, *exc: object) -> Any:
                return self._condition.__exit__(*exc)

            def notify(self, n: int = 1) -> None:
                self._condition.notify(n)

            def notify_all(self) -> None:
                self._condition.notify_all()

            def wait(self, timeout: float | None = None) -> bool:
                clock.sleep(timeout or 0.0)
                return True

        monkeypatch.setattr(botocore.endpoint, "time", types.SimpleNamespace(sleep=self.sleep))
        monkeypatch.setattr(rate_limit, "time", types.SimpleNamespace(monotonic=self.now, sleep=self.sleep))
        simulator = sys.modules.get("tests.support.simulator")  # only where the simulator runs here
        if simulator is not None:
            monkeypatch.setattr(simulator, "clock", self.now)
        monkeypatch.setattr(botocore.retries.bucket, "Clock", Clock)
        monkeypatch.setattr(
            botocore.retries.bucket,
            "threading",
            types.SimpleNamespace(Lock=threading.Lock, Condition=Condition),
        )
        return self


current: VirtualTime | None = None  # the last one installed: runs follow it with their frozen clock
