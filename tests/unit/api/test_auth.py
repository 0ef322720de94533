"""Users, API keys and tokens without HTTP."""

from __future__ import annotations

import pytest

from annotation.policies import ANONYMOUS, Role
from api.auth import AuthService, InvalidCredentialsError, TokenSigner, UserStore
from kg.errors import ConflictError, ValidationError


@pytest.fixture
def users(tmp_path):
    return UserStore(tmp_path / "users.sqlite3", fast_hashing=True)


@pytest.fixture
def auth(users):
    return AuthService(users, TokenSigner("s3cret", 60))


def test_add_and_identify_by_api_key(users, auth):
    user, key = users.add("zhang", "reviewer", password="12345678")
    assert (user.name, user.role, user.has_password) == ("zhang", Role.REVIEWER, True)
    assert auth.identify(key).name == "zhang" and auth.identify(key).role is Role.REVIEWER
    second = users.new_api_key("zhang", "script")
    assert second != key and auth.identify(second).name == "zhang"
    assert auth.identify(None) == ANONYMOUS


@pytest.mark.parametrize("name, role, password, error, message", [
    ("bad name!", "annotator", None, ValidationError, "user name is 1-64"),
    ("guji", "admin", None, ValidationError, "reserved"),
    ("x", "public", None, ValidationError, "role must be one of"),
    ("x", "annotator", "short", ValidationError, "at least 8"),
])
def test_refused_users(users, name, role, password, error, message):
    with pytest.raises(error, match=message):
        users.add(name, role, password=password)


def test_duplicate_user(users):
    users.add("li", "annotator")
    with pytest.raises(ConflictError):
        users.add("li", "reviewer")


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
        TokenSigner("other", 60).verify(token)


def test_users_without_password_can_not_log_in(users, auth):
    users.add("key-only", "annotator")
    with pytest.raises(InvalidCredentialsError):
        auth.login("key-only", "")
