"""Relations over HTTP (issue 14 items 4 and 5, ADR 0022): create a relation annotation between
two entity annotations, submit, review; the approved relation is a triple in the public SPARQL
dataset, a typed edge in Neo4j (the real server, through the projector) and a line on both entity
pages; bad ends are a 4xx in the JSON error shape and write nothing; POST /api/suggest returns
relations when asked."""

from __future__ import annotations

import hashlib
import uuid

import pytest

from annotation.model import RelationType
from tests.functional._annotations import ANNO, JUAN, MEDIA, OTHER_JUAN, PERSON, PLACE, created, error_code, make_users, path, post
from tests.webanno import load

GUJI = "https://w3id.org/guji/ontology#"


@pytest.fixture(scope="module")
def h(client):
    return make_users(client)


@pytest.fixture(scope="module")
def w3c(shared_dir):
    return load(shared_dir)


@pytest.fixture(scope="module")
def text(client):
    return client.get("/api/reading", params={"iri": JUAN}).json()["text"]


def entity(client, h, text, exact, category, *, who="alice", juan=JUAN, approve=True, label=None):
    """An entity annotation that creates its authority record on the spot; approved by rita."""
    start = text.index(exact)
    doc = {"@context": ANNO, "type": "Annotation",
           "body": {"type": "SpecificResource", "purpose": "identifying", "source": {"label": label or exact},
                    "guji:category": category},
           "target": {"type": "SpecificResource", "source": juan, "selector": [
               {"type": "TextQuoteSelector", "exact": exact}, {"type": "TextPositionSelector", "start": start, "end": start + len(exact)}]}}
    url, _, body = created(client, h[who], doc)
    if approve:
        assert client.post(path(url) + "/submit", headers=h[who]).status_code == 200
        r = client.post(path(url) + "/review", json={"decision": "approve"}, headers={**h["rita"], "If-Match": "*"})
        assert r.status_code == 200, r.text
        body = r.json()
    return url, body["body"]["source"]["id"]


def relation_doc(head_url, tail_url, rtype="管理", **extra):
    return {"@context": ANNO, "type": "Annotation", "motivation": "linking",
            "body": {"type": "SpecificResource", "purpose": "classifying", "source": rtype},
            "target": [{"type": "SpecificResource", "source": JUAN, "guji:role": "head", "guji:annotation": head_url},
                       {"type": "SpecificResource", "source": JUAN, "guji:role": "tail", "guji:annotation": tail_url}], **extra}


