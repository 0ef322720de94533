"""``SearchService``: normalise the query → search the index → snippets of the original text and
``matched_by``. The CLI (``guji search``, ``guji index``) and ``GET /api/search`` call only this.

Both engines index the same documents (``search.documents``) and answer the same engine-neutral
query (``search.index``); everything users see is built here from the stored original text, so a
hit looks the same whichever engine found it.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from search.documents import to_index_doc
from search.errors import IndexOutdatedError, SearchQueryError
from search.index import FACETS, FILTER_FIELDS, EngineHit, EngineQuery, SearchIndex
from search.normalise import Normaliser, get_normaliser
from search.passages import (
    ANNOTATION_GRAPHS, ANNOTATION_HISTORY_GRAPHS, ANNOTATION_IRIS, PRIVATE_ANNOTATION_GRAPHS, PassageEntity, annotation_juans,
    passage_slices, passages_from_store, private_use_equivalents, source_graphs,
)
from search.query import compile_tree, parse

MAX_SIZE = 100
MAX_WINDOW = 10_000  # offset + size, as Elasticsearch's index.max_result_window
MAX_QUERY_LENGTH = 200  # characters of a query: the API, the CLI and the web page share this limit
SNIPPET_BEFORE = 20  # characters of context before the first match
SNIPPET_LENGTH = 80  # characters a snippet aims for


class FoldStepPublic(BaseModel):
    source: str
    target: str
    kind: str = Field(description="simplified | variant | compatibility | private-use | case")
    table: str = Field(description="where the mapping comes from: opencc, char-converter, yitizi, guji-supplement, unicode, store")


class MatchedBy(BaseModel):
    """A typed character that matched a different character of the text, and why."""

    query: str = Field(description="the character as typed")
    text: str = Field(description="the character in the original text")
    how: Literal["simplified", "traditional", "variant", "compatibility", "private-use", "case"]
    folded_to: str = Field(description="the canonical character both fold to")
    steps: list[FoldStepPublic] = Field(description="the folding path, e.g. 爲→為 (variant), 為→为 (simplified)")


class Highlight(BaseModel):
    start: int = Field(description="code-point offset in the juan text (guji:text)")
    end: int
    text: str = Field(description="the original characters matched")


class AnnotatedEntity(BaseModel):
    """An approved annotation whose span overlaps the passage, and the entity it names."""

    annotation: str = Field(description="the annotation IRI")
    entity: str | None = Field(default=None, description="the authority record; none when the annotation only classifies")
    label: str = Field(description="the entity's name: the authority record's rdfs:label, else the reading's, else the quote")
    category: str | None = Field(default=None, description="person | place | office | era | book-title | event")
    quote: str = Field(description="the annotated characters as the text writes them")
    start: int = Field(description="the annotated span, code-point offsets in the juan text (may run past the passage)")
    end: int
    rank: int = Field(default=1, description="1 = the preferred reading; competing readings count on")
    certainty: str = "certain"


class EntityMatch(BaseModel):
    """A query term found in the name of an annotated entity: the hit came (also) through that annotation."""

    query: str = Field(description="the term as typed")
    name: str = Field(description="the name it was found in")
    via: Literal["label", "quote"] = Field(description="the entity's name, or the annotated quote")
    annotation: str
    entity: str | None = None
    label: str
    category: str | None = None
    matched_by: list[MatchedBy] = Field(description="characters of the term that differ from the name's, and why")


class SearchHit(BaseModel):
    id: str
    source_id: str
    title: str
    edition: str
    edition_label: str | None = None
    juan: str
    juan_label: str | None = None
    folio: str | None = None
    author: str | None = None
    dynasty: str | None = None
    category: str | None = None
    snippet: str = Field(description="original text around the match, matches in <mark>…</mark>, interlinear commentary "
                                     "in <small class=\"note\">…</small>, HTML-escaped")
    highlights: list[Highlight]
    matched_by: list[MatchedBy]
    matched_entities: list[EntityMatch] = Field(
        default_factory=list, description="terms found in the name of an entity an approved annotation puts here")
    entities: list[AnnotatedEntity] = Field(
        default_factory=list, description="the approved annotations on this passage and the entities they name")
    score: float | None = None
    work: str | None = None
    item: str | None = None
    juan_iri: str | None = None
    iri: str | None = Field(default=None, description="the folio side (guji:FolioSide) of the passage")
    notes: list[Highlight] = Field(default_factory=list, description="interlinear commentary (雙行小注) in the passage, juan offsets")
    in_commentary: bool = Field(default=False, description="a term was found inside commentary (commentary=true)")
    material: str | None = Field(default=None, description="material type: 古籍, 民國圖書, 期刊, 報紙 …")
    date: str | None = Field(default=None, description="a serial issue's date (YYYY-MM-DD, YYYY-MM or YYYY)")


class FacetValue(BaseModel):
    value: str
    count: int


class SearchResult(BaseModel):
    query: str
    exact: bool
    commentary: bool = False
    total: int
    page: int
    size: int
    sort: str
    hits: list[SearchHit]
    facets: dict[str, list[FacetValue]]


ProgressFn = Callable[[int, int], None]  # (sources done, sources in all)

# facets whose values are concepts of a SKOS scheme: the index holds the concept's zh-Hant label
CONCEPT_FACETS = {"dynasty": "dynasty", "category": "sibu", "material": "material-type"}


def _facet_values(field: str, value: str) -> tuple[str, ...]:
    """A filter value as the index holds it: a dynasty or 四部 class may be given by its concept
    IRI, notation or any label (晉 = 晋 = jin = Jin = https://w3id.org/guji/vocab/dynasty/jin). The
    index holds the zh-Hant label; an index built before the label was known holds the notation,
    so both are asked for."""
    scheme = CONCEPT_FACETS.get(field)
    if scheme is None:
        return (value,)
    from kg.package import vocab

    concept = vocab.lookup(scheme, value)
    if concept is None:
        return (value,)
    notation = concept.rsplit("/", 1)[-1]
    label = vocab.pref_label(scheme, concept)
    if scheme == "sibu":
        from search.passages import SIBU_LABELS

        label = SIBU_LABELS.get(notation, label)
    return tuple(dict.fromkeys(v for v in (label, notation) if v))


class SearchService:
    """Search over one :class:`~search.index.SearchIndex`; ``store`` (optional) supplies the 外字 table."""

    def __init__(self, index: SearchIndex, *, normaliser: Normaliser | None = None, store: Any = None) -> None:
        self.index = index
        self._normaliser = normaliser
        self._store = store

    @property
    def normaliser(self) -> Normaliser:
        if self._normaliser is None:
            pua = private_use_equivalents(self._store) if self._store is not None else {}
            self._normaliser = get_normaliser(pua)
        return self._normaliser

    # -- searching -----------------------------------------------------------------------------
    def search(self, query: str, *, exact: bool = False, filters: Mapping[str, str | Sequence[str]] | None = None,
               facets: bool | Sequence[str] = True, page: int = 1, size: int = 10,
               sort: str = "relevance", commentary: bool = False,
               date_from: str | None = None, date_to: str | None = None) -> SearchResult:
        if len(query) > MAX_QUERY_LENGTH:  # checked before the parser runs
            raise SearchQueryError(f"the query is {len(query)} characters long; at most {MAX_QUERY_LENGTH} are searched "
                                   "(查询不得超过 {MAX_QUERY_LENGTH} 个字符)".replace("{MAX_QUERY_LENGTH}", str(MAX_QUERY_LENGTH)),
                                   field="q", length=len(query), limit=MAX_QUERY_LENGTH)
        if page < 1:
            raise SearchQueryError("page starts at 1", field="page")
        if not 1 <= size <= MAX_SIZE:
            raise SearchQueryError(f"size must be between 1 and {MAX_SIZE}", field="size")
        if page * size > MAX_WINDOW:
            raise SearchQueryError(f"results past the first {MAX_WINDOW} can not be paged to; narrow the query", field="page")
        if sort not in ("relevance", "work"):
            raise SearchQueryError("sort is 'relevance' or 'work'", field="sort")
        days = self._days(date_from, date_to)
        norm = self.normaliser
        root, positives = compile_tree(parse(query), norm.keep if exact else norm.fold)
        positives = [(norm.keep(typed), chars) for typed, chars in positives]  # typed, aligned with chars
        engine_query = EngineQuery(
            root=root, exact=exact, filters=self._filters(filters), facets=self._facets(facets),
            offset=(page - 1) * size, limit=size, sort=sort, commentary=commentary, days=days,  # type: ignore[arg-type]
        )
        found = self.index.search(engine_query)
        hits = [self._hit(h, positives, exact, commentary) for h in found.hits]
        return SearchResult(
            query=query, exact=exact, commentary=commentary, total=found.total, page=page, size=size, sort=sort, hits=hits,
            facets={f: [FacetValue(value=v, count=c) for v, c in values] for f, values in found.facets.items()},
        )

    @staticmethod
    def _filters(filters: Mapping[str, str | Sequence[str]] | None) -> dict[str, tuple[str, ...]]:
        out: dict[str, tuple[str, ...]] = {}
        for key, value in (filters or {}).items():
            if key not in FILTER_FIELDS:
                raise SearchQueryError(f"unknown filter {key!r}; filters: {', '.join(FILTER_FIELDS)}", field=f"filters.{key}")
            values = (value,) if isinstance(value, str) else tuple(value)
            values = tuple(dict.fromkeys(x for v in values if v for x in _facet_values(key, v)))
            if values:
                out[key] = values
        return out

    @staticmethod
    def _days(date_from: str | None, date_to: str | None) -> tuple[int | None, int | None] | None:
        """A date filter as (first, last) YYYYMMDD days: ``date_from`` from its first day, ``date_to``
        to its last (1935-03 is the whole of March); either may be open."""
        from search.documents import day_range

        if not (date_from or "").strip() and not (date_to or "").strip():
            return None
        out: list[int | None] = []
        for name, value, end in (("date_from", date_from, 0), ("date_to", date_to, 1)):
            if not (value or "").strip():
                out.append(None)
                continue
            found = day_range(value)
            if found is None:
                raise SearchQueryError(f"{name} must be a date YYYY, YYYY-MM or YYYY-MM-DD, not {value!r}"
                                       f"（{name} 须为 YYYY、YYYY-MM 或 YYYY-MM-DD 形式的有效日期）", field=name)
            out.append(found[end])
        if out[0] is not None and out[1] is not None and out[0] > out[1]:
            raise SearchQueryError(f"date_from {date_from} is after date_to {date_to}（起始日期晚于截止日期）", field="date_from")
        return out[0], out[1]

    @staticmethod
    def _facets(facets: bool | Sequence[str]) -> tuple[str, ...]:
        if facets is True:
            return FACETS
        if not facets:
            return ()
        unknown = [f for f in facets if f not in FACETS]
        if unknown:
            raise SearchQueryError(f"unknown facet {unknown[0]!r}; facets: {', '.join(FACETS)}", field="facets")
        return tuple(facets)

    def _hit(self, hit: EngineHit, positives: list[tuple[str, str]], exact: bool, commentary: bool = False) -> SearchHit:
        d = hit.doc
        text, nxt = d["text"], d.get("next_head") or ""
        norm = self.normaliser
        stream = norm.normalise(text + nxt, exact=exact)
        # interlinear commentary of this passage and of the head of the next, as offsets into text + nxt
        notes = [(int(a), int(b)) for a, b in d.get("notes") or ()]
        notes += [(len(text) + int(a), len(text) + int(b)) for a, b in d.get("next_notes") or ()]
        source = stream.source
        offsets = stream.offsets if (positives or notes) else []
        in_note = [any(a <= o < b for a, b in notes) for o in offsets] if notes else [False] * len(offsets)
        # the main text's match stream: what the engine matched in norm/exact and across the bridge
        main = [k for k in range(len(offsets)) if not in_note[k]] if notes else range(len(stream.chars))
        main_chars = "".join(stream.chars[k] for k in main) if notes else stream.chars
        own = sum(1 for k in main if offsets[k] < len(text)) if notes else len(norm.keep(text))
        found: list[list[int]] = []  # per match: the stream positions of its characters
        typed_of: list[str] = []
        for typed, chars in positives:
            at = main_chars.find(chars)
            while 0 <= at < own:
                found.append([main[at + k] for k in range(len(chars))])
                typed_of.append(typed)
                at = main_chars.find(chars, at + 1)
        in_commentary = False
        if commentary and notes:
            for a, b in notes:
                if a >= len(text):
                    continue
                ks = [k for k in range(len(offsets)) if a <= offsets[k] < b]
                note_chars = "".join(stream.chars[k] for k in ks)
                for typed, chars in positives:
                    at = note_chars.find(chars)
                    while at >= 0:
                        found.append([ks[at + k] for k in range(len(chars))])
                        typed_of.append(typed)
                        in_commentary = True
                        at = note_chars.find(chars, at + 1)
        order = sorted(range(len(found)), key=lambda i: found[i][0])
        highlights: list[Highlight] = []
        marks: list[tuple[int, int]] = []
        matched: dict[tuple[str, str], MatchedBy | None] = {}
        base = d["start"]
        for i in order:
            ks, typed = found[i], typed_of[i]
            # one highlight per run of the match that no note interrupts (the note is not the match)
            runs: list[list[int]] = [[ks[0]]]
            for k in ks[1:]:
                prev = offsets[runs[-1][-1]]
                if any(prev < a and b <= offsets[k] for a, b in notes):
                    runs.append([k])
                else:
                    runs[-1].append(k)
            for run in runs:
                o_start, o_end = offsets[run[0]], offsets[run[-1]] + 1
                highlights.append(Highlight.model_construct(start=base + o_start, end=base + o_end, text=source[o_start:o_end]))
                marks.append((o_start, o_end))
            for n, t in enumerate(typed):
                pair = (t, source[offsets[ks[n]]])
                if pair not in matched:
                    matched[pair] = _matched_by(norm, *pair)
        entities = [PassageEntity(**x) for x in d.get("entities") or ()]
        found_in_names: list[EntityMatch] = []
        if entities:
            found_in_names = self._entity_matches(entities, d["start"], positives, exact)
            # the span of an entity found by its name is a match too (the text may write it otherwise)
            done = {(h.start, h.end) for h in highlights}
            for x in entities:
                if not any(m.annotation == x.annotation and m.via == "label" for m in found_in_names):
                    continue
                s, e = max(x.start, base), min(x.end, base + len(text))
                if s < e and (s, e) not in done:
                    done.add((s, e))
                    highlights.append(Highlight.model_construct(start=s, end=e, text=text[s - base:e - base]))
                    marks.append((s - base, e - base))
            highlights.sort(key=lambda h: (h.start, h.end))
        return SearchHit(
            id=d["id"], source_id=d["source_id"], title=d.get("title") or "", edition=d.get("edition") or "",
            edition_label=d.get("edition_label"), juan=d.get("juan") or "", juan_label=d.get("juan_label"),
            folio=d.get("folio"), author=d.get("author"), dynasty=d.get("dynasty"), category=d.get("category"),
            snippet=_snippet(source, len(text), marks, notes), highlights=highlights,
            matched_by=[m for m in matched.values() if m is not None],
            matched_entities=found_in_names,
            entities=[AnnotatedEntity.model_construct(**x.as_dict()) for x in entities],
            score=hit.score, work=d.get("work"), item=d.get("item"), juan_iri=d.get("juan_iri"), iri=d.get("iri"),
            notes=[Highlight.model_construct(start=base + a, end=base + b, text=text[a:b]) for a, b in notes if a < len(text)],
            in_commentary=in_commentary, material=d.get("material"), date=d.get("date"),
        )

    def _entity_matches(self, entities: list[PassageEntity], passage_start: int, positives: list[tuple[str, str]],
                        exact: bool) -> list[EntityMatch]:
        """Which query terms the names of the passage's entities hold (the names the engine matched)."""
        norm = self.normaliser
        out: list[EntityMatch] = []
        streams: dict[str, Any] = {}
        for x in entities:
            for name, via in x.names_at(passage_start):
                if name not in streams:
                    streams[name] = norm.normalise(name, exact=exact)
                stream = streams[name]
                for typed, chars in positives:
                    at = stream.chars.find(chars)
                    if at < 0:
                        continue
                    offsets = stream.offsets
                    why = [_matched_by(norm, t, name[offsets[at + k]]) for k, t in enumerate(typed)]
                    out.append(EntityMatch.model_construct(
                        query=typed, name=name, via=via, annotation=x.annotation, entity=x.entity, label=x.label,
                        category=x.category, matched_by=list({(m.query, m.text): m for m in why if m is not None}.values())))
        return out

    # -- indexing ------------------------------------------------------------------------------
    def build_index(self, store: Any, *, progress: ProgressFn | None = None) -> int:
        """Rebuild the whole index from the store into a new version and switch to it."""
        self._store = store
        self._normaliser = get_normaliser(private_use_equivalents(store))
        graphs = source_graphs(store)
        checkpoint = _last_sequence(store)
        done = 0

        def on_graph(_graph: str, _n: int) -> None:
            nonlocal done
            done += 1
            if progress:
                progress(done, len(graphs))

        if progress:
            progress(0, len(graphs))
        norm = self._normaliser
        docs = (to_index_doc(p, norm) for p in passages_from_store(store, norm, graphs=graphs, on_graph=on_graph))
        n = self.index.rebuild(docs)
        if checkpoint is not None:
            self.index.set_checkpoint(checkpoint)
        return n

    def apply_changes(self, store: Any, changes: Iterable[Any], *, between: Callable[[], None] | None = None,
                      checkpoint: bool = True) -> int:
        """Re-index what change-log entries touch.

        ``changes`` are ``kg.store.Change`` records (or anything with a ``graph``, or graph IRIs).
        A changed source graph is re-indexed whole (delete its passages, add them again). A change
        to an annotation's graph, public or private (an approval moves it from private to public,
        a retraction back), re-indexes only the passages of the juans it targets now and of the
        juans the index still shows it on: their text did not change, so the passages keep their
        ids and are replaced in place. A private graph is read for that routing only, never indexed.
        Returns the number of passages written.

        ``between`` (the projector's express lane) is called at safe points: after each source
        graph, and after each slice of a graph that was new at these changes (nothing of it was
        indexed, so a commit in between shows part of it, never a half-replaced graph).
        ``checkpoint=False`` (the express lane itself): the checkpoint stays where it is.
        """
        graphs: list[str] = []
        new: set[str] = set()  # source graphs every one of these changes only added to
        annotations: list[str] = []  # ids of the changed annotations
        last = None
        for c in changes:
            g = c if isinstance(c, str) else getattr(c, "graph", None) or c["graph"]
            seq = getattr(c, "sequence", None)
            last = seq if seq is not None else last
            if g.startswith((ANNOTATION_GRAPHS, PRIVATE_ANNOTATION_GRAPHS)):
                annotations.append(g.rsplit("/", 1)[-1])
            elif not g.startswith(ANNOTATION_HISTORY_GRAPHS):
                grew = getattr(c, "action", None) == "replace" and getattr(c, "removed", 1) == 0
                if g not in graphs:
                    graphs.append(g)
                    if grew:
                        new.add(g)
                elif not grew:
                    new.discard(g)
        juans: dict[str, set[str]] = {}
        if annotations:
            ids = list(dict.fromkeys(annotations))
            for source, found in (*annotation_juans(store, ids).items(),
                                  *self.index.annotated_juans(ANNOTATION_IRIS + i for i in ids).items()):
                if source not in graphs:
                    juans.setdefault(source, set()).update(found)
        if not graphs and not juans:
            if last is not None and checkpoint:  # annotations on no indexed text: nothing to re-index, the checkpoint moves on
                self.index.set_checkpoint(last)
            return 0
        self._store = store
        self._normaliser = get_normaliser(private_use_equivalents(store))
        norm = self._normaliser
        n = 0
        for g in graphs:
            self.index.delete_graph(g)
            if between is not None and g in new:
                for part in passage_slices(store, norm, g):
                    n += self.index.add(to_index_doc(p, norm) for p in part)
                    between()
            else:
                n += self.index.add(to_index_doc(p, norm) for p in passages_from_store(store, norm, graphs=[g]))
                if between is not None:
                    between()
        if juans:
            n += self.index.add(to_index_doc(p, norm)
                                for p in passages_from_store(store, norm, graphs=sorted(juans), only=juans))
        self.index.commit()  # the checkpoint moves only once the passages are committed
        if last is not None and checkpoint:
            self.index.set_checkpoint(last)
        return n

    def sync(self, store: Any) -> int:
        """Catch the index up with the store's change log since its checkpoint (idempotent).

        Builds the index when there is none, or when it was built with other fields than this
        version indexes (:class:`~search.errors.IndexOutdatedError`).
        """
        if self.index.version() is None:
            return self.build_index(store)
        try:
            since = self.index.checkpoint()
        except IndexOutdatedError:
            return self.build_index(store)
        return self.apply_changes(store, store.changes_since(since))

    def pending(self, store: Any) -> list[Any]:
        """Change-log entries the index has not applied yet (``guji sync --check``)."""
        if self.index.version() is None:
            return list(store.changes_since(0))
        try:
            since = self.index.checkpoint()
        except IndexOutdatedError:  # sync rebuilds it from everything
            since = 0
        return list(store.changes_since(since))


def _matched_by(norm: Normaliser, typed: str, found: str) -> MatchedBy | None:
    why = norm.explain(typed, found)
    if why is None:
        return None
    return MatchedBy.model_construct(
        query=why.query, text=why.text, how=why.how, folded_to=why.folded_to,
        steps=[FoldStepPublic.model_construct(**s.as_dict()) for s in why.steps])


def _last_sequence(store: Any) -> int | None:
    fn = getattr(store, "last_sequence", None)
    return fn() if fn else None


def _snippet(source: str, own_end: int, marks: list[tuple[int, int]], notes: Sequence[tuple[int, int]] = ()) -> str:
    """Original text around the first match, every match inside it wrapped in <mark>…</mark> and
    interlinear commentary in <small class="note">…</small> (a note is shown as a note, never run
    into the main text)."""
    esc = lambda t: html.escape(t, quote=False)  # noqa: E731
    if not marks:
        start, end = 0, min(own_end, SNIPPET_LENGTH)
        tail = "…" if end < own_end else ""
        lead = ""
    else:
        merged: list[list[int]] = []
        for s, e in sorted(marks):
            if merged and s <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        start = max(0, merged[0][0] - SNIPPET_BEFORE)
        end = min(len(source), max(start + SNIPPET_LENGTH, merged[0][1]))
        lead, tail = ("…" if start > 0 else ""), ("…" if end < len(source) else "")
    marked = [False] * (end - start)
    for s, e in marks:
        for i in range(max(s, start), min(e, end)):
            marked[i - start] = True
    noted = [False] * (end - start)
    for a, b in notes:
        for i in range(max(a, start), min(b, end)):
            noted[i - start] = True
    out: list[str] = [lead]
    i = start
    while i < end:  # runs of one (note, mark) state; tags always nest <small><mark>…</mark></small>
        n = noted[i - start]
        j = i
        while j < end and noted[j - start] == n:
            j += 1
        part: list[str] = []
        k = i
        while k < j:
            m = marked[k - start]
            e = k
            while e < j and marked[e - start] == m:
                e += 1
            part.append(f"<mark>{esc(source[k:e])}</mark>" if m else esc(source[k:e]))
            k = e
        out.append(f'<small class="note">{"".join(part)}</small>' if n else "".join(part))
        i = j
    out.append(tail)
    return "".join(out)
