"""Who may do what with an annotation: declared permission policies over the caller's
:class:`~accounts.identity.Identity` and :class:`~accounts.identity.Role` (which belong to ``accounts``).

Permissions are data, not ``if`` statements in routes (as in Invenio): each action lists the
*generators* that grant it; an action is allowed when any generator allows it. A generator can
also turn itself into a SPARQL filter, so listing a container returns exactly the annotations
the caller may read, paged correctly, without loading the others.

Roles: public < annotator < reviewer < admin. A submitting unit (``submitter``) only submits
packages: for annotations it counts as the public.

*When* an action is possible (approving needs a submitted annotation ...) is the workflow's
business (:mod:`annotation.service`), answered with 409; *who* may do it is answered here, with
401 (nobody logged in) or 403.
"""

from __future__ import annotations

from accounts.errors import AuthenticationRequiredError, PermissionDeniedError
from accounts.identity import ANONYMOUS, Identity, Role, agent_iri  # noqa: F401  (policies are written in accounts' roles)
from annotation.model import Annotation, Status


# -- generators -----------------------------------------------------------------------------------
# sparql(): a boolean SPARQL expression over ?status (literal) and ?creator (IRI), or "false()"

class Generator:
    def allows(self, identity: Identity, record: Annotation | None) -> bool:
        raise NotImplementedError

    def sparql(self, identity: Identity) -> str:
        raise NotImplementedError


class RoleAtLeast(Generator):
    def __init__(self, role: Role) -> None:
        self.role = role

    def allows(self, identity: Identity, record: Annotation | None) -> bool:
        return identity.at_least(self.role)

    def sparql(self, identity: Identity) -> str:
        return "true" if identity.at_least(self.role) else "false"


class Creator(Generator):
    """The user who created the annotation (and still holds a role that can annotate)."""

    def allows(self, identity: Identity, record: Annotation | None) -> bool:
        return (record is not None and identity.at_least(Role.ANNOTATOR)
                and record.creator == agent_iri(identity.name))

    def sparql(self, identity: Identity) -> str:
        return f"(?creator = <{agent_iri(identity.name)}>)" if identity.at_least(Role.ANNOTATOR) else "false"


class NotCreator(Generator):
    def allows(self, identity: Identity, record: Annotation | None) -> bool:
        return record is not None and identity.authenticated and record.creator != agent_iri(identity.name)

    def sparql(self, identity: Identity) -> str:
        return f"(?creator != <{agent_iri(identity.name)}>)" if identity.authenticated else "false"


class StatusIn(Generator):
    def __init__(self, *statuses: Status) -> None:
        self.statuses = statuses

    def allows(self, identity: Identity, record: Annotation | None) -> bool:
        return record is not None and record.status in self.statuses

    def sparql(self, identity: Identity) -> str:
        return "(?status IN (" + ", ".join(f'"{s.value}"' for s in self.statuses) + "))"


class ProjectRole(Generator):
    """A member of the annotation's project holding one of ``roles`` there (organisations/):
    project reviewers review, and see what is handed in, within their projects only."""

    def __init__(self, *roles: str) -> None:
        self.roles = roles

    def allows(self, identity: Identity, record: Annotation | None) -> bool:
        return record is not None and record.project is not None and record.project in identity.projects_with(*self.roles)

    def sparql(self, identity: Identity) -> str:
        projects = identity.projects_with(*self.roles)
        # ?project is OPTIONAL in the listing query: unbound (no project) makes this false
        return "(BOUND(?project) && ?project IN (" + ", ".join(f"<{p}>" for p in projects) + "))" if projects else "false"


PROJECT_REVIEWER = ("reviewer", "admin")  # a project's admin reviews in it too


class AllOf(Generator):
    def __init__(self, *parts: Generator) -> None:
        self.parts = parts

    def allows(self, identity: Identity, record: Annotation | None) -> bool:
        return all(p.allows(identity, record) for p in self.parts)

    def sparql(self, identity: Identity) -> str:
        return "(" + " && ".join(p.sparql(identity) for p in self.parts) + ")"


VISIBLE = (Status.DRAFT, Status.SUBMITTED, Status.APPROVED, Status.REJECTED)


