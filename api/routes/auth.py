"""Logging in: the OAuth2 password flow (``POST /auth/token``) and who-am-I."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel

from api.deps import ContextDep, CurrentUser

router = APIRouter(prefix="/auth", tags=["auth"])


class Token(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class Me(BaseModel):
    name: str
    role: str
    agent: str


@router.post("/token", response_model=Token,
             summary="Exchange a user name and password for a short-lived bearer token (OAuth2 password flow)")
async def token(ctx: ContextDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    # Argon2 takes a good part of a second on purpose: keep it off the event loop
    access_token, ttl = await run_in_threadpool(ctx.auth.login, form.username, form.password)
    return Token(access_token=access_token, expires_in=ttl)


@router.get("/me", response_model=Me, summary="The user the bearer credentials belong to")
def me(identity: CurrentUser) -> Me:
    return Me(name=identity.name, role=identity.role.value, agent=identity.agent)
