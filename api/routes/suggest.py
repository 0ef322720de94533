"""POST /api/suggest: machine suggestions (pre-annotation) for a text, from annotation.suggest.

Suggestions are proposals only: nothing is written. Give ``text`` (one line, the shape of
``guji suggest --json``), ``lines``, or ``source`` (a juan IRI: its whole text, cut into chunks at
printed line ends, offsets into the juan text, as annotations use them).
"""

from __future__ import annotations

import json
import threading
from typing import Annotated

from fastapi import APIRouter, Body, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field, model_validator

from api.deps import ContextDep
from kg.catalog import Catalog
from kg.errors import ValidationError

router = APIRouter(prefix="/api", tags=["suggestions"])

CHUNK = 400  # code points per batch item (whole printed lines)
_lock = threading.Lock()


class SuggestRequest(BaseModel):
    text: str | None = Field(default=None, max_length=20_000, description="one line of text")
    lines: list[str] | None = Field(default=None, max_length=2_000, description="several lines, each on its own")
    source: str | None = Field(default=None, description="IRI of a guji:Juan: suggestions over its whole text")

    @model_validator(mode="after")
    def _one(self) -> "SuggestRequest":
        given = [k for k in ("text", "lines", "source") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of text, lines or source")
        return self


class SuggestResponse(BaseModel):
    mode: str = Field(description="model | rules | patterns (SuggestionService.info)")
    notes: list[str]
    source: str | None = None
    spans: list[dict] | None = Field(default=None, description="for text or source: offsets are code points into it")
    lines: list[dict] | None = Field(default=None, description="for lines: one {spans} per line")


def _service(request: Request, ctx):
    state = request.app.state
    with _lock:
        current = getattr(state, "suggestions", None)
        if current is None or current.model_changed():  # a model built meanwhile (guji serve --sample builds one)
            from annotation.suggest.config import SuggestConfig
            from annotation.suggest.service import SuggestionService

            state.suggestions = SuggestionService(SuggestConfig(home=ctx.settings.home))
        return state.suggestions


def _chunks(text: str, layout: str) -> list[tuple[int, int]]:
    ends = sorted({int(e[0]) for e in json.loads(layout) if e[1] == "lb"} | {len(text)})
    chunks, start = [], 0
    last = 0
    for end in ends:
        if end - start > CHUNK and last > start:
            chunks.append((start, last))
            start = last
        while end - start > CHUNK:  # a very long line (no printed line ends): cut it
            chunks.append((start, start + CHUNK))
            start += CHUNK
        last = end
    if last > start:
        chunks.append((start, last))
    return chunks


def _run(service, body: SuggestRequest, store) -> SuggestResponse:
    info = service.info()
    if body.lines is not None:
        lines = [s.to_dict() for s in service.suggest_lines(body.lines)]
        return SuggestResponse(mode=info.mode, notes=info.notes, lines=lines)
    if body.text is not None:
        return SuggestResponse(mode=info.mode, notes=info.notes, spans=[s.to_dict() for s in service.suggest(body.text)])
    juan = Catalog(store).juan_text(body.source)
    text = juan["text"]
    chunks = _chunks(text, juan["layout"])
    spans = []
    for (start, end), found in zip(chunks, service.suggest_lines([text[a:b] for a, b in chunks])):
        for s in found.spans:
            d = s.to_dict()
            d["start"], d["end"] = s.start + start, s.end + start
            spans.append(d)
    return SuggestResponse(mode=info.mode, notes=info.notes, source=body.source, spans=spans)


@router.post("/suggest", response_model=SuggestResponse, response_model_exclude_none=True,
             summary="Machine suggestions for a line, several lines, or a juan (nothing is written)")
async def suggest(request: Request, ctx: ContextDep, body: Annotated[SuggestRequest, Body()]) -> SuggestResponse:
    if body.source is not None and ":" not in body.source:
        raise ValidationError("source must be the IRI of a juan", field="source")
    service = _service(request, ctx)
    return await run_in_threadpool(_run, service, body, ctx.store)
