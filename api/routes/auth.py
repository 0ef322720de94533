"""Logging in: the OAuth2 password flow (``POST /auth/token``) and who-am-I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from api.deps import ContextDep, CurrentUser
from api.limits import per_client

router = APIRouter(prefix="/auth", tags=["auth"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class ProjectRolePublic(BaseModel):
    project: str
    role: str


class Me(BaseModel):
    name: str
    role: str
    agent: str
    projects: list[ProjectRolePublic] = []


@router.post("/token", response_model=Token, dependencies=[per_client("login", "login_limit_per_client")],
             summary="Exchange a user name and password for a short-lived bearer token (OAuth2 password flow)",
             description="Throttled: per client address and per user name (429 with Retry-After); a user name "
                         "with too many wrong passwords in a row is locked for a while (429); 503 with "
                         "Retry-After when the server is busy checking other passwords.")
async def token(ctx: ContextDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    # Argon2 takes a good part of a second on purpose: keep it off the event loop (at most
    # GUJI_PASSWORD_HASHING_SLOTS at once, accounts/passwords.py)
    access_token, ttl = await run_in_threadpool(ctx.auth.login, form.username, form.password)
    return Token(access_token=access_token, expires_in=ttl)


@router.get("/me", response_model=Me, summary="The user the bearer credentials belong to")
def me(identity: CurrentUser) -> Me:
    return Me(name=identity.name, role=identity.role.value, agent=identity.agent,
              projects=[ProjectRolePublic(project=p, role=r) for p, r in identity.projects])
