"""The user table: names, roles, passwords and API keys, without HTTP."""

from __future__ import annotations

import pytest

from accounts.identity import Role
from kg.errors import ConflictError, ValidationError


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


def test_passwords_are_checked(users):
    user, _ = users.add("zhang", "reviewer", password="12345678")
    assert (user.name, user.role, user.has_password) == ("zhang", Role.REVIEWER, True)
    assert users.check_password("zhang", "12345678").name == "zhang"
    assert users.check_password("zhang", "87654321") is None
    assert users.check_password("nobody", "12345678") is None


def test_the_user_file_is_readable_by_its_owner_only(tmp_path):
    import stat

    from accounts.users import UserStore

    UserStore(tmp_path / "users.sqlite3", fast_hashing=True)
    assert stat.S_IMODE((tmp_path / "users.sqlite3").stat().st_mode) == 0o600
