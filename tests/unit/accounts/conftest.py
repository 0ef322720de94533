import pytest

from accounts.users import UserStore


@pytest.fixture
def users(tmp_path):
    return UserStore(tmp_path / "users.sqlite3", fast_hashing=True)
