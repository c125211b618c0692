"""A client-side token bucket for the WorkSpaces API, which allows about 2 requests per second
(burst 5) per account and region, shared by every tool there. Every HTTP attempt, retries
included, takes a token before it is sent."""

from __future__ import annotations

import threading
import time
from typing import Any


class TokenBucket:
    def __init__(self, rate: float, burst: int) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"rate must be > 0 and burst >= 1, got {rate} and {burst}")
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._last = time.monotonic()
        self._lock = threading.Lock()
        self.waited = 0.0

    def acquire(self) -> float:
        """Take one token, sleeping until there is one; returns the seconds waited."""
        with self._lock:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            wait = 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate
            self._tokens -= 1  # may go negative: the wait below pays it back
            if wait:
                time.sleep(wait)
                self.waited += wait
            return wait

    def attach(self, client: Any) -> Any:
        """Make every request `client` sends wait for a token of this bucket."""
        # first: nothing may send (or answer) the request before it has its token
        client.meta.events.register_first("before-send", self._before_send)
        return client

    def _before_send(self, **_: Any) -> None:
        self.acquire()
