"""The SKOS schemes: labels in three scripts, readable IRIs, hierarchy, mappings, value sets."""

from __future__ import annotations

import re

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH, SKOS

from kg.ontology import GUJI, GUJIV, MGENERATION, MMATERIAL, MPOLARITY, ONTOLOGY_DIR, load_ontology_graph
from tests.unit.ontologies._support import ROOT, VOCABS

LANGUAGES = ("zh-Hans", "zh-Hant", "en")
SLUG = re.compile(r"^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$")


@pytest.fixture(scope="module")
def vocab() -> Graph:
    graph = Graph()
    for path in VOCABS:
        graph.parse(path, format="turtle")
    return graph


def concepts(graph: Graph) -> set[URIRef]:
    return {c for c in graph.subjects(RDF.type, SKOS.Concept) if isinstance(c, URIRef)}


def test_the_expected_schemes_exist():
    names = {p.stem for p in VOCABS}
    assert {"edition-type", "binding", "sibu", "kanripo", "dynasty", "film-generation", "film-base", "polarity",
            "access-level", "entity-category", "grade", "vinegar-syndrome", "inspection-type",
            "derivation-method"} <= names


@pytest.mark.parametrize("path", VOCABS, ids=[p.stem for p in VOCABS])
def test_one_scheme_per_file_named_like_the_file(path):
    graph = Graph().parse(path, format="turtle")
    schemes = set(graph.subjects(RDF.type, SKOS.ConceptScheme))
    assert schemes == {GUJIV[path.stem]}
    for concept in concepts(graph):
        assert set(graph.objects(concept, SKOS.inScheme)) == {GUJIV[path.stem]}, concept
        slug = str(concept)[len(str(GUJIV[path.stem])) + 1:]
        assert str(concept) == f"{GUJIV[path.stem]}/{slug}" and SLUG.match(slug), f"unreadable IRI {concept}"


def test_every_concept_and_scheme_has_one_pref_label_per_script(vocab):
    problems = []
    for node in sorted(concepts(vocab) | set(vocab.subjects(RDF.type, SKOS.ConceptScheme))):
        labels = [lit for lit in vocab.objects(node, SKOS.prefLabel) if isinstance(lit, Literal)]
        for lang in LANGUAGES:
            n = sum(1 for lit in labels if lit.language == lang)
            if n != 1:
                problems.append(f"{node}: {n} skos:prefLabel@{lang}")
        if any(lit.language not in LANGUAGES for lit in labels):
            problems.append(f"{node}: a prefLabel in another language")
    assert not problems, "\n".join(problems)


def test_alt_labels_are_language_tagged(vocab):
    untagged = [(s, o) for s, o in vocab.subject_objects(SKOS.altLabel) if not (isinstance(o, Literal) and o.language)]
    assert not untagged


def test_hierarchy_stays_inside_each_scheme_and_top_concepts_are_declared(vocab):
    for concept in concepts(vocab):
        scheme = vocab.value(concept, SKOS.inScheme)
        broader = list(vocab.objects(concept, SKOS.broader))
        for b in broader:
            assert (b, SKOS.inScheme, scheme) in vocab, f"{concept} broader {b} outside {scheme}"
        is_top = (concept, SKOS.topConceptOf, scheme) in vocab
        assert is_top == (not broader), f"{concept}: top concept iff it has no broader"
        assert is_top == ((scheme, SKOS.hasTopConcept, concept) in vocab), f"{concept}: topConceptOf/hasTopConcept disagree"
    for concept, narrower in vocab.subject_objects(SKOS.narrower):
        assert (narrower, SKOS.broader, concept) in vocab


def test_film_generations_map_to_lc_mgeneration(vocab):
    fg = lambda s: GUJIV[f"film-generation/{s}"]  # noqa: E731
    assert (fg("master"), SKOS.exactMatch, MGENERATION.firstgen) in vocab
    assert (fg("print-master"), SKOS.exactMatch, MGENERATION.printmaster) in vocab
    assert (fg("service-copy"), SKOS.exactMatch, MGENERATION.servcopy) in vocab
    # LC's mgeneration/master is a digitisation master: it must not be mapped to the film master
    assert not any(o == MGENERATION.master for o in vocab.objects(None, SKOS.exactMatch))
    assert str(vocab.value(fg("master"), SKOS.prefLabel)) in {"母片"}


def test_film_base_and_polarity_map_to_lc_vocabularies(vocab):
    assert (GUJIV["film-base/acetate"], SKOS.exactMatch, MMATERIAL.ace) in vocab
    assert (GUJIV["film-base/polyester"], SKOS.exactMatch, MMATERIAL.pol) in vocab
    assert (GUJIV["film-base/nitrate"], SKOS.exactMatch, MMATERIAL.nit) in vocab
    assert (GUJIV["polarity/negative"], SKOS.exactMatch, MPOLARITY.neg) in vocab
    assert (GUJIV["polarity/positive"], SKOS.exactMatch, MPOLARITY.pos) in vocab


