"""The shapes accept the valid fixtures and reject the invalid ones with the exact focus and path.

Each fixture states what validation must report, one ``# expect: Severity focus path`` line per
result (``# expect: nothing`` when clean); the test compares the set of (severity, focus node,
sh:resultPath) exactly, so a fixture that starts failing for another reason fails the test.
"""

from __future__ import annotations

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF

from kg.errors import ValidationError
from kg.ontology import GUJI, GUJISH, ID, Severity, load_shapes_graph, validate
from tests.unit.ontologies._support import INVALID, ROOT, VALID, expectations


def results(report) -> set:
    return {(r.severity.value, r.focus_node, r.path) for r in report.results}


def ids(paths):
    return [p.stem for p in paths]


@pytest.mark.parametrize("path", VALID, ids=ids(VALID))
def test_valid_fixture_conforms_with_exactly_the_expected_warnings(path):
    expected = expectations(path)
    assert all(sev != "Violation" for sev, _, _ in expected), f"{path.name} is in valid/ but expects a violation"
    report = validate(Graph().parse(path, format="turtle"))
    assert report.conforms, str(report)
    assert results(report) == expected, str(report)


@pytest.mark.parametrize("path", INVALID, ids=ids(INVALID))
def test_invalid_fixture_is_rejected_at_exactly_the_expected_focus_and_path(path):
    expected = expectations(path)
    assert any(sev == "Violation" for sev, _, _ in expected), f"{path.name} is in invalid/ but expects no violation"
    report = validate(Graph().parse(path, format="turtle"))
    assert not report.conforms
    assert results(report) == expected, str(report)


def test_fixtures_cover_the_cases_the_issue_names():
    names = {p.stem for p in INVALID}
    for required in ("folio-side-without-offsets", "folio-side-end-before-start", "item-without-itemof",
                     "instance-with-origin-date", "microfilm-generation-on-item", "instance-unknown-edition-type"):
        assert required in names
    assert "kanripo-work" in {p.stem for p in VALID}


ALL = VALID + INVALID


@pytest.mark.parametrize("path", ALL, ids=ids(ALL))
def test_compiled_shapes_give_the_same_results_as_the_files(path):
    # validate() hoists node-shape targets onto property shapes for speed; it must not change results
    data = Graph().parse(path, format="turtle")
    as_written = validate(data, shapes_graph=load_shapes_graph())
    compiled = validate(data)
    def key(r):  # blank-node shapes get new ids each time the files are parsed
        shape = r.source_shape if isinstance(r.source_shape, URIRef) else "_:shape"
        return (r.severity, r.focus_node, r.path, shape, r.message, r.value)

    assert sorted(map(key, as_written.results), key=str) == sorted(map(key, compiled.results), key=str)


def test_results_are_typed_and_carry_messages_in_english_and_chinese():
    report = validate(Graph().parse(ROOT / "tests/fixtures/shapes/invalid/instance-with-origin-date.ttl"))
    (result,) = report.violations
    assert result.severity is Severity.VIOLATION
    assert result.focus_node == ID["instance/shiji/ming-wang-liang"]
    assert result.path == URIRef("http://id.loc.gov/ontologies/bibframe/originDate")
    assert result.source_shape == GUJISH["Instance-no-originDate"]
    assert result.constraint == URIRef("http://www.w3.org/ns/shacl#MaxCountConstraintComponent")
    assert result.message.startswith("bf:originDate is a Work property")
    assert "作品" in result.message_in("zh-Hans")
    assert result.message_in("fr") == result.message
    as_dict = result.to_dict()
    assert as_dict["focus_node"] == "id:instance/shiji/ming-wang-liang"
    assert as_dict["path"] == "bf:originDate"
    assert as_dict["severity"] == "Violation"
    assert as_dict["constraint"] == "MaxCountConstraintComponent"


def test_sequence_paths_are_reported_as_paths():
    report = validate(Graph().parse(ROOT / "tests/fixtures/shapes/valid/physical-book-minimal.ttl"))
    paths = {r.to_dict()["path"] for r in report.warnings}
    assert "bf:itemOf/guji:editionType" in paths


def test_value_of_a_wrong_concept_is_reported():
    report = validate(Graph().parse(ROOT / "tests/fixtures/shapes/invalid/instance-unknown-edition-type.ttl"))
    (result,) = report.violations
    assert result.value == URIRef("https://w3id.org/guji/vocab/edition-type/mingkeben")


def test_raise_for_violations():
    clean = validate(Graph().parse(ROOT / "tests/fixtures/shapes/valid/physical-book-minimal.ttl"))
    clean.raise_for_violations()  # warnings only: nothing raised
    broken = validate(Graph().parse(ROOT / "tests/fixtures/shapes/invalid/work-without-title.ttl"))
    with pytest.raises(ValidationError) as caught:
        broken.raise_for_violations(file="KR2a0031")
    assert "1 SHACL violation" in caught.value.message
    assert caught.value.details["file"] == "KR2a0031"
    assert caught.value.details["violations"][0]["path"] == "bf:title"


def test_validation_leaves_the_data_graph_untouched():
    data = Graph().parse(ROOT / "tests/fixtures/shapes/valid/physical-microfilm-digital.ttl")
    before = set(data)
    validate(data)
    assert set(data) == before


def test_an_empty_graph_conforms():
    report = validate(Graph())
    assert report.conforms and report.results == ()
    assert report.to_dict() == {"conforms": True, "violations": 0, "warnings": 0, "results": []}


def test_report_text_lists_every_result():
    report = validate(Graph().parse(ROOT / "tests/fixtures/shapes/invalid/folio-side-without-offsets.ttl"))
    text = str(report)
    assert text.startswith("conforms: False (2 violations, 0 warnings)")
    assert "guji:startOffset" in text and "guji:endOffset" in text
