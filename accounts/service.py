"""Credentials in, identity out: API keys and tokens per request, passwords for a token.

The role is read from the user table on every request, so a changed role or a removed user takes
effect at once.
"""

from __future__ import annotations

from accounts.errors import InvalidCredentialsError
from accounts.identity import ANONYMOUS, Identity
from accounts.tokens import TokenSigner
from accounts.users import API_KEY_PREFIX, UserStore


class AuthService:
    """Turns an ``Authorization`` value into an :class:`Identity`, and passwords into tokens."""

    def __init__(self, users: UserStore, signer: TokenSigner) -> None:
        self.users = users
        self.signer = signer

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
        user = self.users.check_password(name, password)
        if user is None:
            raise InvalidCredentialsError("wrong user name or password", reason="invalid_grant")
        return self.signer.issue(user.name), self.signer.ttl
