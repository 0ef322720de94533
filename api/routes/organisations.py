"""/api/organisations, /api/projects: organisations, annotation projects and their members over
HTTP (thin: one service call per route; who may is decided in organisations/policies.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from api.deps import ContextDep, CurrentUser, OptionalUser
from organisations.model import OrganisationCreate, ProjectCreate, ProjectRole, ProjectUpdate

router = APIRouter(tags=["organisations"])


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class OrganisationPublic(BaseModel):
    id: str
    iri: str
    name: str
    name_en: str | None = None
    authority: str | None = None
    homepage: str | None = None
    projects: list[dict[str, Any]] = []


class ProjectPublic(BaseModel):
    id: str
    iri: str
    name: str
    organisation: str
    organisation_iri: str
    guideline: str = ""
    guideline_url: str | None = None
    scope: list[str]


class MemberPublic(BaseModel):
    project: str
    user: str
    role: str
    state: str = Field(description="invited (the user accepts), requested (a project admin approves) or active")
    asked_by: str
    created: str
    updated: str


class Invitation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    user: str = Field(min_length=1, max_length=64)
    role: ProjectRole = ProjectRole.ANNOTATOR


class JoinRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: ProjectRole = ProjectRole.ANNOTATOR


@router.get("/api/organisations", response_model=list[OrganisationPublic], summary="Organisations (public)")
async def organisations(ctx: ContextDep) -> list[dict]:
    return await run_in_threadpool(ctx.organisations.organisations)


@router.post("/api/organisations", response_model=OrganisationPublic, status_code=201,
             summary="Create an organisation (global admin)")
async def create_organisation(ctx: ContextDep, identity: OptionalUser, data: OrganisationCreate) -> dict:
    return await run_in_threadpool(ctx.organisations.create_organisation, identity, data)


@router.get("/api/organisations/{org}", response_model=OrganisationPublic, summary="An organisation and its projects (public)")
async def organisation(ctx: ContextDep, org: str) -> dict:
    return await run_in_threadpool(ctx.organisations.organisation, org)


@router.get("/api/organisations/{org}/credit", response_model=Open,
            summary="The approved annotations made on behalf of an organisation (public)")
async def organisation_credit(ctx: ContextDep, org: str) -> dict:
    return await run_in_threadpool(ctx.organisations.credit, org)


@router.get("/api/organisations/{org}/stats", response_model=Open,
            summary="Statistics of an organisation's projects (their members; global reviewers and admins)")
async def organisation_stats(ctx: ContextDep, identity: OptionalUser, org: str) -> dict:
    return await run_in_threadpool(ctx.organisations.organisation_stats, identity, org)


@router.get("/api/projects", response_model=list[ProjectPublic], summary="Annotation projects (public)")
async def projects(ctx: ContextDep) -> list[dict]:
    return await run_in_threadpool(ctx.organisations.projects)


@router.post("/api/projects", response_model=ProjectPublic, status_code=201, summary="Create a project (global admin)")
async def create_project(ctx: ContextDep, identity: OptionalUser, data: ProjectCreate) -> dict:
    return await run_in_threadpool(ctx.organisations.create_project, identity, data)


@router.get("/api/me/projects", response_model=list[Open], summary="Your memberships, invitations and requests")
async def my_projects(ctx: ContextDep, identity: CurrentUser) -> list[dict]:
    return await run_in_threadpool(ctx.organisations.my_projects, identity)


@router.get("/api/projects/{project}", response_model=ProjectPublic, summary="A project: guideline and scope (public)")
async def project(ctx: ContextDep, project: str) -> dict:
    return await run_in_threadpool(ctx.organisations.project, project)


@router.put("/api/projects/{project}", response_model=ProjectPublic, summary="Edit a project (its admins)")
async def update_project(ctx: ContextDep, identity: OptionalUser, project: str, data: ProjectUpdate) -> dict:
    return await run_in_threadpool(ctx.organisations.update_project, identity, project, data)


@router.get("/api/projects/{project}/stats", response_model=Open,
            summary="A project's statistics: by status, reviewed per week, agreement (members; global reviewers)")
async def project_stats(ctx: ContextDep, identity: OptionalUser, project: str) -> dict:
    return await run_in_threadpool(ctx.organisations.project_stats, identity, project)


@router.get("/api/projects/{project}/members", response_model=list[MemberPublic], summary="Members (the project's members)")
async def members(ctx: ContextDep, identity: OptionalUser, project: str) -> list[dict]:
    return await run_in_threadpool(ctx.organisations.member_list, identity, project)


@router.post("/api/projects/{project}/invitations", response_model=MemberPublic, status_code=201,
             summary="Invite a user (project admins); the user accepts")
async def invite(ctx: ContextDep, identity: OptionalUser, project: str, data: Invitation) -> dict:
    return await run_in_threadpool(ctx.organisations.invite, identity, project, data.user, data.role)


@router.post("/api/projects/{project}/requests", response_model=MemberPublic, status_code=201,
             summary="Ask to join a project (any logged-in user); a project admin approves")
async def request_membership(ctx: ContextDep, identity: OptionalUser, project: str, data: JoinRequest) -> dict:
    return await run_in_threadpool(ctx.organisations.request, identity, project, data.role)


@router.post("/api/projects/{project}/accept", response_model=MemberPublic, summary="Accept your invitation")
async def accept(ctx: ContextDep, identity: OptionalUser, project: str) -> dict:
    return await run_in_threadpool(ctx.organisations.accept, identity, project)


@router.post("/api/projects/{project}/members/{user}/approve", response_model=MemberPublic,
             summary="Approve a user's request to join (project admins)")
async def approve(ctx: ContextDep, identity: OptionalUser, project: str, user: str) -> dict:
    return await run_in_threadpool(ctx.organisations.approve, identity, project, user)


@router.delete("/api/projects/{project}/members/{user}", status_code=204,
               summary="Remove a member, an invitation or a request (project admins); leave or decline (the user)")
async def remove(ctx: ContextDep, identity: OptionalUser, project: str, user: str) -> Response:
    await run_in_threadpool(ctx.organisations.remove, identity, project, user)
    return Response(status_code=204)
