"""Bearer tokens (PyJWT): only HS256 tokens of this server, signed with its key, unexpired."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from accounts.errors import InvalidCredentialsError
from accounts.tokens import TokenSigner

SECRET = "unit-test-secret-long-enough-for-HS512-keys-" + "0" * 20


@pytest.fixture
def signer():
    return TokenSigner(SECRET, 60)


def claims(**changes):
    now = int(time.time())
    out = {"iss": "guji", "sub": "wang", "iat": now, "exp": now + 60, **changes}
    return {k: v for k, v in out.items() if v is not None}


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_token_names_its_user_and_expires(signer):
    token = signer.issue("wang")
    assert signer.verify(token) == "wang"
    decoded = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert decoded["exp"] - decoded["iat"] == 60 and decoded["iss"] == "guji"
    assert jwt.get_unverified_header(token)["alg"] == "HS256"


def test_expired_tokens_are_refused(signer):
    with pytest.raises(InvalidCredentialsError, match="expired"):
        signer.verify(signer.issue("wang", now=time.time() - 61))


def test_alg_none_is_refused(signer):
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims())}."
    with pytest.raises(InvalidCredentialsError, match="not issued by this server"):
        signer.verify(unsigned)
    # the same with a signature part left in place
    with pytest.raises(InvalidCredentialsError):
        signer.verify(unsigned + "c2lnbmF0dXJl")


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
def test_other_algorithms_are_refused_even_with_the_right_key(signer, alg):
    token = jwt.encode(claims(), SECRET, algorithm=alg)
    with pytest.raises(InvalidCredentialsError, match="not issued by this server"):
        signer.verify(token)


def test_tampered_tokens_are_refused(signer):
    header, payload, signature = signer.issue("wang").split(".")
    as_root = b64(claims(sub="root"))
    with pytest.raises(InvalidCredentialsError, match="signature"):
        signer.verify(f"{header}.{as_root}.{signature}")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    with pytest.raises(InvalidCredentialsError):
        signer.verify(f"{header}.{payload}.{flipped}")


def test_another_key_is_refused(signer):
    with pytest.raises(InvalidCredentialsError, match="signature"):
        signer.verify(jwt.encode(claims(), "another-secret-of-forty-characters-00000", algorithm="HS256"))


@pytest.mark.parametrize("missing", ["iss", "sub", "iat", "exp"])
def test_required_claims(signer, missing):
    with pytest.raises(InvalidCredentialsError, match="not issued by this server"):
        signer.verify(jwt.encode(claims(**{missing: None}), SECRET, algorithm="HS256"))


def test_another_issuer_or_a_non_string_subject_is_refused(signer):
    with pytest.raises(InvalidCredentialsError, match="not issued by this server"):
        signer.verify(jwt.encode(claims(iss="someone-else"), SECRET, algorithm="HS256"))
    with pytest.raises(InvalidCredentialsError):
        signer.verify(jwt.encode(claims(sub=42), SECRET, algorithm="HS256"))


@pytest.mark.parametrize("garbage", ["", "abc", "a.b", "a.b.c", "x" * 500])
def test_malformed_tokens_are_refused(signer, garbage):
    with pytest.raises(InvalidCredentialsError):
        signer.verify(garbage)
