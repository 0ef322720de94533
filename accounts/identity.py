"""The caller: an :class:`Identity` (a user name and a :class:`Role`, or the anonymous public).

The graph never sees users, only their agent IRI (``https://w3id.org/guji/id/agent/<name>``),
which every write is attributed to.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from accounts.errors import AuthenticationRequiredError
from kg.namespaces import ID

AGENT_BASE = ID + "agent/"


def agent_iri(name: str) -> str:
    return AGENT_BASE + name


def agent_name(iri: str) -> str:
    return iri[len(AGENT_BASE):] if iri.startswith(AGENT_BASE) else iri


class Role(str, Enum):
    PUBLIC = "public"
    SUBMITTER = "submitter"
    ANNOTATOR = "annotator"
    REVIEWER = "reviewer"
    ADMIN = "admin"
    ACCEPTANCE = "acceptance"  # acceptance staff of the national library (验收): every unit's plan, samples, checks
    COORDINATOR = "coordinator"  # a provincial coordinator: the units of one province

    @property
    def rank(self) -> int:
        """The annotation ladder; the acceptance roles stand beside it (acceptance/policies.py)."""
        return {"public": 0, "submitter": 0, "annotator": 1, "reviewer": 2, "admin": 3, "acceptance": 0, "coordinator": 0}[self.value]


@dataclass(frozen=True, slots=True)
class Identity:
    """The caller: a user with a role, or the anonymous public."""

    name: str | None
    role: Role = Role.PUBLIC
    # roles in annotation projects (organisations/): ((project IRI, "annotator"|"reviewer"|"admin"), ...),
    # active memberships only, read per request like the role
    projects: tuple[tuple[str, str], ...] = ()

    @property
    def authenticated(self) -> bool:
        return self.name is not None

    @property
    def agent(self) -> str:
        """The agent IRI every write is attributed to."""
        if self.name is None:
            raise AuthenticationRequiredError("this needs a logged-in user: send Authorization: Bearer <API key or token>")
        return agent_iri(self.name)

    def projects_with(self, *roles: str) -> list[str]:
        """The projects in which this user holds one of ``roles``."""
        return [p for p, r in self.projects if r in roles] if self.authenticated else []

    def at_least(self, role: Role) -> bool:
        return self.authenticated and self.role.rank >= role.rank

    @classmethod
    def system(cls, name: str = "guji") -> "Identity":
        """For operations the system itself runs (re-anchoring after an ingest, restoring an export)."""
        return cls(name, Role.ADMIN)


ANONYMOUS = Identity(None)
