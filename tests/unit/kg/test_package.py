"""Submission packages: the sample validates and ingests; every broken package is refused with
exactly its expected error and leaves the store exactly as it was."""

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from kg.namespaces import sparql_prefixes
from kg.package import ingest_package, validate_package
from kg.package.rdf import package_graph, preservation_graph
from kg.sparql import public_dataset
from kg.store import OxigraphStore

ROOT = Path(__file__).resolve().parents[3]
SAMPLE = ROOT / "samples" / "package" / "guji-sample-2026-001"
BROKEN = sorted(p for p in (ROOT / "tests" / "fixtures" / "packages").iterdir() if p.is_dir())
BATCH = "guji-sample-2026-001"


@pytest.fixture
def store(tmp_path):
    return OxigraphStore(tmp_path / "store")


def ask(store, query, *, public=True):
    kwargs = {"use_default_graph_as_union": True}
    if public:
        default, named = public_dataset(store.graphs())
        kwargs = {"default_graph": [__import__("pyoxigraph").NamedNode(g) for g in default]}
    return bool(store.query(sparql_prefixes() + query, **kwargs))


def test_sample_package_is_valid():
    result = validate_package(SAMPLE)
    assert result.report.valid, result.report.to_text()
    assert result.report.counts["books"] == 3 and result.report.counts["reels"] == 4 and result.report.counts["texts"] == 2
    assert [(w.file, w.row, w.field) for w in result.report.warnings] == [("data/books.csv", 3, "year")]


@pytest.mark.parametrize("package", BROKEN, ids=[p.name for p in BROKEN])
def test_broken_package_is_refused_with_its_exact_error(package):
    expected = json.loads((package / "expected.json").read_text(encoding="utf-8"))
    report = validate_package(package).report
    assert not report.valid
    got = [{k: v for k, v in (("code", p.code), ("file", p.file), ("row", p.row), ("field", p.field)) if v is not None}
           for p in report.violations]
    assert got == expected, report.to_text()
    for p in report.violations:
        assert p.message_zh and p.message_en and p.message_zh != p.message_en


@pytest.mark.parametrize("package", BROKEN, ids=[p.name for p in BROKEN])
def test_broken_package_leaves_the_store_unchanged(package, store):
    ingest_package(store, SAMPLE, agent="t")  # a store that already holds data
    before = (store.count(), store.last_sequence(), store.graphs())
    result = ingest_package(store, package, agent="t")
    assert not result.report.valid and result.changes == []
    assert (store.count(), store.last_sequence(), store.graphs()) == before


def test_valid_package_is_written_in_one_transaction_and_reingest_is_a_no_op(store):
    result = ingest_package(store, SAMPLE, agent="submitter-1")
    assert [c.graph for c in result.changes] == [package_graph(BATCH), preservation_graph(BATCH)]
    assert store.last_sequence() == 2
    assert all(c.agent == "submitter-1" for c in store.changes_since(0))
    again = ingest_package(store, SAMPLE, agent="submitter-1")
    assert again.report.valid and again.changes == [] and store.last_sequence() == 2


def test_zipped_package(tmp_path, store):
    archive = tmp_path / "package.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in SAMPLE.rglob("*"):
            zf.write(f, Path(BATCH) / f.relative_to(SAMPLE))
    assert ingest_package(store, archive, agent="t").report.valid
    assert store.count(package_graph(BATCH)) > 300


def test_full_chain_book_to_text(store):
    ingest_package(store, SAMPLE, agent="t")
    # book → master → print master → service copy → digital images → text
    assert ask(store, """ASK {
      ?text a guji:Juan ; dcterms:isPartOf ?digital .
      ?digital a guji:DigitalCopy ; prov:wasDerivedFrom ?service ; guji:derivationMethod <https://w3id.org/guji/vocab/derivation-method/scanning-film> .
      ?service a guji:MicrofilmCopy ; bf:itemOf/bf:generation <https://w3id.org/guji/vocab/film-generation/service-copy> ; prov:wasDerivedFrom ?print .
      ?print bf:itemOf/bf:generation <https://w3id.org/guji/vocab/film-generation/print-master> ; prov:wasDerivedFrom ?master .
      ?master bf:itemOf/bf:generation <https://w3id.org/guji/vocab/film-generation/master> ; prov:wasDerivedFrom ?book ;
              guji:derivationMethod <https://w3id.org/guji/vocab/derivation-method/filming> .
      ?book a guji:PhysicalBook ; bf:identifiedBy/rdf:value "110000-0001-0000001" ; bf:shelfMark/rdf:value "善 001" .
    }""")


