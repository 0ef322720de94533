"""Where the token key comes from, and which keys are refused."""

from __future__ import annotations

import stat

import pytest

from accounts.errors import SecretKeyError
from accounts.secrets import FILE_NAME, check, signing_key
from accounts.tokens import TokenSigner

GOOD = "k" * 40


@pytest.mark.parametrize("value", ["change-me-in-production", "a-long-random-string", "CHANGE-ME-in-production-please-0123456789"])
def test_published_placeholders_are_refused_everywhere(tmp_path, value):
    for environment in ("production", "development", "test"):
        with pytest.raises(SecretKeyError, match="placeholder published"):
            signing_key(value, environment, tmp_path)
    with pytest.raises(SecretKeyError):
        TokenSigner(value, 60)


def test_short_keys_are_refused(tmp_path):
    with pytest.raises(SecretKeyError, match="31 characters; it needs at least 32"):
        signing_key("x" * 31, "production", tmp_path)
    assert check("x" * 32) == "x" * 32


def test_production_needs_a_key(tmp_path):
    with pytest.raises(SecretKeyError, match="GUJI_SECRET_KEY is not set"):
        signing_key(None, "production", tmp_path)
    key = signing_key(GOOD, "production", tmp_path)
    assert (key.value, key.origin, key.development) == (GOOD, "GUJI_SECRET_KEY", False)
    assert GOOD not in repr(key)
    assert not (tmp_path / FILE_NAME).exists()


def test_development_makes_one_private_key_per_home(tmp_path):
    first = signing_key(None, "development", tmp_path / "a")
    path = tmp_path / "a" / FILE_NAME
    assert first.development and first.origin == str(path) and len(first.value) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert signing_key(None, "development", tmp_path / "a").value == first.value  # survives a restart
    assert signing_key(None, "development", tmp_path / "b").value != first.value
    path.chmod(0o644)
    signing_key(None, "development", tmp_path / "a")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_placeholder_written_into_the_key_file_is_refused(tmp_path):
    (tmp_path / FILE_NAME).write_text("change-me-in-production\n")
    with pytest.raises(SecretKeyError, match="placeholder"):
        signing_key(None, "development", tmp_path)


def test_tests_get_a_random_key_per_call(tmp_path):
    assert signing_key(None, "test", tmp_path).value != signing_key(None, "test", tmp_path).value
    assert not (tmp_path / FILE_NAME).exists()