def test_kanripo_divisions_map_to_sibu(vocab):
    kr = lambda n: GUJIV[f"kanripo/KR{n}"]  # noqa: E731
    sibu = lambda s: GUJIV[f"sibu/{s}"]  # noqa: E731
    for n, part in ((1, "jing"), (2, "shi"), (3, "zi"), (4, "ji"), (5, "dao"), (6, "fo")):
        assert (kr(n), SKOS.exactMatch, sibu(part)) in vocab
    for n in (5, 6):
        assert (kr(n), SKOS.broadMatch, sibu("zi")) in vocab
    # 道 and 佛 are not parts of 四部: narrower than 子部, not top concepts
    for part in ("dao", "fo"):
        assert (sibu(part), SKOS.broader, sibu("zi")) in vocab
    assert set(vocab.objects(GUJIV.sibu, SKOS.hasTopConcept)) == {sibu(s) for s in ("jing", "shi", "zi", "ji", "cong")}


def test_the_classification_the_kanripo_ingest_writes_exists(vocab):
    # kg/ingest_kanripo.py maps the digit after KR to gujiv:sibu/<slug>
    from kg.ingest_kanripo import KR_CLASSIFICATION

    for slug in KR_CLASSIFICATION.values():
        assert (GUJIV[f"sibu/{slug}"], RDF.type, SKOS.Concept) in vocab, slug


def test_dynasty_years_are_ordered_and_nested(vocab):
    # Narrower periods lie within their dynasty, except the Northern Dynasties, which begin
    # (386) before the Northern and Southern Dynasties period is usually dated (420).
    allowed_earlier = {GUJIV["dynasty/beichao"], GUJIV["dynasty/beiwei"]}
    problems = []
    for concept in concepts(vocab):
        if (concept, SKOS.inScheme, GUJIV.dynasty) not in vocab:
            continue
        start, end = vocab.value(concept, GUJI.startYear), vocab.value(concept, GUJI.endYear)
        assert end is not None, f"{concept}: no guji:endYear"
        if start is not None and start.toPython() > end.toPython():
            problems.append(f"{concept}: starts after it ends")
        for b in vocab.objects(concept, SKOS.broader):
            b_start, b_end = vocab.value(b, GUJI.startYear), vocab.value(b, GUJI.endYear)
            if end.toPython() > b_end.toPython():
                problems.append(f"{concept}: ends after {b}")
            if start is not None and b_start is not None and start.toPython() < b_start.toPython() and concept not in allowed_earlier:
                problems.append(f"{concept}: starts before {b}")
    assert not problems, "\n".join(problems)


def test_dynasty_years_use_astronomical_numbering(vocab):
    # 221 BCE (Qin unification) is -220; the Ming begins 1368; the Qing ends 1911.
    assert vocab.value(GUJIV["dynasty/qin"], GUJI.startYear).toPython() == -220
    assert vocab.value(GUJIV["dynasty/ming"], GUJI.startYear).toPython() == 1368
    assert vocab.value(GUJIV["dynasty/qing"], GUJI.endYear).toPython() == 1911
    assert vocab.value(GUJIV["dynasty/minguo"], GUJI.endYear).toPython() == 1949


def test_entity_categories_carry_the_pre_annotation_labels(vocab):
    notations = {str(vocab.value(c, SKOS.notation)) for c in concepts(vocab) if (c, SKOS.inScheme, GUJIV["entity-category"]) in vocab}
    assert {"PER", "LOC", "OFI", "BOOK", "DATE"} <= notations


def test_value_sets_in_the_shapes_list_exactly_their_schemes(vocab):
    shapes = Graph().parse(ONTOLOGY_DIR / "shapes" / "values.ttl", format="turtle")
    value_shapes = {s for s in shapes.subjects(SH["in"], None)}
    assert len(value_shapes) >= 13
    covered = set()
    for shape in value_shapes:
        listed = set(Collection(shapes, shapes.value(shape, SH["in"])))
        schemes = set(shapes.objects(shape, RDFS.seeAlso))
        assert schemes, f"{shape}: say which scheme(s) it lists with rdfs:seeAlso"
        members = {c for c in concepts(vocab) if any((c, SKOS.inScheme, s) in vocab for s in schemes)}
        assert listed == members, f"{shape}: missing {members - listed}, not in the scheme {listed - members}"
        covered |= schemes
    assert covered == set(vocab.subjects(RDF.type, SKOS.ConceptScheme))


def test_concepts_typed_with_a_bibframe_class_are_in_the_right_scheme(vocab):
    from kg.ontology import BF

    for cls, scheme in ((BF.Generation, "film-generation"), (BF.BaseMaterial, "film-base"),
                        (BF.Polarity, "polarity"), (BF.Binding, "binding")):
        typed = set(vocab.subjects(RDF.type, cls))
        assert typed == {c for c in concepts(vocab) if (c, SKOS.inScheme, GUJIV[scheme]) in vocab}, scheme


def test_load_ontology_graph_holds_ontology_and_all_vocabularies(vocab):
    graph = load_ontology_graph()
    assert (GUJI.Juan, RDF.type, None) in graph
    assert all(triple in graph for triple in vocab)
    assert not set(graph.subjects(RDF.type, SH.NodeShape)), "shapes belong in load_shapes_graph()"
