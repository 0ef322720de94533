"""One bf:Work per work across sources (issue 12, ADR 0016): the sample package names its works
(books.csv ``work_id``); a package that does not gets *proposals* that a reviewer confirms over
HTTP; merged IRIs keep resolving; a split gives the work back; re-ingest stays a no-op."""

import csv
import io
import shutil
from pathlib import Path

import bagit
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from kg.ingest_kanripo import find_works, ingest_work
from kg.package import ingest_package
from kg.store import OxigraphStore

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "package" / "guji-sample-2026-001"
CENSUS = {"桃花源記": "110000-0001-0000001", "千字文": "110000-0001-0000002", "岳陽樓記": "110000-0001-0000003"}
KANRIPO = {"桃花源記": "GJ4a0001", "千字文": "GJ3a0001", "岳陽樓記": "GJ4a0002"}

WORKS_QUERY = """PREFIX bf: <http://id.loc.gov/ontologies/bibframe/> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?work (SAMPLE(STR(?l)) AS ?title) WHERE { ?work a bf:Work ; rdfs:label ?l } GROUP BY ?work"""


def sparql(client, query: str) -> list[dict]:
    r = client.get("/sparql", params={"query": query}, headers={"accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text
    return [{k: v["value"] for k, v in b.items()} for b in r.json()["results"]["bindings"]]


def old_style_package(tmp: Path) -> Path:
    """The sample package as a library that does not know the Kanripo ids would send it: no work_id column."""
    out = tmp / "guji-sample-2026-001"
    shutil.copytree(SAMPLE, out)
    books = out / "data" / "books.csv"
    rows = list(csv.DictReader(io.StringIO(books.read_text(encoding="utf-8"))))
    buf = io.StringIO()
    names = [n for n in rows[0] if n != "work_id"]
    w = csv.DictWriter(buf, fieldnames=names, lineterminator="\n")
    w.writeheader()
    w.writerows({k: r[k] for k in names} for r in rows)
    books.write_text(buf.getvalue(), encoding="utf-8")
    bagit.Bag(str(out)).save(manifests=True)
    return out


def make_client(home: Path, package: Path):
    store = OxigraphStore(home / "oxigraph")
    for w in find_works([ROOT / "samples" / "kanripo"]):
        ingest_work(store, w)
    result = ingest_package(store, package, agent="t")
    assert result.report.valid, result.report.to_text()
    store.close()
    app = create_app(Settings(home=home, environment="test"))
    return app


# -- explicit identifiers: the bundled sample ------------------------------------------------------

@pytest.fixture(scope="module")
def client(tmp_path_factory):
    app = make_client(tmp_path_factory.mktemp("identity"), SAMPLE)
    with TestClient(app) as c:
        c.app.state.context.sync_projections()
        yield c


def test_each_sample_work_is_one_bf_work_with_its_book_copies_and_kanripo_editions(client):
    works = sparql(client, WORKS_QUERY)
    assert sorted(w["title"] for w in works) == sorted(CENSUS)  # three works, not six
    for title, census in CENSUS.items():
        work = f"https://w3id.org/guji/id/work/{KANRIPO[title]}"
        rows = sparql(client, f"""PREFIX bf: <http://id.loc.gov/ontologies/bibframe/> PREFIX guji: <https://w3id.org/guji/ontology#>
            PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
            SELECT ?item ?type ?census WHERE {{ ?item bf:itemOf/bf:instanceOf <{work}> ; a ?type .
              FILTER(?type IN (guji:PhysicalBook, guji:MicrofilmCopy, guji:DigitalCopy))
              OPTIONAL {{ ?item bf:identifiedBy/rdf:value ?census }} }}""")
        kinds = {r["type"].rsplit("#", 1)[1] for r in rows}
        assert "PhysicalBook" in kinds and "DigitalCopy" in kinds, (title, kinds)
        assert {r.get("census") for r in rows if r["type"].endswith("PhysicalBook")} == {census}
        kanripo = [r for r in rows if f"/item/{KANRIPO[title]}/" in r["item"]]
        assert kanripo, f"{title}: no Kanripo edition under the work"
    ask = client.get("/sparql", params={"query": f"ASK {{ <https://w3id.org/guji/id/work/census/{CENSUS['桃花源記']}> "
                                                 f"<http://www.w3.org/2002/07/owl#sameAs> <https://w3id.org/guji/id/work/GJ4a0001> }}"},
                     headers={"accept": "application/sparql-results+json"})
    assert ask.json()["boolean"] is True
    taohua = next(w for w in works if w["title"] == "桃花源記")
    assert taohua["work"].endswith("/GJ4a0001")


def test_microfilm_of_the_book_belongs_to_the_same_work(client):
    film = sparql(client, """PREFIX bf: <http://id.loc.gov/ontologies/bibframe/> PREFIX guji: <https://w3id.org/guji/ontology#>
        SELECT DISTINCT ?work WHERE { ?c a guji:MicrofilmCopy ; bf:itemOf/bf:instanceOf ?work }""")
    assert {r["work"].rsplit("/", 1)[1] for r in film} == {"GJ4a0001", "GJ4a0002"}  # 千字文 has no film


def test_old_work_iri_redirects_to_the_work(client):
    r = client.get(f"/api/works/census/{CENSUS['桃花源記']}", follow_redirects=False)
    assert r.status_code == 301 and r.headers["location"] == "/api/works/GJ4a0001"
    page = client.get(f"/works/census/{CENSUS['桃花源記']}", follow_redirects=False)
    assert page.status_code == 301 and page.headers["location"] == "/works/GJ4a0001"


def test_work_lists_every_edition_copy_book_and_film(client):
    w = client.get("/api/works/GJ4a0001").json()
    assert [b["census"] for b in w["books"]] == [CENSUS["桃花源記"]]
    assert len(w["microfilm"]) == 3
    assert {c["code"] for c in w["copies"] if c["code"]} == {"MING", "master"}
    assert any("/item/census/" in c["item"] for c in w["copies"])  # the package's service-level text
    assert any("/instance/census/" in e["edition"] for e in w["editions"])  # the printed edition of the book
    assert w["same_as"] == [f"https://w3id.org/guji/id/work/census/{CENSUS['桃花源記']}"]
    html = client.get("/works/GJ4a0001").text
    assert f'/books/{CENSUS["桃花源記"]}' in html and "缩微品" in html


def test_book_page_links_the_digital_texts_of_the_same_work(client):
    book = client.get(f"/api/books/{CENSUS['桃花源記']}").json()
    assert book["work_id"] == "GJ4a0001"
    assert {t["edition"] for t in book["work_texts"]} == {"MING", "master"}
    assert all(t["texts"] for t in book["work_texts"])
    html = client.get(f"/books/{CENSUS['桃花源記']}").text
    assert 'href="/works/GJ4a0001"' in html and "同一作品的数字文本" in html


# -- proposals confirmed by a curator ----------------------------------------------------------------

@pytest.fixture
def curated(tmp_path):
    package = old_style_package(tmp_path / "pkg")
    app = make_client(tmp_path / "home", package)
    users = app.state.context.users
    keys = {role: users.add(f"{role}-1", role)[1] for role in ("annotator", "reviewer")}
    with TestClient(app) as c:
        c.app.state.context.sync_projections()
        yield c, keys, package


def auth(key):
    return {"authorization": f"Bearer {key}"}


def test_a_package_without_work_ids_keeps_its_own_works_and_gets_proposals(curated):
    client, keys, _ = curated
    assert len(sparql(client, WORKS_QUERY)) == 6  # nothing merged silently
    assert client.get("/api/works/identity").status_code == 401
    assert client.get("/api/works/identity", headers=auth(keys["annotator"])).status_code == 403
    r = client.get("/api/works/identity", headers=auth(keys["reviewer"]))
    assert r.status_code == 200, r.text
    proposals = r.json()["proposals"]
    pairs = {(p["canonical"].rsplit("/", 1)[1], p["merge"][0].rsplit("/", 1)[1]) for p in proposals}
    assert pairs == {(KANRIPO[t], c) for t, c in CENSUS.items()}
    taohua = next(p for p in proposals if p["canonical"].endswith("GJ4a0001"))
    assert any(reason.startswith("responsibility") for reason in taohua["reasons"])  # 陶潛 in the byline and in books.csv


def test_confirm_merges_live_keeps_old_iris_and_split_restores(curated):
    client, keys, package = curated
    proposals = client.get("/api/works/identity", headers=auth(keys["reviewer"])).json()["proposals"]
    taohua = next(p for p in proposals if p["canonical"].endswith("GJ4a0001"))
    assert client.post(f"/api/works/identity/{taohua['id']}", headers=auth(keys["annotator"])).status_code == 403
    r = client.post(f"/api/works/identity/{taohua['id']}", headers=auth(keys["reviewer"]))
    assert r.status_code == 201, r.text
    decision = r.json()["id"]
    assert len(sparql(client, WORKS_QUERY)) == 5
    # public SPARQL, search and the book page see it at once (live projections)
    hits = client.get("/api/search", params={"q": "桃花源"}).json()["hits"]
    assert {h["work"] for h in hits} == {"https://w3id.org/guji/id/work/GJ4a0001"}
    assert client.get(f"/api/works/census/{CENSUS['桃花源記']}", follow_redirects=False).status_code == 301
    again = client.post(f"/api/works/identity/{taohua['id']}", headers=auth(keys["reviewer"]))
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"

    # re-ingesting the same package keeps the merge and changes nothing
    ctx = client.app.state.context
    assert ingest_package(ctx.store, package, agent="t").changes == []

    r = client.delete(f"/api/works/identity/{decision}", headers=auth(keys["reviewer"]))
    assert r.status_code == 200, r.text
    assert len(sparql(client, WORKS_QUERY)) == 6
    w = client.get(f"/api/works/census/{CENSUS['桃花源記']}")
    assert w.status_code == 200 and w.json()["title"] == "桃花源記"
    assert client.delete(f"/api/works/identity/{decision}", headers=auth(keys["reviewer"])).status_code == 404


def test_work_ids_that_lead_back_to_themselves_are_reported_by_row(tmp_path):
    from kg.package import validate_package

    out = tmp_path / "guji-sample-2026-001"
    shutil.copytree(SAMPLE, out)
    books = out / "data" / "books.csv"
    rows = list(csv.DictReader(io.StringIO(books.read_text(encoding="utf-8"))))
    rows[0]["work_id"] = f"https://w3id.org/guji/id/work/census/{CENSUS['千字文']}"
    rows[1]["work_id"] = f"https://w3id.org/guji/id/work/census/{CENSUS['桃花源記']}"
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    books.write_text(buf.getvalue(), encoding="utf-8")
    bagit.Bag(str(out)).save(manifests=True)
    report = validate_package(out).report
    cycles = [(p.row, p.field) for p in report.violations if p.code == "work_id_cycle"]
    assert cycles == [(2, "work_id"), (3, "work_id")] and not report.valid


def test_a_work_id_of_the_wrong_form_is_a_violation_with_its_row(tmp_path):
    from kg.package import validate_package

    out = tmp_path / "guji-sample-2026-001"
    shutil.copytree(SAMPLE, out)
    books = out / "data" / "books.csv"
    books.write_text(books.read_text(encoding="utf-8").replace(",GJ4a0002", ",https://example.org/work/1"), encoding="utf-8")
    bagit.Bag(str(out)).save(manifests=True)
    report = validate_package(out).report
    assert [(p.code, p.row, p.field) for p in report.violations] == [("bad_format", 4, "work_id")]
