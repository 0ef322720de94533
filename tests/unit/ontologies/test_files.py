"""Every Turtle file parses, and the ontology declares and labels every term it mints or reuses."""

from __future__ import annotations

import pyoxigraph
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from kg.ontology import BF, DCTERMS, GUJI, PREMIS, PROV
from tests.unit.ontologies._support import ALL_TTL, CORE, ONTOLOGY, ROOT, SHAPES, VALID, VOCABS, terms_used_by_shapes

LANGUAGES = ("zh-Hans", "zh-Hant", "en")
# The standards whose terms guji.ttl lists in its "Reused terms" section.
STANDARD_ONTOLOGIES = {
    str(BF): "http://id.loc.gov/ontologies/bibframe/",
    str(PROV): "http://www.w3.org/ns/prov-o#",
    str(PREMIS): "http://www.loc.gov/premis/rdf/v3/",
    str(DCTERMS): "http://purl.org/dc/terms/",
    "http://id.loc.gov/vocabulary/preservation/cryptographicHashFunctions/":
        "http://id.loc.gov/vocabulary/preservation/cryptographicHashFunctions",
    "http://iiif.io/api/presentation/3#": "http://iiif.io/api/presentation/3#",
}


def ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return Graph().parse(ONTOLOGY, format="turtle")


@pytest.mark.parametrize("path", ALL_TTL, ids=ids(ALL_TTL))
def test_parses_with_rdflib(path):
    graph = Graph().parse(path, format="turtle")
    assert len(graph) > 0


@pytest.mark.parametrize("path", ALL_TTL, ids=ids(ALL_TTL))
def test_parses_with_pyoxigraph(path):
    rdflib_count = len(Graph().parse(path, format="turtle"))
    triples = list(pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.TURTLE))
    assert len(set(triples)) == rdflib_count


def _minted(graph: Graph) -> set[URIRef]:
    return {s for s in graph.subjects() if isinstance(s, URIRef) and s.startswith(str(GUJI))}


def test_every_minted_term_has_a_type_labels_in_three_scripts_and_a_comment(ontology):
    minted = _minted(ontology)
    assert len(minted) > 50
    problems = []
    for term in sorted(minted):
        types = set(ontology.objects(term, RDF.type))
        if not types & {OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty}:
            problems.append(f"{term}: no owl:Class / owl:ObjectProperty / owl:DatatypeProperty type")
        labels = {lit.language: lit for lit in ontology.objects(term, RDFS.label) if isinstance(lit, Literal)}
        for lang in LANGUAGES:
            if lang not in labels:
                problems.append(f"{term}: no rdfs:label@{lang}")
        if not any(isinstance(c, Literal) and c.language == "en" for c in ontology.objects(term, RDFS.comment)):
            problems.append(f"{term}: no rdfs:comment@en")
        if (term, RDFS.isDefinedBy, URIRef("https://w3id.org/guji/ontology")) not in ontology:
            problems.append(f"{term}: not rdfs:isDefinedBy the guji ontology")
    assert not problems, "\n".join(problems)


def test_reused_terms_name_the_standard_that_defines_them(ontology):
    problems = []
    for term in sorted({s for s in ontology.subjects(RDF.type, None) if isinstance(s, URIRef)}):
        if term.startswith(str(GUJI)) or str(term) == "https://w3id.org/guji/ontology":
            continue
        namespace = next((ns for ns in STANDARD_ONTOLOGIES if term.startswith(ns)), None)
        if namespace is None:
            problems.append(f"{term}: declared in guji.ttl but not from a reused standard")
            continue
        if (term, RDFS.isDefinedBy, URIRef(STANDARD_ONTOLOGIES[namespace])) not in ontology:
            problems.append(f"{term}: should be rdfs:isDefinedBy <{STANDARD_ONTOLOGIES[namespace]}>")
        labels = {lit.language for lit in ontology.objects(term, RDFS.label)}
        if not set(LANGUAGES) <= labels:
            problems.append(f"{term}: local labels missing for {set(LANGUAGES) - labels}")
    assert not problems, "\n".join(problems)


def test_bibframe_domain_traps_are_stated(ontology):
    # The reasons the shapes forbid these properties elsewhere (see ontologies/README.md).
    for prop in ("generation", "polarity", "reductionRatio", "binding"):
        assert (BF[prop], RDFS.domain, BF.Instance) in ontology
    assert (BF.originDate, RDFS.domain, BF.Work) in ontology
    assert (BF.heldBy, RDFS.domain, BF.Item) in ontology
    assert (BF.shelfMark, RDFS.domain, BF.Item) in ontology
    assert (BF.Manuscript, RDFS.subClassOf, BF.Work) in ontology


def _declared_or_core(term: URIRef, ontology: Graph) -> bool:
    return str(term).startswith(CORE) or (term, RDF.type, None) in ontology


def test_every_term_the_shapes_use_is_declared(ontology):
    shapes = Graph()
    for path in SHAPES:
        shapes.parse(path, format="turtle")
    undeclared = sorted(t for t in terms_used_by_shapes(shapes) if not _declared_or_core(t, ontology))
    assert not undeclared, f"used in shapes/ but not declared in guji.ttl: {undeclared}"


@pytest.mark.parametrize("path", VALID, ids=ids(VALID))
def test_every_term_a_valid_fixture_uses_is_declared(path, ontology):
    data = Graph().parse(path, format="turtle")
    used = set(data.predicates()) | {o for o in data.objects(None, RDF.type) if isinstance(o, URIRef)}
    undeclared = sorted(t for t in used if not _declared_or_core(t, ontology))
    assert not undeclared, f"{path.name} uses undeclared terms: {undeclared}"


def test_vocabularies_mint_nothing_in_the_ontology_namespace():
    # The schemes use guji: only for guji:startYear / guji:endYear, both declared.
    ontology = Graph().parse(ONTOLOGY, format="turtle")
    for path in VOCABS:
        vocab = Graph().parse(path, format="turtle")
        for term in {t for triple in vocab for t in triple if isinstance(t, URIRef) and t.startswith(str(GUJI))}:
            assert (term, RDF.type, None) in ontology, f"{path.name}: {term} is not declared in guji.ttl"
