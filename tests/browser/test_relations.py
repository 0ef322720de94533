"""Relations in the browser (issue 14 items 4 and 5, ADR 0022): the annotator sees suggested
relations beside suggested entities and accepts or rejects each with the keyboard; an accepted
relation is a relation draft over two entity drafts; the reviewer approves it; the entity page
shows it, and the projector puts the typed edge into the real Neo4j.

The text is ingested beside the running server (``guji ingest`` goes through it, ADR 0009); the
relation model is a small one (400 sentences of re_train.json, 3 epochs: seconds) put where the
server looks for it, so the first relation request does not train the full one."""

from __future__ import annotations

import hashlib
import json
import uuid
from urllib.parse import quote

import pytest

from .conftest import _guji
from .test_pages import login, reader_ready, shot, wait_for, wait_text

REL_ID = "GJ9z0007"
REL_JUAN = f"https://w3id.org/guji/id/text/{REL_ID}/TEST/001"
LINES = ["十二月，潞州節度使丁會開門迎降，命李嗣昭為潞州節度使，以丁會歸於晉陽。", "太祖幸西都，友文留守東京。"]


def _write_work(root) -> None:
    ed = root / REL_ID / "TEST"
    ed.mkdir(parents=True)
    lines = ["# -*- mode: mandoku-view; -*-", "#+TITLE: 關係測試", f"#+PROPERTY: ID {REL_ID}", "#+PROPERTY: BASEEDITION TEST",
             "#+PROPERTY: JUAN 卷一", f"<pb:{REL_ID}_TEST_001-1a>¶", *[f"{line}¶" for line in LINES]]
    (ed / f"{REL_ID}_001.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (ed / "Readme.org").write_text("#+TITLE: 關係測試 / TEST\n* 版本\n |      TEST|【guji 測試本】|\n", encoding="utf-8")


@pytest.fixture(scope="module")
def relation_text(server, shared_dir, tmp_path_factory):
    from annotation.suggest.relations import MODEL_FILE, RelationModel, read_re, relation_types, split

    chisiec = shared_dir / "corpus" / "chisiec"
    train, _ = split(read_re(chisiec / "re_train.json"))
    model = RelationModel.train(train[:400], relation_types(chisiec / "re_types.json"), epochs=3)
    model.meta["source_sha256"] = hashlib.sha256((chisiec / "re_train.json").read_bytes()).hexdigest()[:16]
    model.save(server.home / "models" / MODEL_FILE)
    src = tmp_path_factory.mktemp("relation-src")
    _write_work(src)
    _guji(server.home, "ingest", str(src), "--format", "kanripo", "--quiet")
    return REL_JUAN


def _focused_label(page) -> str:
    return page.evaluate("document.activeElement?.getAttribute('aria-label') || ''")


def test_accept_and_reject_suggested_relations_with_the_keyboard_then_review_entity_page_and_neo4j(
        new_page, server, screenshots, relation_text, neo4j_uri, neo4j_driver):
    from kg.store import OxigraphStore

    ro = OxigraphStore.open_read_only(server.home / "oxigraph")
    start = ro.last_sequence()
    ro.close()

    anna = new_page()
    login(anna, server, "anna", f"/annotate?iri={quote(relation_text, safe='')}")
    reader_ready(anna)
    anna.wait_for_selector("#relations li[data-i]", timeout=120_000)
    labels = anna.eval_on_selector_all("#relations li[data-i]", "els => els.map((e) => e.getAttribute('aria-label'))")
    assert "李嗣昭 任职 節度使" in labels, labels
    assert anna.locator("#suggestions li[data-i]").count() >= 8  # the entity suggestions beside them

    # reject the first suggested relation with R: it goes, the focus moves to the next one
    first = anna.locator("#relations li[data-i]").first
    first.focus()
    rejected = _focused_label(anna)
    n = len(labels)
    anna.keyboard.press("r")
    wait_for(anna, "(n) => document.querySelectorAll('#relations li[data-i]').length === n", arg=n - 1)
    assert _focused_label(anna) == labels[1]
    assert anna.inner_text("#rel-count") == str(n - 1)
    # and an entity suggestion with Delete
    sugg = anna.locator("#suggestions li[data-i]").count()
    anna.locator("#suggestions li[data-i]").first.focus()
    anna.keyboard.press("Delete")
    wait_for(anna, "(n) => document.querySelectorAll('#suggestions li[data-i]').length === n", arg=sugg - 1)

    # walk down with ↓ to 李嗣昭 任职 節度使 and accept it with A
    for _ in range(len(labels)):
        if _focused_label(anna) == "李嗣昭 任职 節度使":
            break
        anna.focus("#relations li[data-i][tabindex='0']")
        anna.keyboard.press("ArrowDown")
    assert _focused_label(anna) == "李嗣昭 任职 節度使"
    with anna.expect_request(lambda r: r.url.endswith("/annotations/") and r.method == "POST"
                             and (r.post_data_json or {}).get("motivation") == "linking") as req:
        anna.keyboard.press("a")
    sent = req.value.post_data_json
    assert sent["body"]["source"] == "任职" and [t["guji:role"] for t in sent["target"]] == ["head", "tail"]
    wait_text(anna, "#rel-status", "relation saved as a draft")
    anna.wait_for_selector("#mine li.relation-item[data-status=draft]")
    assert "李嗣昭" in anna.inner_text("#mine li.relation-item") and "任职" in anna.inner_text("#mine li.relation-item")
    wait_for(anna, "document.querySelectorAll('#mine li[data-status=draft]').length === 3")  # 李嗣昭, 節度使, the relation
    shot(anna, screenshots, "10-relations-annotate")
    for remaining in (2, 1, 0):
        anna.locator("#mine li[data-status=draft] button.submit").first.click()
        wait_for(anna, "(n) => document.querySelectorAll('#mine li[data-status=draft]').length === n", arg=remaining)

    # the rejected suggestion stays rejected on this text after a reload
    anna.reload()
    reader_ready(anna)
    anna.wait_for_selector("#relations li[data-i]", timeout=120_000)
    after = anna.eval_on_selector_all("#relations li[data-i]", "els => els.map((e) => e.getAttribute('aria-label'))")
    assert rejected not in after or after.count(rejected) < labels.count(rejected)

    # the reviewer: the ends first, then the relation (before its ends it would be a 409: tests/functional)
    rita = new_page()
    login(rita, server, "rita", "/review")
    rita.wait_for_selector("#queue-list li.relation-item[data-status=submitted]")
    item = rita.locator("#queue-list li.relation-item")
    assert "任职" in item.inner_text() and "李嗣昭" in item.inner_text() and "節度使" in item.inner_text()
    shot(rita, screenshots, "11-relations-review")
    for quote_text in ("李嗣昭", "節度使"):
        rita.locator("#queue-list > li", has=rita.locator("mark", has_text=quote_text)).locator("button.approve").click()
        wait_text(rita, "#review-status", "approved")
        rita.wait_for_selector(f"#queue-list > li:has(mark:text('{quote_text}'))", state="detached")
    rita.reload()
    rita.wait_for_selector("#queue-list li.relation-item[data-status=submitted]")
    rita.locator("#queue-list li.relation-item button.approve").click()
    wait_text(rita, "#review-status", "approved")

    # the public entity page of 李嗣昭 shows the relation
    rel_id = json.loads(anna.evaluate("JSON.stringify(window.gujiAnnotator.state.mine.filter((m) => m.relation).map((m) => m.id))"))[0]
    doc = server.get(f"/annotations/{rel_id}")
    head, tail = doc["target"][0]["guji:entity"], doc["target"][1]["guji:entity"]
    public = new_page()
    public.goto(f"{server.url}/entity?iri={quote(head, safe='')}")
    public.wait_for_selector("#relations li[data-type=heldOffice]")
    line = public.inner_text("#relations li[data-type=heldOffice]")
    assert "任职" in line and "節度使" in line
    shot(public, screenshots, "12-relations-entity")

    # the projector puts the edge into Neo4j (a projection with its own checkpoint over a read-only
    # view of the server's store: only these changes are applied, the shared database is not rebuilt)
    from projections.neo4j import Neo4jProjection
    from projections.projector import Projector

    store = OxigraphStore.open_read_only(server.home / "oxigraph")
    projection = Neo4jProjection(neo4j_uri)
    projection.CHECKPOINT = f"test-browser-relations-{uuid.uuid4().hex}"
    graphs = {c.graph for c in store.changes_since(start)}
    try:
        projection.ensure_schema()
        projection._set_checkpoint(store, start)
        Projector(store, [projection]).catch_up()
        records, _, _ = neo4j_driver.execute_query(
            "MATCH (a:Resource {iri: $a})-[r:HELD_OFFICE]->(b:Resource {iri: $b}) RETURN a.label AS a, b.label AS b", a=head, b=tail)
        assert [(r["a"], r["b"]) for r in records] == [("李嗣昭", "節度使")]
    finally:
        projection._remove_graphs(sorted(graphs))
        projection._run("MATCH (c:GujiCheckpoint {name: $name}) DELETE c", name=projection.CHECKPOINT)
        projection.close()
        store.close()
