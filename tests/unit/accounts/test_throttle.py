"""Rate limits per key and the login lockout, without HTTP."""

from __future__ import annotations

import pytest

from accounts.errors import LoginLockedError, TooManyAttemptsError
from accounts.throttle import Lockout, RateLimiter


def test_a_rate_limit_counts_per_scope_and_key():
    limiter = RateLimiter()
    for _ in range(3):
        limiter.hit("3/minute", "login", "10.0.0.1", what="logins")
    with pytest.raises(TooManyAttemptsError, match="too many logins: at most 3/minute; try again in") as caught:
        limiter.hit("3/minute", "login", "10.0.0.1", what="logins")
    assert 1 <= caught.value.details["retry_after"] <= 60 and caught.value.code == "too_many_requests"
    limiter.hit("3/minute", "login", "10.0.0.2", what="logins")  # another client
    limiter.hit("3/minute", "export", "10.0.0.1", what="exports")  # another scope


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_lockout_after_consecutive_failures_for_a_while():
    clock = Clock()
    lockout = Lockout(3, 900, clock=clock)
    for _ in range(3):
        lockout.check("alice")
        lockout.failed("alice")
    with pytest.raises(LoginLockedError) as caught:
        lockout.check("alice")
    assert caught.value.details["retry_after"] == 900 and caught.value.code == "login_locked"
    lockout.check("bob")  # others are not affected
    clock.now += 899.5
    with pytest.raises(LoginLockedError) as caught:
        lockout.check("alice")
    assert caught.value.details["retry_after"] == 1
    clock.now += 1
    lockout.check("alice")  # expired; a new streak starts from zero
    lockout.failed("alice")
    lockout.check("alice")


def test_a_success_or_time_ends_a_streak():
    clock = Clock()
    lockout = Lockout(3, 60, clock=clock)
    lockout.failed("alice"), lockout.failed("alice")
    lockout.succeeded("alice")
    lockout.failed("alice"), lockout.failed("alice")
    lockout.check("alice")
    clock.now += 61  # the old failures are forgotten
    lockout.failed("alice")
    lockout.check("alice")


def test_made_up_names_do_not_grow_without_bound():
    lockout = Lockout(2, 60, max_names=100)
    for i in range(1000):
        lockout.failed(f"spray-{i}")
    assert len(lockout._state) == 100
