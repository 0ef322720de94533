"""The guji command line, run as a real process."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from api.context import SAMPLE_DIR


def guji(home, *args, input=None):
    env = {**os.environ, "GUJI_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "api", *args], env=env, input=input, capture_output=True, text=True, timeout=120)


@pytest.fixture
def home(tmp_path):
    return tmp_path / "home"


def quads(home):
    r = guji(home, "sparql", "--json", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    return int(json.loads(r.stdout)["results"]["bindings"][0]["n"]["value"])


def test_ingest_then_sparql_lists_works_editions_and_folios(home):
    r = guji(home, "ingest", str(SAMPLE_DIR / "kanripo"))
    assert r.returncode == 0, r.stderr
    assert "GJ4a0002: 2 juan, 5 folio sides" in r.stderr
    q = """PREFIX bf: <http://id.loc.gov/ontologies/bibframe/> PREFIX guji: <https://w3id.org/guji/ontology#>
    PREFIX dcterms: <http://purl.org/dc/terms/>
    SELECT ?id ?code (COUNT(?f) AS ?n) WHERE { ?item a guji:DigitalCopy ; guji:editionCode ?code ;
      bf:itemOf/bf:instanceOf/dcterms:identifier ?id . ?j dcterms:isPartOf ?item . ?f a guji:FolioSide ; dcterms:isPartOf ?j }
    GROUP BY ?id ?code ORDER BY ?id ?code"""
    r = guji(home, "sparql", "--format", "csv", "-", input=q)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["id,code,n", "GJ3a0001,master,2", "GJ4a0001,MING,2", "GJ4a0001,master,2", "GJ4a0002,QING,3", "GJ4a0002,master,2"]


def test_reingest_is_a_no_op(home):
    guji(home, "ingest", str(SAMPLE_DIR / "kanripo"))
    before = quads(home)
    r = guji(home, "ingest", str(SAMPLE_DIR / "kanripo"))
    assert r.returncode == 0 and r.stderr.count("(unchanged)") == 3
    assert r.stderr.count("not read") == 3  # skipped by content digest before parsing (ADR 0018)
    assert quads(home) == before


def test_invalid_utf8_is_refused_with_file_line_column_and_nothing_is_written(home, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLE_DIR / "kanripo", corpus)
    bad = corpus / "GJ4a0002" / "QING" / "GJ4a0002_001.txt"
    data = bad.read_bytes().replace("慶曆".encode(), b"\xe6\x85")
    bad.write_bytes(data)
    guji(home, "ingest", str(SAMPLE_DIR / "kanripo" / "GJ3a0001"))
    before = quads(home)
    r = guji(home, "ingest", str(corpus))
    assert r.returncode == 1
    assert "invalid UTF-8" in r.stderr and "GJ4a0002_001.txt" in r.stderr and "line=8" in r.stderr.replace("\n", "")
    assert quads(home) == before  # GJ3a0001/GJ4a0001 before the bad work were not written either
    v = guji(home, "validate", "--json", str(corpus))
    assert v.returncode == 1
    report = json.loads(v.stdout)
    assert report["valid"] is False
    (problem,) = [p for p in report["problems"] if p["severity"] == "violation"]
    assert (problem["work"], problem["line"], problem["column"]) == ("GJ4a0002", 8, 1)


def test_validate_valid_sample(home):
    r = guji(home, "validate", str(SAMPLE_DIR / "kanripo"))
    assert r.returncode == 0 and "valid: 3 work(s)" in r.stdout


def test_sparql_errors_exit_1_with_message(home):
    r = guji(home, "sparql", "SELECT * WHERE { ?s ?p }")
    assert r.returncode == 1 and "syntax error" in r.stderr
    r = guji(home, "sparql", "CLEAR ALL")
    assert r.returncode == 1 and "read-only" in r.stderr


def test_load_rdf_file(home, tmp_path):
    f = tmp_path / "authority.ttl"
    f.write_text('<https://w3id.org/guji/id/person/sima-qian> <http://www.w3.org/2000/01/rdf-schema#label> "司馬遷"@zh-Hant .\n', encoding="utf-8")
    r = guji(home, "load", str(f), "--graph", "https://w3id.org/guji/graph/authority/test")
    assert r.returncode == 0 and "1 triples" in r.stderr
    r = guji(home, "sparql", "--format", "tsv", 'SELECT ?l WHERE { ?p <http://www.w3.org/2000/01/rdf-schema#label> ?l }')
    assert '"司馬遷"@zh-hant' in r.stdout


def test_search_says_when_a_hit_came_through_an_annotation(home):
    from annotation.model import AnnotationCreate, Category, Reading, TextSelection
    from annotation.policies import Identity, Role
    from api.context import Context
    from api.settings import Settings

    assert guji(home, "ingest", str(SAMPLE_DIR / "kanripo" / "GJ4a0002")).returncode == 0
    juan = "https://w3id.org/guji/id/text/GJ4a0002/master/001"
    ctx = Context(Settings(home=home, environment="test"))
    text = ctx.annotations.text_of(juan)
    at = text.index("滕子京")
    alice, rita = Identity("alice", Role.ANNOTATOR), Identity("rita", Role.REVIEWER)
    a = ctx.annotations.create(alice, AnnotationCreate(
        target=TextSelection(source=juan, start=at, end=at + 3, exact="滕子京"),
        readings=[Reading(category=Category.PERSON, authority="https://w3id.org/guji/id/entity/teng", label="滕宗諒", provisional=True)])).annotation
    ctx.annotations.submit(alice, a.id)
    ctx.annotations.review(rita, a.id, "approve")
    ctx.close()
    assert guji(home, "sync").returncode == 0
    r = guji(home, "search", "滕宗谅")  # simplified form of the entity's name, absent from the text
    assert r.returncode == 0, r.stderr
    assert "through an annotation: 滕宗谅 in label 滕宗諒 (person)" in r.stdout
    r = guji(home, "search", "--json", "--filter", "entity_category=person", "巴陵")
    assert json.loads(r.stdout)["total"] >= 1
