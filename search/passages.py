"""Passages: the unit the search index holds (see docs/adr/0003-search-indexed-unit.md).

A passage is one folio side (葉 a/b) of one juan of one digital copy, as recorded by the
``guji:FolioSide`` offsets in the store. A juan without folio sides is cut into windows of about
:data:`WINDOW` characters (at a line end where there is one). Every passage knows the head of the
passage after it in the same juan (``next_head``), so a phrase that runs over a folio boundary
still matches, once, in the passage where it starts.

A passage also carries the entities of the **approved** annotations whose target span overlaps its
own text range (:class:`PassageEntity`): the authority record's name, the category and the quote,
so that a query for the name finds the passage however the text writes it (ADR 0007). Only public
annotation graphs (``gg:annotation/<id>``) are read; drafts, submissions, rejected and deleted
annotations (``gg:private/annotation/<id>``) never are.

:func:`passages_from_store` reads them from any object with a pyoxigraph-style ``.query(sparql)``
(``kg.store.OxigraphStore``, a bare ``pyoxigraph.Store``), shaped as in docs/data-model.md.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from annotation.rdf import SPAN_AND_READING_PREDICATES, Props, annotations_in, decode, index
from kg.catalog import public_filter
from kg.namespaces import BF, GG, GUJI, GUJIV, ID, RDF, RDFS, SKOS, sparql_prefixes
from kg.sparql import is_public_graph
from search.normalise import Normaliser

# how many matched characters of the next passage a passage carries: a phrase of up to
# HEAD_CHARS + 1 characters matches across a folio boundary
HEAD_CHARS = 24
WINDOW = 400  # characters per window when a juan has no folio sides
MAX_PASSAGE = 3 * WINDOW  # a longer folio side (a source with missing page breaks) is cut into windows

_PREFIXES = sparql_prefixes()

# 四部 (and Kanripo's 道/佛) concept local names → label, when the vocabulary is not loaded
SIBU_LABELS = {"jing": "經部", "shi": "史部", "zi": "子部", "ji": "集部", "cong": "叢部", "dao": "道部", "fo": "佛部"}
# which copies exist: item classes (and the class of the instance they are items of) → facet value
COPY_CLASSES = {
    GUJI + "PhysicalBook": "physical", GUJI + "MicrofilmCopy": "microfilm", GUJI + "DigitalCopy": "digital",
}
# IRIs per VALUES block: Oxigraph's join of a VALUES block grows faster than its size (the approved
# annotations of 3,000 juans: 0.66 s in blocks of 1,000, 13.5 s in one block; 10,000 juans: 70 s)
VALUES_CHUNK = 1000
INSTANCE_COPY_CLASSES = {BF + "Electronic": "digital", BF + "Microform": "microfilm"}

# annotations (ADR 0007): one named graph each, public once approved
ANNOTATION_GRAPHS = GG + "annotation/"  # approved: read for the index
PRIVATE_ANNOTATION_GRAPHS = GG + "private/annotation/"  # draft/submitted/rejected/deleted: never read for it
ANNOTATION_HISTORY_GRAPHS = GG + "private/annotation-history/"  # an approved one's private history: never read for it
ANNOTATION_IRIS = ID + "annotation/"  # the annotation node of graph gg:annotation/<id> is id:annotation/<id>
ENTITY_CATEGORIES = GUJIV + "entity-category/"
# an anchor a text correction left in doubt points at the wrong characters, or at none: not indexed
# (reading views do not highlight such annotations either)
UNRELIABLE_ANCHORS = ("needs_review", "orphaned")


@dataclass(frozen=True, slots=True)
class PassageEntity:
    """One reading of an approved annotation whose target overlaps the passage."""

    annotation: str  # the annotation IRI (id:annotation/<id>)
    label: str  # the entity's name: the authority record's rdfs:label, else the reading's, else the quote
    quote: str  # the annotated characters as the text writes them (oa:exact)
    start: int  # the annotated span, code-point offsets in the juan's guji:text
    end: int
    category: str | None = None  # person | place | office | era | book-title | event
    entity: str | None = None  # the authority record (None for a reading that only classifies)
    rank: int = 1  # 1 = the preferred reading; competing readings (an oa:Choice) count on
    certainty: str = "certain"  # or "uncertain" (存疑)

    def names_at(self, passage_start: int) -> list[tuple[str, str]]:
        """The names a query finds a passage starting at ``passage_start`` by, as (name, "label"|"quote").

        The entity's name, on every passage the span overlaps; the quote only on the passage where
        the span starts, which is where a text search finds it too: an annotation adds names, it
        never adds a second hit for characters of the text (a span over a folio boundary would).
        """
        starts_here = self.start >= passage_start
        out = [(self.label, "label")] if self.label != self.quote or starts_here else []
        if self.quote and starts_here and self.quote != self.label:
            out.append((self.quote, "quote"))
        return out

    def overlaps(self, start: int, end: int) -> bool:
        """Whether the span overlaps ``[start, end)`` (an empty span counts where it stands)."""
        return self.start < end and max(self.end, self.start + 1) > start

    def as_dict(self) -> dict[str, Any]:
        return {"annotation": self.annotation, "entity": self.entity, "label": self.label, "category": self.category,
                "quote": self.quote, "start": self.start, "end": self.end, "rank": self.rank, "certainty": self.certainty}


@dataclass(frozen=True, slots=True)
class Passage:
    """One indexed passage with everything a hit shows and every facet it is counted under."""

    id: str  # stable key, e.g. "KR2a0031/WYG/001/1a"
    graph: str  # the named graph it comes from (deleted and re-added together)
    source_id: str  # e.g. the Kanripo id "KR2a0031"
    title: str
    edition: str  # edition code ("WYG", "SBCK", "master" ...)
    juan: str  # juan number as the source writes it ("001")
    juan_seq: int  # position of the juan in its copy
    seq: int  # position of the passage in its juan
    start: int  # code-point offsets of the passage in the juan's guji:text
    end: int
    text: str  # the original text of the passage, untouched
    next_head: str = ""  # original text at the start of the next passage (boundary-crossing phrases)
    # interlinear commentary (雙行小注) as [start, end) offsets into ``text`` and into ``next_head``:
    # indexed apart from the main text, so a phrase of the main text matches across a note
    notes: tuple[tuple[int, int], ...] = ()
    next_notes: tuple[tuple[int, int], ...] = ()
    folio: str | None = None  # "1a" (folio 1, side a); None for a window
    edition_label: str | None = None
    juan_label: str | None = None
    author: str | None = None
    dynasty: str | None = None
    category: str | None = None  # 四部 label: 經部 史部 子部 集部 ...
    holdings: tuple[str, ...] = ()  # libraries that hold a copy of the work
    copies: tuple[str, ...] = ()  # which copies exist: physical, microfilm, digital
    work: str | None = None  # IRIs, for links
    item: str | None = None
    juan_iri: str | None = None
    iri: str | None = None  # the guji:FolioSide
    entities: tuple[PassageEntity, ...] = ()  # approved annotations overlapping the passage
    material: str | None = None  # material type label (古籍, 民國圖書, 期刊, 報紙 ...; package v2, ADR 0021)
    date: str | None = None  # a serial issue's date as recorded: YYYY-MM-DD, YYYY-MM or YYYY

    @property
    def order(self) -> str:
        """Sort key for "work order": source, edition, juan, passage."""
        return f"{self.source_id}\x1f{self.edition}\x1f{self.juan_seq:06d}\x1f{self.seq:06d}"


@dataclass(frozen=True, slots=True)
class Folio:
    start: int
    end: int | None
    folio: str | None
    iri: str | None = None


@dataclass(slots=True)
class JuanText:
    """One juan of one digital copy with the metadata its passages carry."""

    graph: str
    iri: str
    text: str
    juan: str
    juan_seq: int
    meta: dict[str, Any] = field(default_factory=dict)  # Passage fields shared by the whole juan
    folios: list[Folio] = field(default_factory=list)
    entities: list[PassageEntity] = field(default_factory=list)  # approved annotations on the juan
    notes: list[tuple[int, int]] = field(default_factory=list)  # commentary [start, end) in ``text``


# -- segmentation ------------------------------------------------------------------------------
def segments(text: str, folios: Sequence[Folio]) -> list[tuple[int, int, Folio | None]]:
    """Cut a juan into contiguous ``(start, end, folio)`` pieces covering the whole text.

    Folio sides end where the next one starts (gaps and overlaps in the recorded offsets are
    closed that way); text before the first side is its own piece. Without folio sides: windows.
    """
    n = len(text)
    sides = sorted((f for f in folios if 0 <= f.start <= n), key=lambda f: f.start)
    if not sides:
        return [(s, e, None) for s, e in windows(text)]
    out: list[tuple[int, int, Folio | None]] = []
    if sides[0].start > 0:
        out.append((0, sides[0].start, None))
    for i, f in enumerate(sides):
        end = sides[i + 1].start if i + 1 < len(sides) else n
        if end > f.start:  # two sides at one offset: the empty one is skipped
            out.append((f.start, end, f))
    return out


def windows(text: str, size: int = WINDOW) -> list[tuple[int, int]]:
    """Windows of about ``size`` characters, cut after a line end or stop when one is near."""
    out: list[tuple[int, int]] = []
    start, n = 0, len(text)
    while start < n:
        end = min(start + size, n)
        if end < n:
            cut = max(text.rfind(c, start + size // 2, end) for c in "\n。¶")
            if cut > start:
                end = cut + 1
        out.append((start, end))
        start = end
    return out or [(0, 0)]


def head(text: str, normaliser: Normaliser, start: int = 0, chars: int = HEAD_CHARS,
         notes: Sequence[tuple[int, int]] = ()) -> str:
    """The shortest run of ``text`` from ``start`` that holds ``chars`` matched characters of the
    main text (commentary in ``notes`` does not count), or the rest."""
    count = 0
    for i in range(start, len(text)):
        if notes and in_notes(i, notes):
            continue
        if normaliser.is_matched(text[i]):
            count += 1
            if count == chars:
                return text[start: i + 1]
    return text[start:]


def in_notes(i: int, notes: Sequence[tuple[int, int]]) -> bool:
    return any(a <= i < b for a, b in notes)


def clip_notes(notes: Sequence[tuple[int, int]], start: int, end: int) -> tuple[tuple[int, int], ...]:
    """The parts of ``notes`` inside ``[start, end)``, relative to ``start``."""
    return tuple((max(a, start) - start, min(b, end) - start) for a, b in notes if a < end and b > start)


def note_ranges(layout: Sequence[Sequence[Any]]) -> list[tuple[int, int]]:
    """Commentary ``[start, end)`` from a juan's layout (``(`` … ``)`` items, ADR 0005)."""
    out: list[tuple[int, int]] = []
    opened: int | None = None
    for item in layout:
        kind = item[1]
        if kind == "(":
            opened = item[0]
        elif kind == ")" and opened is not None:
            if item[0] > opened:
                out.append((opened, item[0]))
            opened = None
    return out


