"""Credentials in, identity out: API keys and tokens per request, passwords for a token.

The role is read from the user table on every request, so a changed role or a removed user takes
effect at once.

A login is refused before any password is hashed when the user name is locked (too many wrong
passwords in a row) or over its rate limit; see :mod:`accounts.throttle`.
"""

from __future__ import annotations

from accounts.errors import InvalidCredentialsError
from accounts.identity import ANONYMOUS, Identity
from accounts.throttle import Lockout, RateLimiter
from accounts.tokens import TokenSigner
from accounts.users import API_KEY_PREFIX, UserStore


class AuthService:
    """Turns an ``Authorization`` value into an :class:`Identity`, and passwords into tokens."""

    def __init__(self, users: UserStore, signer: TokenSigner, *, lockout: Lockout | None = None,
                 limiter: RateLimiter | None = None, per_user: str | None = None) -> None:
        """``per_user``: logins one user name may try (``"10/minute"``), counted by ``limiter``."""
        self.users = users
        self.signer = signer
        self.lockout = lockout
        self.limiter = limiter
        self.per_user = per_user

    def identify(self, bearer: str | None) -> Identity:
        if not bearer:
            return ANONYMOUS
        if bearer.startswith(API_KEY_PREFIX):
            user = self.users.user_for_api_key(bearer)
            if user is None:
                raise InvalidCredentialsError("the API key is not known (revoked, or from another server)")
            return user.identity
        name = self.signer.verify(bearer)
        user = self.users.get(name)
        if user is None:
            raise InvalidCredentialsError(f"the bearer token names user {name!r}, who no longer exists")
        return user.identity

    def login(self, name: str, password: str) -> tuple[str, int]:
        key = name[:128]  # no user name is longer than 64: a longer one is counted by its start
        if self.lockout is not None:
            self.lockout.check(key)
        if self.limiter is not None and self.per_user:
            self.limiter.hit(self.per_user, "login-user", key, what="logins as this user name")
        user = self.users.check_password(name, password)
        if user is None:
            if self.lockout is not None:
                self.lockout.failed(key)
            raise InvalidCredentialsError("wrong user name or password", reason="invalid_grant")
        if self.lockout is not None:
            self.lockout.succeeded(key)
        return self.signer.issue(user.name), self.signer.ttl
