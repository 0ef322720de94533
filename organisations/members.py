"""Project memberships (invitations, requests, active members) in ``$GUJI_HOME/organisations.sqlite3``.

Users are not RDF (ADR 0007/0008); who belongs to which project is about users, so it lives beside
the user table, not in the graph. Read per request like the role, so a removal acts at once.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from organisations.model import MemberState, ProjectRole

_SCHEMA = """
CREATE TABLE IF NOT EXISTS members (
    project TEXT NOT NULL,
    user TEXT NOT NULL,
    role TEXT NOT NULL,
    state TEXT NOT NULL,
    asked_by TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    PRIMARY KEY (project, user)
);
CREATE INDEX IF NOT EXISTS members_by_user ON members (user, state);
"""


@dataclass(frozen=True)
class Member:
    project: str  # project id
    user: str
    role: ProjectRole
    state: MemberState
    asked_by: str
    created: str
    updated: str

    def json(self) -> dict:
        return {"project": self.project, "user": self.user, "role": self.role.value, "state": self.state.value,
                "asked_by": self.asked_by, "created": self.created, "updated": self.updated}


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _row(r) -> Member:
    return Member(r[0], r[1], ProjectRole(r[2]), MemberState(r[3]), r[4], r[5], r[6])


_COLS = "project, user, role, state, asked_by, created, updated"


class MemberStore:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with closing(self._connect()) as db, db:
            db.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def get(self, project: str, user: str) -> Member | None:
        with closing(self._connect()) as db:
            r = db.execute(f"SELECT {_COLS} FROM members WHERE project = ? AND user = ?", (project, user)).fetchone()
        return _row(r) if r else None

    def put(self, project: str, user: str, role: ProjectRole, state: MemberState, asked_by: str) -> Member:
        now = _now()
        with self._lock, closing(self._connect()) as db, db:
            db.execute(f"""INSERT INTO members ({_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (project, user) DO UPDATE SET role = excluded.role, state = excluded.state,
                asked_by = excluded.asked_by, updated = excluded.updated""",
                       (project, user, role.value, state.value, asked_by, now, now))
        return self.get(project, user)

    def remove(self, project: str, user: str) -> None:
        with self._lock, closing(self._connect()) as db, db:
            db.execute("DELETE FROM members WHERE project = ? AND user = ?", (project, user))

    def of_project(self, project: str) -> list[Member]:
        with closing(self._connect()) as db:
            rows = db.execute(f"SELECT {_COLS} FROM members WHERE project = ? ORDER BY state, user", (project,)).fetchall()
        return [_row(r) for r in rows]

    def of_user(self, user: str) -> list[Member]:
        with closing(self._connect()) as db:
            rows = db.execute(f"SELECT {_COLS} FROM members WHERE user = ? ORDER BY project", (user,)).fetchall()
        return [_row(r) for r in rows]
