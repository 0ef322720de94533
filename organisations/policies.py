"""Who may do what with organisations and projects (the one place; routes never decide).

- the global admin creates organisations and projects, and manages any project;
- a project's admins edit it and manage its members: invite users, approve requests, remove;
- any logged-in user may ask to join a project, accept an invitation addressed to them, or leave;
- a project's member list is seen by its members and the global admin;
- statistics: a project's by its members and by global reviewers and admins; an organisation's by
  the members of any of its projects and by global reviewers and admins;
- organisations, projects (name, guideline, scope) and the credit are public.
"""

from __future__ import annotations

from accounts.errors import AuthenticationRequiredError, PermissionDeniedError
from accounts.identity import Identity, Role
from organisations.errors import NotProjectAdminError

LOGIN = "send Authorization: Bearer <API key or token>"


def require_login(identity: Identity, what: str) -> None:
    if not identity.authenticated:
        raise AuthenticationRequiredError(f"{what} needs a logged-in user: {LOGIN}")


def require_global_admin(identity: Identity, what: str) -> None:
    require_login(identity, what)
    if not identity.at_least(Role.ADMIN):
        raise PermissionDeniedError(f"{what} needs the admin role (you are {identity.name}, {identity.role.value}); "
                                    "需要系统管理员权限", role=identity.role.value)


def require_project_admin(identity: Identity, project_iri: str, what: str) -> None:
    require_login(identity, what)
    if identity.at_least(Role.ADMIN) or project_iri in identity.projects_with("admin"):
        return
    raise NotProjectAdminError(f"{what} needs an admin of this project (you are {identity.name}); 需要本项目管理员权限",
                               project=project_iri)


def require_project_member(identity: Identity, project_iri: str, what: str, *, reviewers: bool = False) -> None:
    """A member of the project (any role), or the global admin (``reviewers``: or any global reviewer)."""
    require_login(identity, what)
    if identity.at_least(Role.REVIEWER if reviewers else Role.ADMIN):
        return
    if any(p == project_iri for p, _ in identity.projects):
        return
    raise PermissionDeniedError(f"{what} is for the members of this project (you are {identity.name}); 仅限本项目成员",
                                project=project_iri)


def require_organisation_member(identity: Identity, project_iris: list[str], what: str) -> None:
    require_login(identity, what)
    if identity.at_least(Role.REVIEWER):
        return
    mine = {p for p, _ in identity.projects}
    if mine & set(project_iris):
        return
    raise PermissionDeniedError(f"{what} is for the members of this organisation's projects (you are {identity.name}); "
                                "仅限本机构项目成员")
