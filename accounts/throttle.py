"""Throttling: rate limits per key (any string: a client address, a user name) and the login lockout.

Both count in memory, in this process: right for the one ``guji serve`` process; a deployment
with several processes would need the ``limits`` library's Redis or Memcached storage instead of
:class:`MemoryStorage` (one line here), and the lockout in the user table.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from functools import lru_cache
from typing import Callable

import limits
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from accounts.errors import LoginLockedError, TooManyAttemptsError


@lru_cache(maxsize=64)
def parse_rate(rate: str) -> limits.RateLimitItem:
    """``"20/minute"``, ``"5 per 10 seconds"`` ... (the ``limits`` notation); ValueError otherwise."""
    return limits.parse(rate)


class RateLimiter:
    """Moving-window counters (the ``limits`` library): at most ``rate`` hits per key."""

    def __init__(self) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def hit(self, rate: str, scope: str, key: str, *, what: str) -> None:
        """Count one hit of ``key`` in ``scope``; TooManyAttemptsError (with retry_after) when over."""
        item = parse_rate(rate)
        if self._limiter.hit(item, scope, key):
            return
        reset_at, _ = self._limiter.get_window_stats(item, scope, key)
        retry = max(1, math.ceil(reset_at - time.time()))
        raise TooManyAttemptsError(f"too many {what}: at most {rate}; try again in {retry} s", retry_after=retry, limit=rate)


class Lockout:
    """After ``failures`` wrong passwords in a row for one user name, logins as that name are
    refused for ``seconds`` without looking at the password. Unknown names are counted like known
    ones, so the lock says nothing about who exists. A success resets the count; a count whose last
    failure is older than ``seconds`` starts again. At most ``max_names`` names are remembered
    (the least recently failed are forgotten first), so a spray of made-up names stays bounded."""

    def __init__(self, failures: int, seconds: float, *, clock: Callable[[], float] = time.monotonic,
                 max_names: int = 10_000) -> None:
        self.failures = failures
        self.seconds = seconds
        self.clock = clock
        self.max_names = max_names
        self._state: OrderedDict[str, tuple[int, float]] = OrderedDict()  # name -> (failures, last failure or locked until)
        self._lock = threading.Lock()

    def check(self, name: str) -> None:
        with self._lock:
            count, until = self._state.get(name, (0, 0.0))
            left = until - self.clock()
        if count >= self.failures and left > 0:
            retry = max(1, math.ceil(left))
            raise LoginLockedError(f"too many wrong passwords in a row for this user name: logins as it are refused "
                                   f"for {retry} s more", retry_after=retry)

    def failed(self, name: str) -> None:
        now = self.clock()
        with self._lock:
            count, last = self._state.pop(name, (0, 0.0))
            if count >= self.failures or now - last > self.seconds:
                count = 0  # an expired lock, or an old streak
            count += 1
            self._state[name] = (count, now + self.seconds if count >= self.failures else now)
            while len(self._state) > self.max_names:
                self._state.popitem(last=False)

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._state.pop(name, None)
