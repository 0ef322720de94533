"""Credentials to identities: API keys, passwords and tokens, without HTTP."""

from __future__ import annotations

import pytest

from accounts.errors import InvalidCredentialsError, LoginLockedError, TooManyAttemptsError
from accounts.identity import ANONYMOUS, Role
from accounts.service import AuthService
from accounts.throttle import Lockout, RateLimiter
from accounts.tokens import TokenSigner

SECRET = "unit-test-secret-of-forty-characters-0000"


@pytest.fixture
def auth(users):
    return AuthService(users, TokenSigner(SECRET, 60))


def test_add_and_identify_by_api_key(users, auth):
    _, key = users.add("zhang", "reviewer", password="12345678")
    assert auth.identify(key).name == "zhang" and auth.identify(key).role is Role.REVIEWER
    second = users.new_api_key("zhang", "script")
    assert second != key and auth.identify(second).name == "zhang"
    assert auth.identify(None) == ANONYMOUS


def test_login_and_tokens(users, auth):
    users.add("wang", "annotator", password="長安一片月萬戶擣衣")
    with pytest.raises(InvalidCredentialsError):
        auth.login("wang", "wrong password")
    users.set_password("wang", "萬戶擣衣聲秋風吹不盡")
    token, ttl = auth.login("wang", "萬戶擣衣聲秋風吹不盡")
    assert ttl == 60 and auth.identify(token).name == "wang"
    with pytest.raises(InvalidCredentialsError, match="expired"):
        auth.signer.verify(auth.signer.issue("wang", now=0))
    with pytest.raises(InvalidCredentialsError, match="signature"):
        TokenSigner("another-secret-of-forty-characters-00000", 60).verify(token)


def test_users_without_password_can_not_log_in(users, auth):
    users.add("key-only", "annotator")
    with pytest.raises(InvalidCredentialsError):
        auth.login("key-only", "")


def test_a_locked_name_is_refused_without_hashing(users):
    auth = AuthService(users, TokenSigner(SECRET, 60), lockout=Lockout(3, 900))
    users.add("li", "annotator", password="床前明月光疑是地上霜")
    calls = []
    verify = users.hashing.verify
    users.hashing.verify = lambda *a: calls.append(1) or verify(*a)
    for _ in range(3):
        with pytest.raises(InvalidCredentialsError):
            auth.login("li", "guess")
    assert len(calls) == 3
    for password in ("guess", "床前明月光疑是地上霜"):  # even the right password waits out the lock
        with pytest.raises(LoginLockedError):
            auth.login("li", password)
    assert len(calls) == 3
    # an unknown name locks the same way (the lock says nothing about who exists)
    for _ in range(3):
        with pytest.raises(InvalidCredentialsError):
            auth.login("nobody", "guess")
    with pytest.raises(LoginLockedError):
        auth.login("nobody", "guess")


def test_logins_per_user_name_are_rate_limited_before_hashing(users):
    auth = AuthService(users, TokenSigner(SECRET, 60), limiter=RateLimiter(), per_user="2/minute")
    users.add("li", "annotator", password="床前明月光疑是地上霜")
    assert auth.login("li", "床前明月光疑是地上霜")[0]
    with pytest.raises(InvalidCredentialsError):
        auth.login("li", "guess")
    users.hashing.verify = None  # not called any more
    with pytest.raises(TooManyAttemptsError, match="too many logins as this user name"):
        auth.login("li", "床前明月光疑是地上霜")