class AnnotationPolicy:
    """The permission policy of annotations. Read the lists as sentences."""

    # anyone sees approved annotations; creators see their own; reviewers see everything submitted
    # for review (and its outcome); drafts stay with their creator until submitted; admins see all
    can_read = [StatusIn(Status.APPROVED), Creator(),
                AllOf(RoleAtLeast(Role.REVIEWER), StatusIn(Status.SUBMITTED, Status.APPROVED, Status.REJECTED)),
                AllOf(RoleAtLeast(Role.ADMIN), StatusIn(*VISIBLE)),
                # a project's reviewers see what is handed in within their projects (organisations/)
                AllOf(ProjectRole(*PROJECT_REVIEWER), StatusIn(Status.SUBMITTED, Status.APPROVED, Status.REJECTED))]
    # an approved annotation's whole history (earlier drafts, reviewers' reasons) stays with its
    # creator and the reviewers; everybody else sees its approved states (Annotation.public)
    can_read_history = [Creator(), RoleAtLeast(Role.REVIEWER), ProjectRole(*PROJECT_REVIEWER)]
    can_create = [RoleAtLeast(Role.ANNOTATOR)]
    # the creator edits their own work until it is approved; afterwards reviewers correct it
    can_update = [AllOf(Creator(), StatusIn(Status.DRAFT, Status.SUBMITTED, Status.REJECTED)),
                  AllOf(RoleAtLeast(Role.REVIEWER), StatusIn(Status.APPROVED)),
                  AllOf(ProjectRole(*PROJECT_REVIEWER), StatusIn(Status.APPROVED)),  # within their projects
                  RoleAtLeast(Role.ADMIN)]
    can_delete = [AllOf(Creator(), StatusIn(Status.DRAFT, Status.SUBMITTED, Status.REJECTED)), RoleAtLeast(Role.ADMIN)]
    can_submit = [Creator(), RoleAtLeast(Role.ADMIN)]
    can_withdraw = [Creator(), RoleAtLeast(Role.ADMIN)]
    # four eyes: a reviewer never reviews their own annotation (an admin may)
    # global reviewers review everything; a project's reviewers only that project's annotations
    can_review = [AllOf(RoleAtLeast(Role.REVIEWER), NotCreator()), RoleAtLeast(Role.ADMIN),
                  AllOf(ProjectRole(*PROJECT_REVIEWER), NotCreator())]
    can_read_unapproved_exports = [RoleAtLeast(Role.REVIEWER)]
    can_reanchor = [RoleAtLeast(Role.REVIEWER)]
    can_import = [RoleAtLeast(Role.ADMIN)]

    # the least role an action needs at all, checked before the record is looked at (403, not 404)
    ROLE_NEEDED = {"create": Role.ANNOTATOR, "update": Role.ANNOTATOR, "delete": Role.ANNOTATOR,
                   "submit": Role.ANNOTATOR, "withdraw": Role.ANNOTATOR, "review": Role.REVIEWER,
                   "read_unapproved_exports": Role.REVIEWER, "reanchor": Role.REVIEWER, "import": Role.ADMIN}

    # actions a project role can grant whatever the global role (checked per record)
    PROJECT_ROLE_SUFFICES = {"review"}

    WHY = {
        "create": "creating annotations needs the annotator, reviewer or admin role",
        "update": "only the creator edits an annotation before it is approved; after approval a reviewer or admin does",
        "delete": "only the creator deletes an annotation before it is approved (an admin always can)",
        "submit": "only the creator submits an annotation for review",
        "withdraw": "only the creator withdraws an annotation from review",
        "review": "reviewing needs the reviewer role (or the reviewer role in the annotation's project), and a reviewer "
                  "does not review their own annotations",
        "read_unapproved_exports": "exporting unapproved annotations needs the reviewer role",
        "reanchor": "re-anchoring needs the reviewer role",
        "import": "importing annotations needs the admin role",
    }

    @classmethod
    def require_role(cls, action: str, identity: Identity) -> None:
        """Refuse early when the caller's role can never do ``action`` (whatever the record)."""
        if not identity.authenticated:
            raise AuthenticationRequiredError(
                f"{cls.WHY.get(action, 'this needs a logged-in user')}: send Authorization: Bearer <API key or token>",
                action=action)
        if action in cls.PROJECT_ROLE_SUFFICES and identity.projects_with(*PROJECT_REVIEWER):
            return  # a project reviewer: which annotations is decided per record (ProjectRole)
        if not identity.at_least(cls.ROLE_NEEDED[action]):
            raise PermissionDeniedError(f"{cls.WHY[action]} (you are {identity.name}, {identity.role.value})",
                                        action=action, role=identity.role.value)

    @classmethod
    def allows(cls, action: str, identity: Identity, record: Annotation | None = None) -> bool:
        return any(g.allows(identity, record) for g in getattr(cls, f"can_{action}"))

    @classmethod
    def require(cls, action: str, identity: Identity, record: Annotation | None = None) -> None:
        if cls.allows(action, identity, record):
            return
        if not identity.authenticated:
            raise AuthenticationRequiredError(
                f"{cls.WHY.get(action, 'this needs a logged-in user')}: send Authorization: Bearer <API key or token>",
                action=action)
        raise PermissionDeniedError(f"{cls.WHY.get(action, 'not allowed')} (you are {identity.name}, {identity.role.value})",
                                    action=action, role=identity.role.value)

    @classmethod
    def read_filter(cls, identity: Identity) -> str:
        """A SPARQL expression (over ?status, ?creator) true exactly for the readable annotations."""
        return "(" + " || ".join(g.sparql(identity) for g in cls.can_read) + ")"
