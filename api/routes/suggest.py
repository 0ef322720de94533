"""POST /api/suggest: machine suggestions (pre-annotation) for a text, from annotation.suggest.

Suggestions are proposals only: nothing is written. Give ``text`` (one line, the shape of
``guji suggest --json``), ``lines``, or ``source`` (a juan IRI: its whole text, cut into chunks at
printed line ends, offsets into the juan text, as annotations use them).

``"relations": true`` adds relations between the suggested spans, as ``guji suggest --json
--relations`` prints them: ``{"head": i, "tail": j, "type": "任职"}``, ``i``/``j`` indexing the
``spans`` of the same answer (of the same line for ``lines``). The relation model is trained on
first use in a separate process (about a minute, once; kept under ``$GUJI_HOME/models``); until it
is there, and without the CHisIEC data, the answer has no ``relations`` key and ``notes`` says why
(a degraded mode, like suggestions without a model).
"""

from __future__ import annotations

import atexit
import json
import subprocess
import sys
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
    relations: bool = Field(default=False, description="also relations between the spans (任职, 上下级 …)")

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
    relations: list[dict] | None = Field(default=None, description="with relations: {head, tail, type}, indexes into spans")
    lines: list[dict] | None = Field(default=None, description="for lines: one {spans[, relations]} per line")


def _service(request: Request, ctx):
    state = request.app.state
    with _lock:
        current = getattr(state, "suggestions", None)
        if current is None or current.model_changed():  # a model built meanwhile (guji serve --sample builds one)
            from annotation.suggest.config import SuggestConfig
            from annotation.suggest.service import SuggestionService

            state.suggestions = SuggestionService(SuggestConfig(home=ctx.settings.home))
        return state.suggestions


def _relation_model(request: Request, ctx):
    """The relation model, or None and why (said in ``notes``: a degraded mode, not an error).

    Loaded once per server when ``$GUJI_HOME/models`` holds one trained on the current
    re_train.json. Otherwise it is built in a separate process (≈ 1 min, once; the server stays
    responsive: training in a request thread would hold the interpreter for that minute) and the
    answer says so until it is there. Without the CHisIEC data there are no relations."""
    from annotation.suggest.config import SuggestConfig
    from annotation.suggest.relations import MODEL_FILE, current_model

    state = request.app.state
    with _lock:
        if getattr(state, "suggest_relations", None) is not None:
            return state.suggest_relations, None
        config = SuggestConfig(home=ctx.settings.home)
        if config.chisiec_dir is None:
            return None, "relations: none suggested — the CHisIEC data (re_train.json) was not found (set GUJI_SHARED)"
        model = current_model(config.home, config.chisiec_dir)
        if model is not None:
            state.suggest_relations = model
            return model, None
        build = getattr(state, "suggest_relations_build", None)
        if build is None or build.poll() is not None:
            (config.home / "models").mkdir(parents=True, exist_ok=True)
            log = open(config.home / "models" / (MODEL_FILE + ".log"), "ab")
            build = subprocess.Popen([sys.executable, "-m", "annotation.suggest.relations", str(config.home),
                                      str(config.chisiec_dir)], stdout=log, stderr=log, stdin=subprocess.DEVNULL)
            log.close()
            state.suggest_relations_build = build
            atexit.register(_stop, build)
        return None, ("relations: the relation model is being built in the background (about a minute, once); "
                      "ask again")


def _stop(build: subprocess.Popen) -> None:
    if build.poll() is None:
        build.terminate()


def _relations(model, text: str, spans) -> list[dict]:
    if model is None:
        return []
    ents = [(sp.start, sp.end, sp.label) for sp in spans]
    return [{"head": h, "tail": t, "type": r} for h, t, r in model.relations(text, ents)]


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


def _run(service, body: SuggestRequest, store, rel_model=None) -> SuggestResponse:
    info = service.info()
    wanted = rel_model is not None
    if body.lines is not None:
        lines = []
        for text, found in zip(body.lines, service.suggest_lines(body.lines)):
            d = found.to_dict()
            if wanted:
                d["relations"] = _relations(rel_model, text, found.spans)
            lines.append(d)
        return SuggestResponse(mode=info.mode, notes=info.notes, lines=lines)
    if body.text is not None:
        found = service.suggest(body.text)
        return SuggestResponse(mode=info.mode, notes=info.notes, spans=[s.to_dict() for s in found],
                               relations=_relations(rel_model, body.text, found) if wanted else None)
    juan = Catalog(store).juan_text(body.source)
    text = juan["text"]
    chunks = _chunks(text, juan["layout"])
    spans, relations = [], []
    for (start, end), found in zip(chunks, service.suggest_lines([text[a:b] for a, b in chunks])):
        first = len(spans)  # a chunk's relations index its spans: shift them to the whole answer's
        for r in _relations(rel_model, text[start:end], found.spans):
            relations.append({"head": r["head"] + first, "tail": r["tail"] + first, "type": r["type"]})
        for s in found.spans:
            d = s.to_dict()
            d["start"], d["end"] = s.start + start, s.end + start
            spans.append(d)
    return SuggestResponse(mode=info.mode, notes=info.notes, source=body.source, spans=spans,
                           relations=relations if wanted else None)


@router.post("/suggest", response_model=SuggestResponse, response_model_exclude_none=True,
             summary="Machine suggestions for a line, several lines, or a juan (nothing is written)")
async def suggest(request: Request, ctx: ContextDep, body: Annotated[SuggestRequest, Body()]) -> SuggestResponse:
    if body.source is not None and ":" not in body.source:
        raise ValidationError("source must be the IRI of a juan", field="source")
    service = _service(request, ctx)
    rel_model, why = await run_in_threadpool(_relation_model, request, ctx) if body.relations else (None, None)
    out = await run_in_threadpool(_run, service, body, ctx.store, rel_model)
    if why:
        out.notes = [*out.notes, why]
    return out
