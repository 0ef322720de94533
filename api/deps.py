"""Typed FastAPI dependencies: the request's view of the composition root."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from accounts.errors import AuthenticationRequiredError
from accounts.identity import Identity
from api.context import Context


def get_context(request: Request) -> Context:
    return request.app.state.context


ContextDep = Annotated[Context, Depends(get_context)]


# -- who is calling -------------------------------------------------------------------------------

# reads "Authorization: Bearer <API key or token>" and puts the password flow into OpenAPI
bearer_scheme = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False,
                                     description="An API key (`guji users add`) or a token from POST /auth/token")


def get_identity(ctx: ContextDep, bearer: Annotated[str | None, Depends(bearer_scheme)]) -> Identity:
    """The caller: the anonymous public without credentials; 401 for credentials that are not valid.
    With the caller's active roles in annotation projects (organisations/), read per request."""
    identity = ctx.auth.identify(bearer)
    return ctx.organisations.with_projects(identity) if identity.authenticated else identity


def require_user(identity: Annotated[Identity, Depends(get_identity)]) -> Identity:
    if not identity.authenticated:
        raise AuthenticationRequiredError("this needs a logged-in user: send Authorization: Bearer <API key or token>")
    return identity


OptionalUser = Annotated[Identity, Depends(get_identity)]
CurrentUser = Annotated[Identity, Depends(require_user)]
