"""``guji annotations export|import|check-anchors`` as real processes."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pyoxigraph as ox

from annotation.model import AnnotationCreate, Category, Reading, TextSelection
from annotation.policies import Identity, Role
from api.context import SAMPLE_DIR, Context
from api.settings import Settings
from kg.ingest_kanripo import find_works, ingest_work
from kg.namespaces import GUJI
from tests.functional._annotations import JUAN


def guji(home, *args, input=None):
    env = {**os.environ, "GUJI_HOME": str(home), "GUJI_ENVIRONMENT": "test"}
    return subprocess.run([sys.executable, "-m", "api", *args], env=env, input=input, capture_output=True, text=True, timeout=120)


def home_with_annotations(path):
    ctx = Context(Settings(home=path, environment="test"))
    for w in find_works([SAMPLE_DIR / "kanripo"]):
        ingest_work(ctx.store, w)
    alice, rita = Identity("alice", Role.ANNOTATOR), Identity("rita", Role.REVIEWER)
    ids = []
    for exact, category in (("范仲淹", Category.PERSON), ("巴陵郡", Category.PLACE), ("慶曆四年", Category.ERA)):
        a = ctx.annotations.create(alice, AnnotationCreate(target=TextSelection(source=JUAN, exact=exact),
                                                           readings=[Reading(category=category)])).annotation
        ids.append(a.id)
    for i in ids[:2]:
        ctx.annotations.submit(alice, i)
        ctx.annotations.review(rita, i, "approve")
    ctx.close()
    return ids


def test_export_import_round_trip_and_csv(tmp_path):
    ids = home_with_annotations(tmp_path / "a")
    r = guji(tmp_path / "a", "annotations", "export", "--scope", "GJ4a0002", "--status", "draft,submitted,approved,rejected")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [a["id"].rsplit("/", 1)[1] for a in doc["first"]["items"]] == ids
    (tmp_path / "all.jsonld").write_text(r.stdout, encoding="utf-8")
    public = json.loads(guji(tmp_path / "a", "annotations", "export").stdout)
    assert public["total"] == 2
    r = guji(tmp_path / "a", "annotations", "export", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(r.stdout.lstrip("\ufeff"))))
    assert [row["exact"] for row in rows] == ["范仲淹", "巴陵郡"]
    # restore into a fresh home that has the texts
    ctx = Context(Settings(home=tmp_path / "b", environment="test"))
    for w in find_works([SAMPLE_DIR / "kanripo"]):
        ingest_work(ctx.store, w)
    ctx.close()
    r = guji(tmp_path / "b", "annotations", "import", str(tmp_path / "all.jsonld"))
    assert r.returncode == 0 and "3 created" in r.stderr, r.stderr
    again = guji(tmp_path / "b", "annotations", "export", "--scope", "GJ4a0002", "--status", "draft,submitted,approved,rejected")
    assert json.loads(again.stdout) == doc


def test_check_anchors_after_a_text_changed_under_the_annotations(tmp_path):
    ids = home_with_annotations(tmp_path / "a")
    ctx = Context(Settings(home=tmp_path / "a", environment="test"))
    text = ctx.annotations.text_of(JUAN)
    graph = "https://w3id.org/guji/graph/kanripo/GJ4a0002"
    triples = [t for t in ctx.store.triples(graph) if not (t.subject.value == JUAN and t.predicate.value == GUJI + "text")]
    triples.append(ox.Triple(ox.NamedNode(JUAN), ox.NamedNode(GUJI + "text"), ox.Literal("補" + text.replace("巴陵郡", "巴陵縣"))))
    ctx.store.replace_graph(graph, triples, agent="test: a corrected text ingested")
    ctx.close()
    r = guji(tmp_path / "a", "annotations", "check-anchors", "--json")
    assert r.returncode == 0, r.stderr
    [report] = json.loads(r.stdout)
    assert report["source"] == JUAN and report["checked"] == 3
    assert [e["id"] for e in report["outcomes"]["reanchored"]] == [ids[0], ids[2]]  # moved by one, quote intact
    assert [e["id"] for e in report["outcomes"]["orphaned"]] == [ids[1]]  # 巴陵郡 corrected away
    r = guji(tmp_path / "a", "annotations", "check-anchors")
    assert r.stdout.strip() == f"{JUAN}: 3 checked, nothing changed"  # flagged ones stay flagged, not re-recorded
