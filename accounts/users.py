"""The user table: names, roles, password hashes and API-key hashes in a small SQLite file under
``$GUJI_HOME`` (``users.sqlite3``). Users are not RDF: the graph sees only their agent IRI.

- Passwords (for ``POST /auth/token``) are hashed with Argon2id (:mod:`accounts.passwords`:
  RFC 9106 low-memory profile, a bounded number at a time; the cheapest profile under
  ``GUJI_ENVIRONMENT=test``).
- API keys (``gk_`` + 256 random bits, for scripts) are stored as SHA-256: they are random, not
  chosen by people, so a slow hash adds nothing but latency on every request.
"""

from __future__ import annotations

import hashlib
import re
import os
import secrets
import sqlite3
import threading
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from accounts.identity import Identity, Role
from accounts.passwords import PasswordHashing
from kg.errors import ConflictError, NotFoundError, ValidationError

NAME = re.compile(r"^[\w.\-]{1,64}$")
API_KEY_PREFIX = "gk_"
ROLES = (Role.ANNOTATOR, Role.REVIEWER, Role.ADMIN, Role.SUBMITTER, Role.ACCEPTANCE, Role.COORDINATOR)
RESERVED = {Identity.system().name}  # the agent of operator commands (restore, anchor checks)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    password_hash TEXT,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
    key_hash TEXT PRIMARY KEY,
    name TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    label TEXT,
    created TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class User:
    name: str
    role: Role
    created: str
    has_password: bool

    @property
    def identity(self) -> Identity:
        return Identity(self.name, self.role)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _role(value: Role | str) -> Role:
    try:
        role = Role(value)
    except ValueError:
        role = None
    if role not in ROLES:
        raise ValidationError(f"role must be one of {', '.join(r.value for r in ROLES)}, got {value!r}", field="role")
    return role


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class UserStore:
    """The user table (SQLite). Safe to use from several threads and beside a running server."""

    def __init__(self, path: Path | str, *, fast_hashing: bool = False, hashing: PasswordHashing | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.hashing = hashing or PasswordHashing(fast=fast_hashing)
        self._lock = threading.Lock()
        self._dummy_hash = self.hashing.hash(secrets.token_hex(8))
        if not self.path.exists():  # password hashes and key hashes: readable by the service's user only
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        with closing(self._connect()) as db, db:
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        db.execute("PRAGMA foreign_keys = ON")
        return db

    def add(self, name: str, role: Role | str, *, password: str | None = None) -> tuple[User, str]:
        """Create a user and a first API key; returns the user and the key (shown once, stored hashed)."""
        if not NAME.match(name):
            raise ValidationError(f"a user name is 1-64 letters, digits, '_', '.' or '-', got {name!r}", field="name")
        if name in RESERVED:
            raise ValidationError(f"{name!r} is reserved: the system's own writes are attributed to it", field="name")
        role = _role(role)
        if password is not None and len(password) < 8:
            raise ValidationError("a password needs at least 8 characters", field="password")
        password_hash = self.hashing.hash(password) if password else None
        created = _now()
        key = API_KEY_PREFIX + secrets.token_urlsafe(32)
        with self._lock, closing(self._connect()) as db:
            try:
                with db:
                    db.execute("INSERT INTO users (name, role, password_hash, created) VALUES (?, ?, ?, ?)",
                               (name, role.value, password_hash, created))
                    db.execute("INSERT INTO api_keys (key_hash, name, label, created) VALUES (?, ?, ?, ?)",
                               (_key_hash(key), name, "created with the user", created))
            except sqlite3.IntegrityError:
                raise ConflictError(f"user {name!r} exists already", name=name) from None
        return User(name, role, created, password_hash is not None), key

    def get(self, name: str) -> User | None:
        with closing(self._connect()) as db:
            row = db.execute("SELECT name, role, created, password_hash IS NOT NULL FROM users WHERE name = ?", (name,)).fetchone()
        return User(row[0], Role(row[1]), row[2], bool(row[3])) if row else None

    def require(self, name: str) -> User:
        user = self.get(name)
        if user is None:
            raise NotFoundError(f"no user {name!r}", name=name)
        return user

    def list(self) -> list[User]:
        with closing(self._connect()) as db:
            rows = db.execute("SELECT name, role, created, password_hash IS NOT NULL FROM users ORDER BY name").fetchall()
        return [User(r[0], Role(r[1]), r[2], bool(r[3])) for r in rows]

    def set_role(self, name: str, role: Role | str) -> User:
        role = _role(role)
        self.require(name)
        with self._lock, closing(self._connect()) as db, db:
            db.execute("UPDATE users SET role = ? WHERE name = ?", (role.value, name))
        return self.require(name)

    def set_password(self, name: str, password: str) -> None:
        if len(password) < 8:
            raise ValidationError("a password needs at least 8 characters", field="password")
        self.require(name)
        with self._lock, closing(self._connect()) as db, db:
            db.execute("UPDATE users SET password_hash = ? WHERE name = ?", (self.hashing.hash(password), name))

    def new_api_key(self, name: str, label: str | None = None) -> str:
        self.require(name)
        key = API_KEY_PREFIX + secrets.token_urlsafe(32)
        with self._lock, closing(self._connect()) as db, db:
            db.execute("INSERT INTO api_keys (key_hash, name, label, created) VALUES (?, ?, ?, ?)",
                       (_key_hash(key), name, label, _now()))
        return key

    def remove(self, name: str) -> None:
        self.require(name)
        with self._lock, closing(self._connect()) as db, db:
            db.execute("DELETE FROM users WHERE name = ?", (name,))

    def user_for_api_key(self, key: str) -> User | None:
        with closing(self._connect()) as db:
            row = db.execute("SELECT name FROM api_keys WHERE key_hash = ?", (_key_hash(key),)).fetchone()
        return self.get(row[0]) if row else None

    def check_password(self, name: str, password: str) -> User | None:
        """The user when the password is theirs, None otherwise; PasswordHashingBusyError when no
        hashing slot freed up in time."""
        with closing(self._connect()) as db:
            row = db.execute("SELECT password_hash FROM users WHERE name = ?", (name,)).fetchone()
        stored = row[0] if row and row[0] else None
        # a missing user costs the same time as a wrong password
        if not self.hashing.verify(stored or self._dummy_hash, password) or stored is None:
            return None
        if self.hashing.needs_rehash(stored):
            with self._lock, closing(self._connect()) as db, db:
                db.execute("UPDATE users SET password_hash = ? WHERE name = ?", (self.hashing.hash(password), name))
        return self.get(name)
