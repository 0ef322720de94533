"""Password hashing runs at most `slots` Argon2 hashes at a time, and waits a bounded time for one."""

from __future__ import annotations

import threading
import time

import pytest

from accounts.errors import PasswordHashingBusyError
from accounts.passwords import PasswordHashing


class Gauge:
    """Wraps the Argon2 hasher: how many verifies run at once, at most."""

    def __init__(self, hashing: PasswordHashing, seconds: float) -> None:
        self.running = self.peak = self.calls = 0
        self.lock = threading.Lock()
        self.inner = hashing._hasher
        self.seconds = seconds
        hashing._hasher = self

    def verify(self, stored, password):
        with self.lock:
            self.running += 1
            self.calls += 1
            self.peak = max(self.peak, self.running)
        time.sleep(self.seconds)
        try:
            return self.inner.verify(stored, password)
        finally:
            with self.lock:
                self.running -= 1


def run_together(n, target):
    outcomes = []
    threads = [threading.Thread(target=lambda: outcomes.append(target())) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return outcomes


def test_hash_and_verify():
    hashing = PasswordHashing(fast=True)
    stored = hashing.hash("長安一片月萬戶擣衣")
    assert stored.startswith("$argon2id$")
    assert hashing.verify(stored, "長安一片月萬戶擣衣") and not hashing.verify(stored, "wrong")
    assert not hashing.verify("not a hash", "x")


def test_at_most_slots_hashes_at_once():
    hashing = PasswordHashing(fast=True, slots=2, wait=30)
    stored = hashing.hash("password")
    gauge = Gauge(hashing, 0.05)
    outcomes = run_together(12, lambda: hashing.verify(stored, "password"))
    assert outcomes == [True] * 12 and gauge.calls == 12
    assert gauge.peak == 2


def test_a_full_house_answers_busy_after_the_wait():
    hashing = PasswordHashing(fast=True, slots=1, wait=0.05)
    stored = hashing.hash("password")
    gauge = Gauge(hashing, 0.5)

    def attempt():
        try:
            return hashing.verify(stored, "password")
        except PasswordHashingBusyError as exc:
            return exc

    outcomes = run_together(4, attempt)
    busy = [o for o in outcomes if isinstance(o, PasswordHashingBusyError)]
    assert gauge.peak == 1 and gauge.calls == 4 - len(busy) and len(busy) >= 2
    assert busy[0].details == {"retry_after": 1} and busy[0].code == "busy"
    with pytest.raises(PasswordHashingBusyError, match="busy checking other passwords"):
        raise busy[0]