def juan_passages(juan: JuanText, normaliser: Normaliser) -> list[Passage]:
    pieces: list[tuple[int, int, Folio | None, int]] = []  # start, end, folio side, part of that side
    for s, e, f in segments(juan.text, juan.folios):
        parts = windows(juan.text[s:e]) if e - s > MAX_PASSAGE else [(0, e - s)]
        for part, (ws, we) in enumerate(parts, start=1):
            if normaliser.keep(juan.text[s + ws:s + we]):  # a piece with nothing to match is not indexed
                pieces.append((s + ws, s + we, f, part))
    key = juan.iri.removeprefix(ID + "text/")
    entities = sorted(juan.entities, key=lambda x: (x.start, x.end, x.annotation, x.rank))
    out: list[Passage] = []
    for seq, (s, e, f, part) in enumerate(pieces, start=1):
        # what follows in the juan (a piece with nothing to match in between is skipped over)
        next_head = head(juan.text, normaliser, e, notes=juan.notes) if seq < len(pieces) else ""
        label = f.folio if f else None
        pid = (f"{key}/{label}" + (f".{part}" if part > 1 else "")) if label else f"{key}/p{seq}"
        out.append(Passage(
            id=pid, graph=juan.graph, juan=juan.juan, juan_seq=juan.juan_seq, seq=seq, start=s, end=e,
            text=juan.text[s:e], next_head=next_head, folio=label, juan_iri=juan.iri,
            notes=clip_notes(juan.notes, s, e) if juan.notes else (),
            next_notes=clip_notes(juan.notes, e, e + len(next_head)) if juan.notes and next_head else (),
            iri=f.iri if f else None,
            entities=tuple(x for x in entities if x.overlaps(s, e)) if entities else (),
            **juan.meta,
        ))
    # a folio label seen twice in one juan (a repeated <pb>) keeps ids unique
    seen: dict[str, int] = defaultdict(int)
    for i, p in enumerate(out):
        seen[p.id] += 1
        if seen[p.id] > 1:
            out[i] = replace(p, id=f"{p.id}~{seen[p.id]}")
    return out


