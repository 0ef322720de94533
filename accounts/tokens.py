"""Bearer tokens: JWTs (HS256) signed with the secret key, ``sub`` = user name, ``exp`` = expiry."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from accounts.errors import InvalidCredentialsError


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    """JWT (HS256) with the settings' secret key: ``sub`` = user name, ``exp`` = expiry."""

    ISSUER = "guji"

    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self._key = secret.encode()
        self.ttl = ttl_seconds

    def issue(self, name: str, *, now: float | None = None) -> str:
        iat = int(now if now is not None else time.time())
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
        payload = _b64(json.dumps({"iss": self.ISSUER, "sub": name, "iat": iat, "exp": iat + self.ttl},
                                  separators=(",", ":")).encode())
        signature = _b64(hmac.new(self._key, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        return f"{header}.{payload}.{signature}"

    def verify(self, token: str, *, now: float | None = None) -> str:
        """The user name in a valid, unexpired token; InvalidCredentialsError otherwise."""
        parts = token.split(".")
        if len(parts) != 3:
            raise InvalidCredentialsError("the bearer token is neither an API key nor a token issued by POST /auth/token")
        header, payload, signature = parts
        expected = _b64(hmac.new(self._key, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        if not hmac.compare_digest(expected, signature):
            raise InvalidCredentialsError("the bearer token's signature is not valid")
        try:
            head = json.loads(_unb64(header))
            claims = json.loads(_unb64(payload))
        except (ValueError, UnicodeDecodeError):
            raise InvalidCredentialsError("the bearer token is malformed") from None
        if head.get("alg") != "HS256" or claims.get("iss") != self.ISSUER or not isinstance(claims.get("sub"), str):
            raise InvalidCredentialsError("the bearer token was not issued by this server")
        if int(claims.get("exp", 0)) <= int(now if now is not None else time.time()):
            raise InvalidCredentialsError("the bearer token has expired: get a new one from POST /auth/token")
        return claims["sub"]
