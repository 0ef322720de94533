"""Looking up package values in the SKOS schemes of ontologies/vocab (notation or any label)."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from rdflib import Graph, URIRef
from rdflib.namespace import SKOS

from kg.ontology import ontology_dir


def _key(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip().casefold()


@lru_cache(maxsize=None)
def scheme(name: str) -> dict[str, str]:
    """{notation or label (any script, case-folded): concept IRI} for one scheme file."""
    path = ontology_dir() / "vocab" / f"{name}.ttl"
    g = Graph()
    g.parse(path, format="turtle")
    out: dict[str, str] = {}
    for concept in set(g.subjects(SKOS.inScheme, None)):
        if not isinstance(concept, URIRef):
            continue
        for pred in (SKOS.notation, SKOS.prefLabel, SKOS.altLabel):
            for value in g.objects(concept, pred):
                out.setdefault(_key(str(value)), str(concept))
    return out


def lookup(name: str, value: str) -> str | None:
    return scheme(name).get(_key(value))


def choices(name: str, limit: int = 12) -> str:
    """A short list of accepted notations, for error messages."""
    values = sorted({k for k, v in scheme(name).items() if k.isascii()})
    shown = ", ".join(values[:limit])
    return shown + (" ..." if len(values) > limit else "")
