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
    """The concept a value names: its IRI, notation, or any label (晉 = 晋 = jin = Jin)."""
    found = scheme(name).get(_key(value))
    if found is None and value.strip() in set(scheme(name).values()):
        found = value.strip()
    return found


@lru_cache(maxsize=None)
def _pref_labels(name: str) -> dict[str, dict[str, str]]:
    path = ontology_dir() / "vocab" / f"{name}.ttl"
    g = Graph()
    g.parse(path, format="turtle")
    out: dict[str, dict[str, str]] = {}
    for concept, value in g.subject_objects(SKOS.prefLabel):
        out.setdefault(str(concept), {})[(value.language or "").lower()] = str(value)
    return out


def pref_label(name: str, concept: str, lang: str = "zh-hant") -> str | None:
    """A concept's skos:prefLabel in ``lang`` (else zh, else any)."""
    labels = _pref_labels(name).get(concept, {})
    return labels.get(lang) or labels.get("zh") or next(iter(labels.values()), None)


def choices(name: str, limit: int = 12) -> str:
    """A short list of accepted notations, for error messages."""
    values = sorted({k for k, v in scheme(name).items() if k.isascii()})
    shown = ", ".join(values[:limit])
    return shown + (" ..." if len(values) > limit else "")
