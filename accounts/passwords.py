"""Password hashing (Argon2id) with a bound on how many hashes run at once.

One hash of the RFC 9106 low-memory profile holds 64 MiB for a good part of a second on purpose;
24 logins at once took a server from 355 MB to 1.9 GB. So a hash needs one of ``slots`` slots:
callers wait for one at most ``wait`` seconds, then get :class:`PasswordHashingBusyError`
(503 with Retry-After) instead of queueing without end.
"""

from __future__ import annotations

import math
import threading
from contextlib import contextmanager

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from accounts.errors import PasswordHashingBusyError


class PasswordHashing:
    def __init__(self, *, fast: bool = False, slots: int = 2, wait: float = 2.0) -> None:
        """``fast``: the cheapest Argon2 profile, for tests only."""
        self._hasher = PasswordHasher.from_parameters(profiles.CHEAPEST if fast else profiles.RFC_9106_LOW_MEMORY)
        self._slots = threading.BoundedSemaphore(slots)
        self.wait = wait

    @contextmanager
    def _slot(self):
        if not self._slots.acquire(timeout=self.wait):
            retry = max(1, math.ceil(self.wait))
            raise PasswordHashingBusyError(f"the server is busy checking other passwords; try again in {retry} s",
                                           retry_after=retry)
        try:
            yield
        finally:
            self._slots.release()

    def hash(self, password: str) -> str:
        with self._slot():
            return self._hasher.hash(password)

    def verify(self, stored: str, password: str) -> bool:
        with self._slot():
            try:
                return self._hasher.verify(stored, password)
            except (VerificationError, InvalidHashError):
                return False

    def needs_rehash(self, stored: str) -> bool:
        return self._hasher.check_needs_rehash(stored)
