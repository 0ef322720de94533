"""The small interface every search backend implements, and the engine-neutral request it runs.

Backends (``search.backends``) only match and count: the service normalises the query, compiles it
to the tree below, and builds snippets and ``matched_by`` from the stored original text. So both
engines see the same tokens and give the same answers (``tests/contract`` checks that).

Indexed fields (:class:`IndexDoc`), identical in both engines:

- ``norm`` / ``exact``: the folded / unfolded match stream, one token per character, positions
  consecutive (phrase = character sequence);
- ``bridge_norm`` / ``bridge_exact``: the last ``HEAD_CHARS`` characters of the passage, a boundary
  mark token, the first ``HEAD_CHARS`` of the next passage. A phrase ``q`` that runs over the
  boundary after ``i`` characters is the phrase ``q[:i] MARK q[i:]`` there: the mark forces the
  match to straddle the boundary, so a phrase over a folio boundary matches once, in the passage
  where it starts, and a phrase inside one passage never matches its neighbour's bridge;
- ``entity_norm`` / ``entity_exact``: the names of the entities approved annotations put on the
  passage (``search.passages.PassageEntity``), one token per character, :data:`NAME_MARK` between
  two names. Every query phrase also matches there (``phrase(q) OR bridges OR phrase(q) in the
  names``), so a name finds the passage however the text writes it, and never across two names;
- ``note_norm`` / ``note_exact``: the passage's interlinear commentary (雙行小注), kept out of
  ``norm``/``exact`` so that a phrase of the main text matches across a note standing between its
  characters; a query matches there only with ``commentary`` (within one note, :data:`NAME_MARK`
  between two notes);
- relevance ties are broken by ``order`` (the work order) on every engine, so a page is the same
  whichever engine answers;
- ``day_from`` / ``day_to``: the first and last day (YYYYMMDD integers) a dated passage (a serial
  issue's text) covers; a date filter keeps passages whose days overlap the asked range;
- keyword facets ``dynasty category edition holding copy entity entity_category material`` and
  ``source_id graph id annotation`` (the annotation IRIs, to find a changed annotation's passages);
- ``order``: the work-order sort key;
- ``doc``: the stored JSON of the passage (original text and display fields).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, Union, runtime_checkable

BRIDGE_MARK = "|"  # never in a match stream (punctuation is not matched), so only the bridge has it
NAME_MARK = "|"  # between two entity names (another field: a phrase can not run from one name into the next)
FACETS = ("dynasty", "category", "edition", "holding", "copy", "entity", "entity_category", "material")
FILTER_FIELDS = FACETS + ("source_id",)
Sort = Literal["relevance", "work"]


@dataclass(frozen=True, slots=True)
class Phrase:
    """A sequence of characters that must stand next to each other (one character: a term)."""

    chars: str


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Node


Node = Union[Phrase, And, Or, Not]


def crossing_splits(chars: str, limit: int) -> list[tuple[str, str]]:
    """Ways ``chars`` can run over a passage boundary: (suffix of this passage, prefix of the next)."""
    n = len(chars)
    return [(chars[:i], chars[i:]) for i in range(max(1, n - limit), min(n - 1, limit) + 1)]


@dataclass(frozen=True, slots=True)
class EngineQuery:
    root: Node
    exact: bool = False
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    facets: tuple[str, ...] = FACETS
    facet_size: int = 20
    offset: int = 0
    limit: int = 10
    sort: Sort = "relevance"
    commentary: bool = False  # also match inside interlinear commentary (``note_*``)
    # only passages whose dated range of days (``IndexDoc.days``) overlaps [first, last], YYYYMMDD
    # integers, either side open (None); undated passages never match a date filter
    days: tuple[int | None, int | None] | None = None

    @property
    def field(self) -> str:
        return "exact" if self.exact else "norm"


@dataclass(slots=True)
class EngineHit:
    id: str
    score: float | None
    doc: dict[str, Any]  # the stored passage fields


@dataclass(slots=True)
class EngineResult:
    total: int
    hits: list[EngineHit]
    facets: dict[str, list[tuple[str, int]]]


@dataclass(slots=True)
class IndexDoc:
    """One passage as the engines index it (built by ``search.documents.to_index_doc``)."""

    id: str
    graph: str
    source_id: str
    norm: str  # characters separated by spaces
    exact: str
    bridge_norm: str  # "" at the end of a juan
    bridge_exact: str
    order: str
    keywords: dict[str, list[str]]  # keyword field (the FACETS and "annotation") -> values
    doc: dict[str, Any]  # stored
    entity_norm: str = ""  # names of annotated entities: characters separated by spaces, NAME_MARK between names
    entity_exact: str = ""
    note_norm: str = ""  # interlinear commentary: characters separated by spaces, NAME_MARK between two notes
    note_exact: str = ""
    days: tuple[int, int] | None = None  # (first, last) day the passage's date covers, YYYYMMDD (a serial issue)


Progress = Callable[[int], None]


@runtime_checkable
class SearchIndex(Protocol):
    """What the service needs from a search engine. Backends are registered in ``search.backends``.

    Indexes live behind an alias: :meth:`rebuild` fills a new version while searches still read
    the current one, then switches the alias in one step and drops the old version.
    """

    name: str

    def search(self, query: EngineQuery) -> EngineResult: ...

    def add(self, docs: Iterable[IndexDoc]) -> int:
        """Add (or replace, by ``id``) documents in the current version; visible after :meth:`commit`."""
        ...

    def delete_graph(self, graph: str) -> None:
        """Delete every passage of one source graph (re-indexing a changed source)."""
        ...

    def annotated_graphs(self, annotations: Iterable[str]) -> set[str]:
        """The source graphs of the (committed) passages that carry any of these annotation IRIs."""
        ...

    def annotated_juans(self, annotations: Iterable[str]) -> dict[str, set[str]]:
        """{source graph: juan IRIs} of the (committed) passages that carry any of these annotation IRIs."""
        ...

    def graph_counts(self) -> dict[str, int]:
        """Passages per source graph in the current version (``guji sync --check``)."""
        ...

    def stored(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The stored document (``IndexDoc.doc``) of each of these passage ids that is indexed."""
        ...

    def commit(self) -> None: ...

    def rebuild(self, docs: Iterable[IndexDoc], *, progress: Progress | None = None) -> int:
        """Index ``docs`` into a new version and make it current; returns the number indexed."""
        ...

    def count(self) -> int: ...

    def version(self) -> str | None:
        """The version the alias points to (None when nothing was built yet)."""
        ...

    def checkpoint(self) -> int:
        """The last change-log sequence applied to the current version (0 when unknown)."""
        ...

    def set_checkpoint(self, sequence: int) -> None: ...

    def drop(self) -> None:
        """Delete every version and the alias (tests, `guji index --drop`)."""
        ...

    def close(self) -> None: ...
