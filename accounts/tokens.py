"""Bearer tokens: JWTs signed with the secret key (PyJWT), ``sub`` = user name, ``exp`` = expiry.

Only HS256 is accepted, whatever the token's header says (no ``none``, no other algorithm, no
key confusion); ``iss``, ``sub``, ``iat`` and ``exp`` are required, and an expired token is
refused with no leeway.
"""

from __future__ import annotations

import time

import jwt

from accounts.errors import InvalidCredentialsError
from accounts.secrets import check

ALGORITHM = "HS256"


class TokenSigner:
    ISSUER = "guji"

    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self._key = check(secret, source="the token signing key")  # never sign with a published or short key
        self.ttl = ttl_seconds

    def issue(self, name: str, *, now: float | None = None) -> str:
        iat = int(now if now is not None else time.time())
        claims = {"iss": self.ISSUER, "sub": name, "iat": iat, "exp": iat + self.ttl}
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def verify(self, token: str) -> str:
        """The user name in a valid, unexpired token; InvalidCredentialsError otherwise."""
        try:
            claims = jwt.decode(token, self._key, algorithms=[ALGORITHM], issuer=self.ISSUER,
                                options={"require": ["iss", "sub", "iat", "exp"]})
        except jwt.ExpiredSignatureError:
            raise InvalidCredentialsError("the bearer token has expired: get a new one from POST /auth/token") from None
        except jwt.InvalidSignatureError:
            raise InvalidCredentialsError("the bearer token's signature is not valid") from None
        except jwt.DecodeError:
            raise InvalidCredentialsError("the bearer token is neither an API key nor a token issued by POST /auth/token") from None
        except jwt.InvalidTokenError:  # another algorithm, issuer, a missing or mistyped claim
            raise InvalidCredentialsError("the bearer token was not issued by this server") from None
        return claims["sub"]
