"""Human labels for the vocabulary concepts and ontology terms the pages show (母片, 涤纶, 扫描缩微品 …).

Read once from the ontology files (``kg.ontology``), so labels show even when the vocabulary graph
is not loaded into the store. Chinese first (simplified, then traditional), English beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rdflib import RDFS, SKOS, Literal

from kg.namespaces import GUJIV


@dataclass(frozen=True)
class Label:
    zh: str | None
    en: str | None

    def text(self) -> str:
        return self.zh or self.en or ""


@lru_cache(maxsize=1)
def _labels() -> dict[str, Label]:
    from kg.ontology import load_ontology_graph

    graph = load_ontology_graph()
    found: dict[str, dict[str, str]] = {}
    for predicate in (RDFS.label, SKOS.prefLabel):  # prefLabel wins: read last
        for s, _, o in graph.triples((None, predicate, None)):
            if not isinstance(o, Literal):
                continue
            lang = (o.language or "").lower()
            key = "zh-hans" if lang in ("zh", "zh-hans", "zh-cn") else lang
            found.setdefault(str(s), {})[key or "none"] = str(o)
    return {iri: Label(zh=v.get("zh-hans") or v.get("zh-hant"), en=v.get("en") or v.get("none")) for iri, v in found.items()}


def label(iri: str | None, *, default: str | None = None) -> Label:
    """The label of a term; for an unknown IRI its last path segment."""
    if not iri:
        return Label(default, None)
    found = _labels().get(iri)
    if found is not None:
        return found
    return Label(default or iri.rstrip("/#").rsplit("/", 1)[-1].rsplit("#", 1)[-1], None)


def vocab_label(scheme: str, value: str | None) -> Label:
    """A facet value written as a notation (``jin``) or a Chinese label (集部) → its label."""
    if not value:
        return Label(None, None)
    found = _labels().get(f"{GUJIV}{scheme}/{value}")
    return found if found is not None else Label(value, None)


def qname(iri: str) -> str:
    """``bf:Person`` for http://id.loc.gov/ontologies/bibframe/Person (the IRI when no prefix fits)."""
    from kg.ontology import PREFIXES

    best = max(((p, str(ns)) for p, ns in PREFIXES.items() if iri.startswith(str(ns))), key=lambda x: len(x[1]), default=None)
    return f"{best[0]}:{iri[len(best[1]):]}" if best else iri
