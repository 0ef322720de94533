"""Credentials to identities: API keys, passwords and tokens, without HTTP."""

from __future__ import annotations

import pytest

from accounts.errors import InvalidCredentialsError
from accounts.identity import ANONYMOUS, Role
from accounts.service import AuthService
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
