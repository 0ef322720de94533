"""Loading RDF files (authority data, vocabularies, fixtures) into named graphs.

Each file is parsed completely before anything is written, so a syntax error (reported with
file, line and column) leaves the store exactly as it was; each graph is then replaced in one
transaction (re-loading the same file is a no-op).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from kg.errors import ValidationError
from kg.namespaces import GG
from kg.store import Change, OxigraphStore

_FORMATS = {
    ".ttl": ox.RdfFormat.TURTLE, ".turtle": ox.RdfFormat.TURTLE, ".nt": ox.RdfFormat.N_TRIPLES,
    ".nq": ox.RdfFormat.N_QUADS, ".trig": ox.RdfFormat.TRIG, ".rdf": ox.RdfFormat.RDF_XML,
    ".owl": ox.RdfFormat.RDF_XML, ".xml": ox.RdfFormat.RDF_XML, ".jsonld": ox.RdfFormat.JSON_LD,
    ".json": ox.RdfFormat.JSON_LD, ".n3": ox.RdfFormat.N3,
}


@dataclass
class LoadResult:
    file: str
    graph: str
    triples: int
    change: Change | None


def default_graph_for(path: Path) -> str:
    return f"{GG}load/{path.stem}"


def parse_file(path: Path, graph: str) -> dict[str, list[ox.Triple]]:
    """Parse one file into {graph IRI: triples}; quads in a dataset file keep their graph."""
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ValidationError(
            f"unknown RDF format for {path.name}: use one of {', '.join(sorted(_FORMATS))}", file=str(path)
        )
    if not path.is_file():
        raise ValidationError(f"no such file: {path}", file=str(path))
    graphs: dict[str, list[ox.Triple]] = defaultdict(list)
    try:
        for q in ox.parse(path=str(path), format=fmt, base_iri=path.resolve().as_uri()):
            g = q.graph_name.value if isinstance(q.graph_name, ox.NamedNode) else graph
            graphs[g].append(q.triple)
    except SyntaxError as exc:
        raise ValidationError(str(exc), file=str(path), line=exc.lineno, column=exc.offset) from None
    except (OSError, ValueError) as exc:
        raise ValidationError(f"cannot read {path.name}: {exc}", file=str(path)) from None
    return graphs


def load_files(store: OxigraphStore, files: list[Path], *, graph: str | None = None, agent: str) -> Iterator[LoadResult]:
    parsed = [(path, parse_file(path, graph or default_graph_for(path))) for path in files]  # all or nothing
    for path, graphs in parsed:
        for g, triples in graphs.items():
            yield LoadResult(str(path), g, len(triples), store.replace_graph(g, triples, agent=agent))
