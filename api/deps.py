"""Typed FastAPI dependencies: the request's view of the composition root."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from api.context import Context


def get_context(request: Request) -> Context:
    return request.app.state.context


ContextDep = Annotated[Context, Depends(get_context)]
