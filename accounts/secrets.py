"""The key bearer tokens are signed with, and where it comes from.

- ``GUJI_SECRET_KEY`` when it is set, in every environment; it must have at least 32 characters
  and must not be a value printed in documentation (a token signed with a public value would
  make anyone an admin).
- Production (the default environment) without ``GUJI_SECRET_KEY``: refused.
- Development (``GUJI_ENVIRONMENT=development``, or ``guji serve --sample``) without it: a random
  key made once per home and kept in ``$GUJI_HOME/secret_key`` (mode 0600), so tokens survive a
  restart of the development server and no two machines share a key.
- Test: a random key per process.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from accounts.errors import SecretKeyError

MIN_LENGTH = 32
FILE_NAME = "secret_key"
HOW = "make one with: python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"

#: values that appear (or appeared) in guji's documentation, compose files and settings defaults
PUBLISHED = frozenset({"change-me-in-production", "a-long-random-string", "changeme", "change-me", "secret"})


@dataclass(frozen=True)
class SigningKey:
    value: str = field(repr=False)
    origin: str  # "GUJI_SECRET_KEY", the development key file, or "random (test)"
    development: bool = False


def check(value: str, source: str = "GUJI_SECRET_KEY") -> str:
    """The value, when it is fit to sign tokens with; SecretKeyError otherwise."""
    if value.strip().lower() in PUBLISHED or value.strip().lower().startswith("change-me"):
        raise SecretKeyError(f"{source} is a placeholder published in the documentation: anyone could sign "
                             f"tokens with it; {HOW}", source=source)
    if len(value) < MIN_LENGTH:
        raise SecretKeyError(f"{source} has {len(value)} characters; it needs at least {MIN_LENGTH}; {HOW}",
                             source=source)
    return value


def home_key(home: Path) -> str:
    """The development key of this home, made on first use (mode 0600)."""
    path = Path(home) / FILE_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
        return check(path.read_text(encoding="ascii").strip(), source=str(path))
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_urlsafe(48) + "\n")
    return check(path.read_text(encoding="ascii").strip(), source=str(path))


def signing_key(configured: str | None, environment: str, home: Path) -> SigningKey:
    if configured:
        return SigningKey(check(configured), "GUJI_SECRET_KEY")
    if environment == "development":
        return SigningKey(home_key(home), str(Path(home) / FILE_NAME), development=True)
    if environment == "test":
        return SigningKey(secrets.token_urlsafe(48), "random (test)")
    raise SecretKeyError(f"GUJI_SECRET_KEY is not set, and GUJI_ENVIRONMENT is {environment}: set a secret of at "
                         f"least {MIN_LENGTH} characters ({HOW}), or run a local development server with "
                         "GUJI_ENVIRONMENT=development or `guji serve --sample`", environment=environment)