# -- reading the store -------------------------------------------------------------------------
def _rows(store: Any, sparql: str) -> Iterator[dict[str, Any]]:
    for sol in store.query(_PREFIXES + sparql):
        yield sol


def _v(sol: Any, name: str) -> str | None:
    term = sol[name]
    return None if term is None else term.value


def _label_of(concept: str | None, labels: dict[str, str], fallback: dict[str, str] | None = None) -> str | None:
    if concept is None:
        return None
    if concept in labels:
        return labels[concept]
    if concept.startswith(GUJIV + "dynasty/"):  # the scheme is not loaded into the store: its file says
        from kg.package import vocab

        found = vocab.pref_label("dynasty", concept)
        if found:
            return found
    tail = concept.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]
    if fallback and tail in fallback:
        return fallback[tail]
    return tail if concept.startswith(("http://", "https://")) else concept


def source_graphs(store: Any) -> list[str]:
    """Public named graphs that hold at least one juan, in IRI order (the index is public)."""
    rows = _rows(store, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?j a guji:Juan } } ORDER BY ?g")
    return [g for g in (_v(r, "g") for r in rows) if is_public_graph(g)]


def _concept_labels(store: Any) -> dict[str, str]:
    """skos:prefLabel (zh-Hant first) of every concept, wherever the vocabulary is loaded."""
    rank = {"zh-hant": 0, "zh": 1, "zh-hans": 2}
    best: dict[str, tuple[int, str]] = {}
    rows = _rows(store, "SELECT ?c ?l WHERE { GRAPH ?vg { ?c skos:prefLabel ?l } }")
    for r in rows:
        lang = (r["l"].language or "").lower()
        score = rank.get(lang, 3)
        c = _v(r, "c")
        if c not in best or score < best[c][0]:
            best[c] = (score, _v(r, "l"))
    return {c: label for c, (_, label) in best.items()}