def test_digital_to_film_is_recorded_but_its_preservation_source_is_not_public(store):
    ingest_package(store, SAMPLE, agent="t")
    chain = """ASK { ?film a guji:MicrofilmCopy ; guji:derivationMethod <https://w3id.org/guji/vocab/derivation-method/digital-to-film> ;
                     prov:wasDerivedFrom ?digital . ?digital guji:accessLevel <https://w3id.org/guji/vocab/access-level/preservation> }"""
    assert ask(store, chain, public=False)
    assert not ask(store, chain, public=True)


def test_preservation_files_are_never_public(store):
    ingest_package(store, SAMPLE, agent="t")
    q = 'ASK { ?f a premis:File ; guji:accessLevel <https://w3id.org/guji/vocab/access-level/preservation> }'
    assert ask(store, q, public=False)
    assert not ask(store, q, public=True)
    assert not ask(store, 'ASK { ?s ?p "preservation://guji-sample/B2/001-1a.tif" }', public=True)
    assert not ask(store, 'ASK { ?s ?p "sample@example.org" }', public=True)  # contact details
    assert ask(store, 'ASK { ?f a premis:File ; guji:accessLevel <https://w3id.org/guji/vocab/access-level/service> }', public=True)


def test_package_text_keeps_every_character_and_its_folios(store):
    ingest_package(store, SAMPLE, agent="t")
    rows = list(store.query(sparql_prefixes() + """
        SELECT ?text (COUNT(?f) AS ?n) WHERE { ?j a guji:Juan ; guji:text ?text ; guji:sourceFile "texts/B2/001.txt" .
          ?f a guji:FolioSide ; dcterms:isPartOf ?j } GROUP BY ?text""", use_default_graph_as_union=True))
    assert len(rows) == 1
    assert rows[0]["text"].value == "千字文　　　梁　周興嗣　次韻天地玄黃宇宙洪荒日月盈昃辰宿列張寒來暑往秋收冬藏閏餘成歲律呂調陽雲騰致雨露結爲霜\ue000"
    assert int(rows[0]["n"].value) == 1


def test_undeclared_private_use_character_in_a_text(tmp_path):
    import bagit

    pkg = tmp_path / "p"
    shutil.copytree(SAMPLE, pkg)
    text = pkg / "data" / "texts" / "B1" / "001.txt"
    text.write_text(text.read_text(encoding="utf-8").replace("桃花源記¶", "桃花\ue123源記¶", 1), encoding="utf-8")
    files = pkg / "data" / "files.csv"
    import hashlib
    lines = files.read_text(encoding="utf-8").splitlines()
    data = text.read_bytes()
    lines = [",".join(l.split(",")[:6] + [hashlib.sha256(data).hexdigest(), str(len(data))] + l.split(",")[8:]) if l.startswith("B1-TXT-1,") else l for l in lines]
    files.write_text("\n".join(lines) + "\n", encoding="utf-8")
    bagit.Bag(str(pkg)).save(manifests=True)
    report = validate_package(pkg).report
    assert [(p.code, p.file, p.value) for p in report.violations] == [("undeclared_private_use", "data/texts/B1/001.txt", "U+E123")]


def test_the_format_document_lists_every_column():
    from kg.package.schema import TABLES

    doc = (ROOT / "docs" / "submission-package.md").read_text(encoding="utf-8")
    for table in TABLES:
        assert f"### {table.file}" in doc
        for column in table.columns:
            assert f"| `{column.name}` | {column.zh} |" in doc, (table.file, column.name)