def ask(client, query: str) -> bool:
    r = client.get("/sparql", params={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text
    return r.json()["boolean"]


def test_relation_journey_create_review_sparql_and_entity_pages(client, h, text, w3c):
    teng_url, teng = entity(client, h, text, "滕子京", PERSON)
    baling_url, baling = entity(client, h, text, "巴陵郡", PLACE)
    stated = f"ASK {{ GRAPH ?g {{ <{teng}> <{GUJI}governed> <{baling}> }} }}"

    url, etag, doc = created(client, h["alice"], relation_doc(teng_url, baling_url))
    w3c.check_annotation(doc)
    assert doc["motivation"] == "linking" and doc["body"]["source"] == GUJI + "governed"
    assert [t["selector"][0]["exact"] for t in doc["target"]] == ["滕子京", "巴陵郡"]
    assert client.get(path(url)).status_code == 404  # a draft: private to its creator
    assert not ask(client, stated)

    assert client.post(path(url) + "/submit", headers=h["alice"]).status_code == 200
    r = client.post(path(url) + "/review", json={"decision": "approve"}, headers={**h["rita"], "If-Match": "*"})
    assert r.status_code == 200, r.text
    approved = r.json()
    w3c.check_annotation(approved)
    assert [t["guji:entity"] for t in approved["target"]] == [teng, baling]
    assert ask(client, stated)  # the public graph states the edge between the two authority records
    assert ask(client, f"ASK {{ GRAPH ?g {{ ?a <{GUJI}relationHead> ?h ; <{GUJI}relationTail> ?t }} }}")

    page = client.get("/entity", params={"iri": teng})
    assert page.status_code == 200
    assert 'id="relations"' in page.text and "管理" in page.text and "governed" in page.text and "巴陵郡" in page.text
    other = client.get("/entity", params={"iri": baling})
    assert "管理" in other.text and "滕子京" in other.text and "←" in other.text  # the tail's page shows it coming in

    # the reviewer retracts the place: the relation's approval goes with it, and so does the edge
    r = client.post(path(baling_url) + "/review", json={"decision": "reject", "reason": "巴陵郡 當另立條目"},
                    headers={**h["vera"], "If-Match": "*"})
    assert r.status_code == 200, r.text
    assert not ask(client, stated)
    rel = client.get(path(url), headers=h["alice"]).json()
    assert rel["guji:status"] == "rejected" and baling_url.rsplit("/", 1)[1] in rel["guji:review"]["guji:reason"]
    assert "巴陵郡" not in client.get("/entity", params={"iri": teng}).text.split('id="relations-heading"')[1].split("</section>")[0]


def test_bad_relations_are_4xx_and_write_nothing(client, h, text):
    a_url, _ = entity(client, h, text, "范仲淹", PERSON)
    b_url, _ = entity(client, h, text, "岳陽樓", PLACE)
    other = client.get("/api/reading", params={"iri": OTHER_JUAN}).json()["text"]
    far_url, _ = entity(client, h, other, other[:2], PERSON, juan=OTHER_JUAN)
    draft_url, _ = entity(client, h, text, "慶曆", "https://w3id.org/guji/vocab/entity-category/era", who="carol", approve=False)
    store = client.app.state.context.store
    before = store.last_sequence()
    cases = [
        (relation_doc(a_url, a_url), 422, "target_mismatch", "two different"),
        (relation_doc(a_url, far_url), 422, "target_mismatch", "one juan"),
        (relation_doc(a_url, draft_url), 422, "target_mismatch", "no annotation"),  # carol's draft: alice can not see it
        (relation_doc(a_url, b_url, "朋友"), 422, "invalid_annotation", "unknown relation type"),
        (relation_doc(a_url, "http://x/annotations/not-an-id"), 422, "invalid_annotation", "does not name an annotation"),
        ({**relation_doc(a_url, b_url), "target": relation_doc(a_url, b_url)["target"][:1]}, 422, "invalid_annotation", "exactly two"),
    ]
    for doc, status, code, message in cases:
        r = post(client, h["alice"], doc)
        assert r.status_code == status, r.text
        err = r.json()["error"]
        assert err["code"] == code and message in err["message"], err
    assert store.last_sequence() == before

    # approving a relation before its ends: 409 with what to do
    head_url, _ = entity(client, h, text, "滕宗諒", PERSON, approve=False)
    url, _, _ = created(client, h["alice"], relation_doc(head_url, b_url, "别名"))
    client.post(path(url) + "/submit", headers=h["alice"])
    r = client.post(path(url) + "/review", json={"decision": "approve"}, headers={**h["rita"], "If-Match": "*"})
    assert r.status_code == 409 and error_code(r) == "invalid_transition" and "approve the entity annotations first" in r.text
    # an entity annotation a relation links is not deleted: 409 naming the relation
    r = client.get(path(head_url), headers=h["alice"])
    r = client.delete(path(head_url), headers={**h["alice"], "If-Match": r.headers["etag"]})
    assert r.status_code == 409 and error_code(r) == "annotation_in_use" and url.rsplit("/", 1)[1] in r.text


@pytest.mark.neo4j
def test_an_approved_relation_is_a_typed_edge_in_neo4j(client, h, text, neo4j_uri, neo4j_driver):
    """Through the projector the server runs (projections.projector.Projector), into the real Neo4j.
    The projection keeps its own checkpoint, started at the current end of the change log, so only
    this test's graphs are written (no rebuild of the shared database other tests use)."""
    from projections.neo4j import Neo4jProjection
    from projections.projector import Projector

    store = client.app.state.context.store
    projection = Neo4jProjection(neo4j_uri)
    projection.CHECKPOINT = f"test-relations-{uuid.uuid4().hex}"
    projection.ensure_schema()
    projection._set_checkpoint(store, store.last_sequence())
    projector = Projector(store, [projection])
    graphs: set[str] = set()
    try:
        start = store.last_sequence()
        fan_url, fan = entity(client, h, text, "范仲淹", PERSON, label="范仲淹")
        office_url, office = entity(client, h, text, "撰", "https://w3id.org/guji/vocab/entity-category/office", label="撰者")
        url, _, _ = created(client, h["alice"], relation_doc(fan_url, office_url, "任职"))
        client.post(path(url) + "/submit", headers=h["alice"])
        assert client.post(path(url) + "/review", json={"decision": "approve"}, headers={**h["rita"], "If-Match": "*"}).status_code == 200
        graphs = {c.graph for c in store.changes_since(start)}
        projector.catch_up()
        edge = ("MATCH (a:Resource {iri: $a})-[r:HELD_OFFICE]->(b:Resource {iri: $b}) RETURN r.graph AS g, labels(a) AS la, labels(b) AS lb")
        records, _, _ = neo4j_driver.execute_query(edge, a=fan, b=office)
        assert [r["g"] for r in records] == ["https://w3id.org/guji/graph/annotation/" + url.rsplit("/", 1)[1]]
        assert "Person" in records[0]["la"] and "Office" in records[0]["lb"]
        records, _, _ = neo4j_driver.execute_query(
            "MATCH (r:Annotation {iri: $r})-[:RELATION_HEAD]->(h:Annotation)-[:IDENTIFIES]->(e {iri: $a}) RETURN count(*) AS n",
            r="https://w3id.org/guji/id/annotation/" + url.rsplit("/", 1)[1], a=fan)
        assert records[0]["n"] == 1

        r = client.post(path(url) + "/review", json={"decision": "reject", "reason": "撰 is no office"},
                        headers={**h["vera"], "If-Match": "*"})
        assert r.status_code == 200
        graphs |= {c.graph for c in store.changes_since(start)}
        projector.catch_up()
        records, _, _ = neo4j_driver.execute_query(edge, a=fan, b=office)
        assert records == []  # retracted: the edge is gone
    finally:
        projection._remove_graphs(sorted(graphs))
        projection._run("MATCH (c:GujiCheckpoint {name: $name}) DELETE c", name=projection.CHECKPOINT)
        projection.close()


# -- POST /api/suggest with relations ---------------------------------------------------------------

@pytest.fixture(scope="module")
def small_relation_model(client, shared_dir, tmp_path_factory):
    """A relation model trained on 400 sentences (seconds), put where the server looks for its model."""
    from annotation.suggest.relations import MODEL_FILE, RelationModel, read_re, relation_types, split

    chisiec = shared_dir / "corpus" / "chisiec"
    train, _ = split(read_re(chisiec / "re_train.json"))
    model = RelationModel.train(train[:400], relation_types(chisiec / "re_types.json"), epochs=3)
    model.meta["source_sha256"] = hashlib.sha256((chisiec / "re_train.json").read_bytes()).hexdigest()[:16]
    home = client.app.state.context.settings.home
    model.save(home / "models" / MODEL_FILE)
    client.app.state.suggest_relations = None
    yield model
    (home / "models" / MODEL_FILE).unlink(missing_ok=True)
    client.app.state.suggest_relations = None


def test_suggest_returns_relations_when_asked(client, small_relation_model):
    line = "以李嗣昭為潞州節度使，丁會歸於晉陽。"
    plain = client.post("/api/suggest", json={"text": line}).json()
    assert "relations" not in plain
    r = client.post("/api/suggest", json={"text": line, "relations": True})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["spans"] == plain["spans"]
    ents = [(s["start"], s["end"], s["label"]) for s in body["spans"]]
    expected = [{"head": a, "tail": b, "type": t} for a, b, t in small_relation_model.relations(line, ents)]
    assert body["relations"] == expected
    names = {t.label for t in RelationType}
    for rel in body["relations"]:
        assert rel["type"] in names and 0 <= rel["head"] < len(body["spans"]) and 0 <= rel["tail"] < len(body["spans"])
    lines = client.post("/api/suggest", json={"lines": [line, "", line], "relations": True}).json()["lines"]
    assert [x["relations"] for x in lines] == [expected, [], expected]
    # a juan: relations index the whole answer's spans (chunks shifted)
    whole = client.post("/api/suggest", json={"source": JUAN, "relations": True}).json()
    for rel in whole["relations"]:
        a, b = whole["spans"][rel["head"]], whole["spans"][rel["tail"]]
        assert abs(a["start"] - b["start"]) <= 80


def test_suggest_without_the_relation_data_says_so_in_notes(client, tmp_path, monkeypatch):
    """No CHisIEC data (GUJI_SHARED elsewhere) and no model: a degraded mode said in notes, not an error."""
    monkeypatch.setenv("GUJI_SHARED", str(tmp_path / "nowhere"))
    state = client.app.state
    saved = getattr(state, "suggest_relations", None)
    state.suggest_relations = None
    try:
        r = client.post("/api/suggest", json={"text": "以李嗣昭為潞州節度使", "relations": True})
        assert r.status_code == 200, r.text
        assert "relations" not in r.json() and any(n.startswith("relations: none suggested") for n in r.json()["notes"])
    finally:
        state.suggest_relations = saved


def test_without_a_model_the_server_builds_one_in_the_background_and_stays_responsive(client, shared_dir):
    """No relation model yet: the answer comes at once with a note, the build runs in its own
    process (the real one: python -m annotation.suggest.relations), and other requests are served."""
    import time

    from annotation.suggest.relations import MODEL_FILE

    state = client.app.state
    home = state.context.settings.home
    model = home / "models" / MODEL_FILE
    saved = model.read_bytes() if model.exists() else None
    model.unlink(missing_ok=True)
    kept, state.suggest_relations = getattr(state, "suggest_relations", None), None
    try:
        t = time.perf_counter()
        r = client.post("/api/suggest", json={"text": "以李嗣昭為潞州節度使", "relations": True})
        assert r.status_code == 200 and time.perf_counter() - t < 20
        assert "relations" not in r.json() and any("being built in the background" in n for n in r.json()["notes"])
        build = state.suggest_relations_build
        assert build.poll() is None and build.args[1:3] == ["-m", "annotation.suggest.relations"]
        t = time.perf_counter()
        assert client.get("/healthz").status_code == 200 and time.perf_counter() - t < 5  # not held by the build
        again = client.post("/api/suggest", json={"text": "以李嗣昭為潞州節度使", "relations": True}).json()
        assert state.suggest_relations_build is build  # one build, not one per request
        assert any("being built" in n for n in again["notes"])
    finally:
        build = getattr(state, "suggest_relations_build", None)
        if build is not None and build.poll() is None:
            build.terminate()
            build.wait(30)
        state.suggest_relations_build = None
        state.suggest_relations = kept
        if saved is not None:
            model.write_bytes(saved)