def _works(store: Any, graph: str, labels: dict[str, str], only: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
    """Work-level metadata of the works described in ``graph`` (or of these works of it): source
    id, title, facets."""
    works: dict[str, dict[str, Any]] = {}
    pick = f"VALUES ?work {{ {_values(sorted(set(only)))} }}" if only is not None else ""
    rows = _rows(store, f"""SELECT ?work ?sid ?title ?main ?cls ?dyn ?author WHERE {{
      GRAPH <{graph}> {{ {pick} ?work a bf:Work .
        OPTIONAL {{ ?work bf:contribution/bf:agent/rdfs:label ?author }}
        OPTIONAL {{ ?work dcterms:identifier ?sid }}
        OPTIONAL {{ ?work rdfs:label ?title }}
        OPTIONAL {{ ?work bf:title/bf:mainTitle ?main }}
        OPTIONAL {{ ?work guji:classification ?cls }}
        OPTIONAL {{ ?work guji:dynasty ?dyn }} }} }}""")
    for r in rows:
        w = works.setdefault(_v(r, "work"), {"holdings": set(), "copies": set()})
        w.setdefault("source_id", _v(r, "sid"))
        w.setdefault("title", _v(r, "title") or _v(r, "main"))
        cls = _v(r, "cls")
        if cls and (cls.startswith(GUJIV + "sibu/") or "category" not in w):
            w["category"] = _label_of(cls, labels, SIBU_LABELS)
        if _v(r, "dyn"):
            w.setdefault("dynasty", _label_of(_v(r, "dyn"), labels))
        if _v(r, "author"):
            w.setdefault("author", _v(r, "author"))
    if not works:
        return works
    # copies and holdings of these works, wherever they are described (other submissions too), as
    # far as public graphs say: a preservation master is not a digital copy the public can have.
    # Four narrow queries, joined here: one query with the types and holders as OPTIONALs returned
    # their cross product (34 rows per work in a census package, two thirds of the graph's time).
    found = [(_v(r, "work"), r["inst"], r["item"]) for block in _value_blocks(list(works)) for r in _rows(store, f"""
      SELECT DISTINCT ?work ?inst ?item WHERE {{ VALUES ?work {{ {block} }}
      GRAPH ?g1 {{ ?inst bf:reproductionOf*/bf:instanceOf ?work }} {public_filter("g1")}
      GRAPH ?g2 {{ ?item bf:itemOf ?inst }} {public_filter("g2")} }}""")]
    if not found:
        return works
    types = _public_values(store, [RDF + "type"], {x for _, inst, item in found for x in (inst, item)})
    holders = _public_values(store, [BF + "heldBy"], {item for _, _, item in found})
    names = _public_values(store, [RDFS + "label", SKOS + "prefLabel"], {h for hs in holders.values() for h in hs})
    for work, inst, item in found:
        w = works[work]
        for itype in types.get(item) or [None]:  # as a row per item type × instance type would give them
            kind = COPY_CLASSES.get(itype.value if itype is not None else "")
            if kind:
                w["copies"].add(kind)
            else:
                w["copies"].update(INSTANCE_COPY_CLASSES[c.value] for c in types.get(inst, ()) if c.value in INSTANCE_COPY_CLASSES)
        for holder in holders.get(item, ()):
            w["holdings"].update(n.value for n in names.get(holder) or [holder])
    return works


def _public_values(store: Any, predicates: Sequence[str], keys: Iterable[Any]) -> dict[Any, list[Any]]:
    """Term → the distinct objects (terms) of ``predicates`` on it in public graphs, for the given
    subject terms: one index lookup per subject and predicate (a query with 1,000 IRIs in VALUES
    spent 60 ms in the engine's join machinery on what these lookups read in a few)."""
    import pyoxigraph as ox

    engine = getattr(store, "oxigraph", None)
    out: dict[Any, list[Any]] = defaultdict(list)
    if engine is None:  # a store with a query method only: the same in SPARQL (IRIs; VALUES cannot hold blank nodes)
        iris = sorted(k.value for k in keys if isinstance(k, ox.NamedNode))
        path = "|".join(f"<{p}>" for p in predicates)
        for block in _value_blocks(iris):
            for r in _rows(store, f"""SELECT DISTINCT ?x ?o WHERE {{ VALUES ?x {{ {block} }}
              GRAPH ?g {{ ?x {path} ?o }} {public_filter("g")} }}"""):
                out[r["x"]].append(r["o"])
        return out
    preds = [ox.NamedNode(p) for p in predicates]
    for key in keys:
        found: list[Any] = []
        for p in preds:
            for q in engine.quads_for_pattern(key, p, None, None):
                g = q.graph_name
                if isinstance(g, ox.NamedNode) and is_public_graph(g.value) and q.object not in found:
                    found.append(q.object)
        if found:
            out[key] = found
    return out


def juans_in_graph(store: Any, graph: str, labels: dict[str, str] | None = None,
                   only: Iterable[str] | None = None) -> list[JuanText]:
    """Every juan of ``graph`` (or only these juans of it) with its folio sides and the work/edition
    metadata of its copy."""
    labels = _concept_labels(store) if labels is None else labels
    # the VALUES block first inside the GRAPH group: outside it, Oxigraph evaluated the nested
    # OPTIONAL group (with its BIND) for the whole graph per juan — 200 juans of a 1,000-juan
    # package graph took 4.9 s (0.05 s inside); a 10,000-book graph made each approval's re-index slow
    pick = f"VALUES ?juan {{ {_values(sorted(set(only)))} }}" if only is not None else ""
    rows = list(_rows(store, f"""SELECT ?juan ?text ?layout ?num ?seq ?label ?item ?einst ?inst ?work ?code ?icode ?elabel ?idyn ?mt ?day WHERE {{
      GRAPH <{graph}> {{ {pick}
        ?juan a guji:Juan ; guji:text ?text ; dcterms:isPartOf ?item .
        OPTIONAL {{ ?juan guji:layout ?layout }}
        OPTIONAL {{ ?juan guji:juanNumber ?num }}
        OPTIONAL {{ ?juan guji:sequence ?seq }}
        OPTIONAL {{ ?juan guji:juanLabel ?label }}
        OPTIONAL {{ ?item guji:editionCode ?icode }}
        OPTIONAL {{ ?item bf:itemOf ?einst .
          OPTIONAL {{ ?einst bf:reproductionOf ?orig }}
          BIND(COALESCE(?orig, ?einst) AS ?inst)
          OPTIONAL {{ ?inst bf:instanceOf ?work }}
          OPTIONAL {{ ?inst guji:editionCode ?code }}
          OPTIONAL {{ ?inst rdfs:label ?elabel }}
          OPTIONAL {{ ?inst guji:dynasty ?idyn }}
          OPTIONAL {{ ?inst guji:materialType ?mt }}
          OPTIONAL {{ ?inst guji:issueDate ?day }} }} }} }}"""))
    if only is not None:
        # only the works of these juans (a 10,000-book package graph describes 10,000 works: reading
        # them all made each approval's re-index of one juan take seconds); all of them when a copy
        # names no work of this graph (the one-work fallback below needs them)
        named = {_v(r, "work") for r in rows}
        works = _works(store, graph, labels, only=[w for w in named if w]) if rows else {}
        if None in named or not named <= works.keys():
            works = _works(store, graph, labels)
    else:
        works = _works(store, graph, labels)
    juans: dict[str, JuanText] = {}
    for r in rows:
        iri = _v(r, "juan")
        if iri in juans:
            continue
        work_iri = _v(r, "work")
        w = works.get(work_iri or "", {})
        if not w and len(works) == 1:  # a copy whose edition does not name its work
            work_iri, w = next(iter(works.items()))
        item = _v(r, "item")
        num = _v(r, "num") or iri.rsplit("/", 1)[-1]
        seq = _v(r, "seq")
        edition = _v(r, "code") or _v(r, "icode") or item.rsplit("/", 1)[-1]
        juans[iri] = JuanText(
            graph=graph, iri=iri, text=_v(r, "text"), juan=num,
            juan_seq=int(seq) if seq and seq.lstrip("-").isdigit() else 0,
            meta={
                "source_id": w.get("source_id") or graph.rstrip("/").rsplit("/", 1)[-1],
                "title": w.get("title") or "", "edition": edition, "edition_label": _v(r, "elabel"),
                "juan_label": _v(r, "label"), "category": w.get("category"), "author": w.get("author"),
                # the edition's dynasty (a Ming woodblock print) when recorded, else the work's
                "dynasty": _label_of(_v(r, "idyn"), labels) or w.get("dynasty"),
                "holdings": tuple(sorted(w.get("holdings", ()))), "copies": tuple(sorted(w.get("copies", ()))),
                "work": work_iri, "item": item,
                "material": material_label(_v(r, "mt")), "date": _v(r, "day"),
            },
            notes=_notes_of(_v(r, "layout")),
        )
    rows = _rows(store, f"""SELECT ?juan ?fs ?start ?end ?folio ?side WHERE {{
      GRAPH <{graph}> {{ {pick} ?fs a guji:FolioSide ; dcterms:isPartOf ?juan ; guji:startOffset ?start .
        OPTIONAL {{ ?fs guji:endOffset ?end }} OPTIONAL {{ ?fs guji:folio ?folio }} OPTIONAL {{ ?fs guji:side ?side }} }} }}""")
    for r in rows:
        j = juans.get(_v(r, "juan"))
        if j is None:
            continue
        fs = _v(r, "fs")
        folio, side = _v(r, "folio"), _v(r, "side")
        label = f"{folio}{side or ''}" if folio else fs.rsplit("/", 1)[-1]
        end = _v(r, "end")
        j.folios.append(Folio(int(_v(r, "start")), int(end) if end else None, label, fs))
    return sorted(juans.values(), key=lambda j: (j.meta["edition"], j.juan_seq, j.juan))


DEFAULT_MATERIAL = GUJIV + "material-type/ancient-book"  # a text that says nothing is an ancient book


def material_label(concept: str | None) -> str:
    """The material-type facet value: the concept's zh-Hant label (古籍 when none is recorded)."""
    from kg.package import vocab

    concept = concept or DEFAULT_MATERIAL
    return vocab.pref_label("material-type", concept) or concept.rsplit("/", 1)[-1]


def _notes_of(layout: str | None) -> list[tuple[int, int]]:
    if not layout or '"("' not in layout:  # most juans have no commentary: skip the JSON
        return []
    import json

    try:
        return note_ranges(json.loads(layout))
    except (ValueError, TypeError, IndexError):
        return []


def _values(iris: Iterable[str]) -> str:
    return " ".join(f"<{i}>" for i in iris)


def _value_blocks(iris: Sequence[str]) -> Iterator[str]:
    """``iris`` as VALUES bodies of at most ``VALUES_CHUNK`` IRIs each."""
    for i in range(0, len(iris), VALUES_CHUNK):
        yield _values(iris[i:i + VALUES_CHUNK])


def approved_annotations(store: Any, juans: Iterable[str]) -> dict[str, list[PassageEntity]]:
    """The readings of the approved annotations on ``juans`` (juan IRI → entities, in span order).

    Only public annotation graphs are read, and in them only annotations whose review status says
    approved and whose anchor is reliable. A reading's name is its authority record's label as a
    public graph states it (an authority created on the spot lives in the annotation's graph), else
    the label the reading carries, else the quote.

    Three queries per 1,000 juans: the annotation graphs that target them (an index lookup from
    the juan), the triples of those graphs that matter here, the authority labels.
    (One query with OPTIONALs would let Oxigraph scan every annotation graph of the store.)
    """
    juans = list(dict.fromkeys(juans))
    if not juans:
        return {}
    graphs = sorted({_v(r, "g") for block in _value_blocks(juans) for r in _rows(store, f"""SELECT DISTINCT ?g WHERE {{
      VALUES ?juan {{ {block} }}
      GRAPH ?g {{ ?t oa:hasSource ?juan . ?a oa:hasTarget ?t ; guji:reviewStatus "approved" }}
      FILTER(STRSTARTS(STR(?g), "{ANNOTATION_GRAPHS}")) }}""")})
    wanted = set(juans)
    readings: list[dict[str, Any]] = []
    engine = getattr(store, "oxigraph", None)
    for i in range(0, len(graphs), 1000):
        chunk = graphs[i:i + 1000]
        if engine is not None:  # the triples of each graph straight from the store's index: no query engine
            import pyoxigraph as ox

            props = {g: index(engine.quads_for_pattern(None, None, None, ox.NamedNode(g)), SPAN_AND_READING_PREDICATES)
                     for g in chunk}
        else:
            props = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
            # (a FILTER, not a second VALUES: Oxigraph would join the two VALUES first, ~20x slower)
            rows = _rows(store, f"""SELECT ?g ?s ?p ?o WHERE {{ VALUES ?g {{ {_values(chunk)} }}
              GRAPH ?g {{ ?s ?p ?o }} FILTER(?p IN ({_PREDICATE_LIST})) }}""")
            for g, subject, predicate, obj in rows:
                props[g.value][subject.value][predicate.value].append(obj)
        for g in chunk:
            readings.extend(_readings(props[g], wanted))
    labels = _entity_labels(store, {x["entity"] for x in readings if x["entity"]})
    out: dict[str, list[PassageEntity]] = {}
    for x in sorted(readings, key=lambda x: (x["start"], x["end"], x["annotation"], x["rank"])):
        label = labels.get(x["entity"] or "") or x["reading_label"] or x["quote"]
        if label:
            out.setdefault(x["juan"], []).append(PassageEntity(
                annotation=x["annotation"], label=label, quote=x["quote"], start=x["start"], end=x["end"],
                category=x["category"], entity=x["entity"], rank=x["rank"], certainty=x["certainty"]))
    return out


_PREDICATE_LIST = ", ".join(f"<{p}>" for p in sorted(SPAN_AND_READING_PREDICATES))


def _readings(props: Props, juans: set[str]) -> Iterator[dict[str, Any]]:
    """The readings of the approved annotations of one graph (its index, :func:`annotation.rdf.index`)
    whose anchor is reliable, one per reading and span on ``juans``."""
    for iri in annotations_in(props):
        a = decode(props, iri, record=False)
        if a is None or a.status != "approved" or a.anchor_state in UNRELIABLE_ANCHORS:
            continue
        spans = [(s.source, s.start, s.end, s.exact or "") for s in a.spans
                 if s.source in juans and s.start is not None and s.end is not None]  # else nothing to place
        if not spans:
            continue
        certainty = a.certainty or "certain"
        for position, r in enumerate(a.readings, start=1):
            if r.category is None:
                continue
            cat = r.category
            for juan, start, end, quote in spans:
                yield {
                    "juan": juan, "annotation": iri, "start": start, "end": end, "quote": quote, "certainty": certainty,
                    "category": cat.removeprefix(ENTITY_CATEGORIES) if cat.startswith(ENTITY_CATEGORIES) else cat,
                    "rank": r.rank if r.rank is not None else position, "entity": r.entity, "reading_label": r.label,
                }


def annotation_juans(store: Any, annotation_ids: Iterable[str]) -> dict[str, set[str]]:
    """{source graph: juan IRIs} that these annotations target (public or private graph: after a
    retraction only the private one holds the annotation, and its passages must lose it)."""
    ids = list(dict.fromkeys(annotation_ids))
    out: dict[str, set[str]] = {}
    for i in range(0, len(ids), 500):
        graphs = [base + a for a in ids[i:i + 500] for base in (ANNOTATION_GRAPHS, PRIVATE_ANNOTATION_GRAPHS)]
        rows = _rows(store, f"""SELECT DISTINCT ?sg ?juan WHERE {{ VALUES ?ag {{ {_values(graphs)} }}
          GRAPH ?ag {{ ?a oa:hasTarget ?t . ?t oa:hasSource ?juan }}
          GRAPH ?sg {{ ?juan a guji:Juan }} }}""")
        for r in rows:
            if is_public_graph(_v(r, "sg")):
                out.setdefault(_v(r, "sg"), set()).add(_v(r, "juan"))
    return out


def annotation_sources(store: Any, annotation_ids: Iterable[str]) -> list[str]:
    """The source graphs holding the juans these annotations target (routing a change to them).

    Both graphs of each annotation are looked at, public and private: after a retraction only the
    private one holds it, and its passages must lose it. Only the target's juan IRI is read.
    """
    ids = list(dict.fromkeys(annotation_ids))
    out: list[str] = []
    for i in range(0, len(ids), 500):
        graphs = [base + a for a in ids[i:i + 500] for base in (ANNOTATION_GRAPHS, PRIVATE_ANNOTATION_GRAPHS)]
        rows = _rows(store, f"""SELECT DISTINCT ?sg WHERE {{ VALUES ?ag {{ {_values(graphs)} }}
          GRAPH ?ag {{ ?a oa:hasTarget ?t . ?t oa:hasSource ?juan }}
          GRAPH ?sg {{ ?juan a guji:Juan }} }}""")
        out.extend(g for g in (_v(r, "sg") for r in rows) if g not in out)
    return sorted(out)


def _entity_labels(store: Any, entities: set[str]) -> dict[str, str]:
    """The name of each authority record, from public graphs only (zh-Hant first, then any)."""
    if not entities:
        return {}
    rank = {"zh-hant": 0, "zh": 1, "": 2, "zh-hans": 3}
    best: dict[str, tuple[int, str]] = {}
    rows = (r for block in _value_blocks(sorted(entities)) for r in _rows(store, f"""SELECT ?e ?l ?g WHERE {{
      VALUES ?e {{ {block} }} GRAPH ?g {{ ?e rdfs:label|skos:prefLabel ?l }} }}"""))
    for r in rows:
        if not is_public_graph(_v(r, "g")):  # a draft's provisional record, preservation data ...
            continue
        lang = (r["l"].language or "").lower()
        key = (rank.get(lang, 4), _v(r, "l"))
        e = _v(r, "e")
        if e not in best or key < best[e]:
            best[e] = key
    return {e: label for e, (_, label) in best.items()}


def private_use_equivalents(store: Any) -> dict[str, str]:
    """The 字符集外字 table: private-use character → its normalised form (guji:normalizedForm)."""
    rows = _rows(store, """SELECT ?cp ?eq WHERE { GRAPH ?g {
      ?c a guji:NonUnicodeCharacter ; guji:puaCodePoint ?cp ; guji:normalizedForm ?eq } }""")
    out: dict[str, str] = {}
    for r in rows:
        cp, eq = _v(r, "cp"), _v(r, "eq")
        try:
            ch = chr(int(cp.upper().removeprefix("U+"), 16))
        except ValueError:
            continue
        if len(eq) == 1:
            out[ch] = eq
    return out


SLICE_SECONDS = 0.5  # what one slice of a graph indexed in slices should take (:func:`passage_slices`)
JUAN_SLICE = 20  # juans in the first slice; later slices are sized from the time the last one took


def passage_slices(store: Any, normaliser: Normaliser, graph: str, size: int | None = None) -> Iterator[list[Passage]]:
    """The passages of ``graph`` in slices of juans (the same passages as :func:`passages_from_store`):
    a 10,000-book package or a Kanripo work of 500 juans is read and indexed a slice at a time, so
    the search projection reaches a safe point for the express lane about every
    :data:`SLICE_SECONDS` (a slice is sized from the time the previous one took, reading and
    indexing, so a juan of 6 passages and one of 60 both fit), with the works of its juans only.
    A fixed ``size`` (juans per slice) turns the sizing off."""
    import time

    labels = _concept_labels(store)
    iris = [_v(r, "j") for r in _rows(store, f"SELECT ?j WHERE {{ GRAPH <{graph}> {{ ?j a guji:Juan }} }} ORDER BY ?j")]
    step, i = size or JUAN_SLICE, 0
    while i < len(iris):
        started = time.monotonic()
        out = list(_juans_passages(store, normaliser, graph, labels, iris[i:i + step]))
        i += step
        yield out  # the caller indexes the slice and reaches its safe point before coming back
        if size is None:
            took = max(time.monotonic() - started, 1e-3)
            step = max(1, min(2 * step, int(step * SLICE_SECONDS / took), 5000))


def passages_from_store(store: Any, normaliser: Normaliser, *, graphs: Iterable[str] | None = None,
                        on_graph: Callable[[str, int], None] | None = None,
                        only: Mapping[str, Iterable[str]] | None = None) -> Iterator[Passage]:
    """Yield the passages of every source graph (or of ``graphs``), one graph at a time; with
    ``only`` ({graph: juan IRIs}), the passages of those juans only.

    ``on_graph(graph, passages)`` is called after each graph (progress reporting).
    """
    labels = _concept_labels(store)
    for g in (source_graphs(store) if graphs is None else graphs):
        n = 0
        for p in _juans_passages(store, normaliser, g, labels, None if only is None else only.get(g, ())):
            n += 1
            yield p
        if on_graph:
            on_graph(g, n)


def _juans_passages(store: Any, normaliser: Normaliser, graph: str, labels: dict[str, str],
                    only: Iterable[str] | None) -> Iterator[Passage]:
    """The passages of the juans of ``graph`` (or of these juans), with their approved annotations."""
    juans = juans_in_graph(store, graph, labels, only=only)
    entities = approved_annotations(store, (j.iri for j in juans))
    for juan in juans:
        juan.entities = entities.get(juan.iri, [])
        yield from juan_passages(juan, normaliser)

