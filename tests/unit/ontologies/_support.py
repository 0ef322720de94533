"""Helpers shared by the ontology tests: file lists, fixture expectations, term collection."""

from __future__ import annotations

import re
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH
from rdflib.paths import SequencePath

from kg.ontology import ONTOLOGY_DIR, PREFIXES

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "shapes"
VALID = sorted((FIXTURES / "valid").glob("*.ttl"))
INVALID = sorted((FIXTURES / "invalid").glob("*.ttl"))
ONTOLOGY = ONTOLOGY_DIR / "guji.ttl"
VOCABS = sorted((ONTOLOGY_DIR / "vocab").glob("*.ttl"))
SHAPES = sorted((ONTOLOGY_DIR / "shapes").glob("*.ttl"))
ALL_TTL = [ONTOLOGY, *VOCABS, *SHAPES, *VALID, *INVALID]

# Namespaces whose terms need no declaration in guji.ttl: the RDF, SHACL and SKOS core.
CORE = (
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "http://www.w3.org/2000/01/rdf-schema#",
    "http://www.w3.org/2002/07/owl#", "http://www.w3.org/2001/XMLSchema#", "http://www.w3.org/ns/shacl#",
    "http://www.w3.org/2004/02/skos/core#",
)

Expectation = tuple[str, URIRef, object]  # (severity, focus node, path or None)

_EXPECT = re.compile(r"^# expect: (.+)$", re.M)


def expand(curie: str) -> URIRef:
    prefix, _, local = curie.partition(":")
    if prefix not in PREFIXES:
        raise ValueError(f"unknown prefix in {curie!r}; use one of {sorted(PREFIXES)}")
    return URIRef(str(PREFIXES[prefix]) + local)


def expectations(path: Path) -> set[Expectation]:
    """The ``# expect: Severity focus path`` lines of a fixture (``# expect: nothing`` for none).

    Focus and path are CURIEs with the prefixes of kg.ontology.PREFIXES; ``-`` is "no path"
    (a node-level result); ``a:b/c:d`` is a sequence path.
    """
    lines = _EXPECT.findall(path.read_text(encoding="utf-8"))
    if not lines:
        raise AssertionError(f"{path.name} declares no '# expect:' line")
    if lines == ["nothing"]:
        return set()
    out: set[Expectation] = set()
    for line in lines:
        severity, focus, result_path = line.split()
        if result_path == "-":
            p: object = None
        elif result_path.count(":") > 1:  # predicates have no "/", so a:b/c:d is a sequence
            p = SequencePath(*(expand(part) for part in result_path.split("/")))
        else:
            p = expand(result_path)
        out.add((severity, expand(focus), p))
    return out


def shacl_path_terms(graph: Graph, node) -> set[URIRef]:
    """The predicates a SHACL path mentions."""
    if isinstance(node, URIRef):
        return {node}
    if (node, RDF.first, None) in graph:
        return set().union(*(shacl_path_terms(graph, n) for n in Collection(graph, node)))
    out: set[URIRef] = set()
    for p in (SH.inversePath, SH.zeroOrMorePath, SH.oneOrMorePath, SH.zeroOrOnePath):
        for inner in graph.objects(node, p):
            out |= shacl_path_terms(graph, inner)
    for alternatives in graph.objects(node, SH.alternativePath):
        for inner in Collection(graph, alternatives):
            out |= shacl_path_terms(graph, inner)
    return out


def terms_used_by_shapes(shapes: Graph) -> set[URIRef]:
    """Every property and class the shapes constrain or target (not the sh:in values)."""
    terms: set[URIRef] = set()
    for path in shapes.objects(None, SH.path):
        terms |= shacl_path_terms(shapes, path)
    for predicate in (SH.targetClass, SH["class"], SH.lessThan, SH.lessThanOrEquals, SH.equals, SH.disjoint,
                      SH.targetSubjectsOf, SH.targetObjectsOf):
        terms |= {o for o in shapes.objects(None, predicate) if isinstance(o, URIRef)}
    return terms
