"""Request body limits per endpoint, checked before any route parses a body: on Content-Length and
on the bytes of a chunked body; and JSON nested too deep for the parser. Each refusal is the one
JSON error shape, nothing is stored and the server keeps answering."""

import json
import tempfile

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.middleware import json_too_deep
from api.settings import Settings
from tests.functional._annotations import MEDIA, annotation, make_users

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def h(client):
    return make_users(client)


def chunks(data: bytes, size: int = 64 * 1024):
    """A body without Content-Length (Transfer-Encoding: chunked)."""
    for i in range(0, len(data), size):
        yield data[i:i + size]


def annotation_count(client, h) -> int:
    return client.get("/annotations/", params={"status": "draft"}, headers=h["alice"]).json()["total"]


def assert_error(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code and set(err) == {"code", "message", "details"}
    return err


def test_a_20_mb_annotation_note_is_refused_with_413(client, h):
    before = annotation_count(client, h)
    doc = annotation(note="注" * (20 * MiB // 3))
    r = client.post("/annotations/", content=json.dumps(doc, ensure_ascii=False).encode(),
                    headers={**h["alice"], "Content-Type": MEDIA})
    err = assert_error(r, 413, "payload_too_large")
    assert str(MiB) in err["message"] and "GUJI_MAX_JSON_BYTES" in err["message"] and err["details"]["limit"] == MiB
    assert annotation_count(client, h) == before
    assert client.get("/healthz").status_code == 200


def test_a_chunked_json_body_is_counted_too(client, h):
    before = annotation_count(client, h)
    body = json.dumps(annotation(note="x" * (2 * MiB))).encode()
    r = client.post("/annotations/", content=chunks(body), headers={**h["alice"], "Content-Type": MEDIA})
    assert "content-length" not in r.request.headers
    err = assert_error(r, 413, "payload_too_large")
    assert str(MiB) in err["message"]
    assert annotation_count(client, h) == before
    # a small chunked body still goes through
    r = client.post("/annotations/", content=chunks(json.dumps(annotation()).encode(), 100),
                    headers={**h["alice"], "Content-Type": MEDIA})
    assert r.status_code == 201, r.text


def test_sparql_bodies_have_their_own_limit(client):
    query = "SELECT * WHERE { ?s ?p ?o } # " + "x" * (64 * 1024)
    for content in (query.encode(), chunks(query.encode(), 4096)):
        r = client.post("/sparql", content=content, headers={"Content-Type": "application/sparql-query"})
        err = assert_error(r, 413, "payload_too_large")
        assert str(64 * 1024) in err["message"] and "GUJI_MAX_SPARQL_BYTES" in err["message"]
    r = client.post("/sparql", content=b"ASK { ?s ?p ?o }", headers={"Content-Type": "application/sparql-query",
                                                                       "Accept": "application/sparql-results+json"})
    assert r.status_code == 200


def test_deeply_nested_json_is_refused_before_parsing(client, h):
    before = annotation_count(client, h)
    deep = b"[" * 100_000 + b"]" * 100_000
    for url in ("/annotations/", "/api/display", "/api/annotations/import"):
        r = client.post(url, content=deep, headers={**h["root"], "Content-Type": "application/json"})
        err = assert_error(r, 422, "json_too_deep")
        assert "64" in err["message"] or url == "/api/annotations/import"  # large imports: caught while parsing
    nested = {"a": [{"b": [1]}]}
    for _ in range(70):
        nested = {"n": nested}
    r = client.post("/api/display", json=nested)
    assert_error(r, 422, "json_too_deep")
    assert annotation_count(client, h) == before
    assert client.get("/healthz").status_code == 200


def test_brackets_inside_strings_do_not_count(client, h):
    r = client.post("/annotations/", content=json.dumps(annotation(note="[{" * 500 + '\\"]' * 10)).encode(),
                    headers={**h["alice"], "Content-Type": MEDIA})
    assert r.status_code == 201, r.text


def test_depth_scan():
    assert not json_too_deep(b'{"a": [1, {"b": "[[[[[[["}]}', 3)
    assert json_too_deep(b'{"a": [1, {"b": [[]]}]}', 3)
    assert not json_too_deep(b'"\\"[[[[" ', 1)
    assert not json_too_deep(b"[]" * 10_000, 1)


def test_a_chunked_upload_beyond_the_limit_is_413_and_leaves_no_temp_file(tmp_path, monkeypatch):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    app = create_app(Settings(home=tmp_path / "home", environment="test", max_upload_bytes=9_000_000))
    key = app.state.context.users.add("sam", "submitter")[1]
    with TestClient(app) as client:
        r = client.post("/api/submissions", content=chunks(b"\0" * 9_500_000, 256 * 1024),
                        headers={"content-type": "application/zip", "authorization": f"Bearer {key}"})
        err = assert_error(r, 413, "payload_too_large")
        assert "9000000" in err["message"] and "GUJI_MAX_UPLOAD_BYTES" in err["message"]
        assert list(tmp.iterdir()) == []
        assert client.get("/healthz").json()["quads"] == 0


def test_an_annotation_import_may_be_larger_than_other_json(client, h):
    body = json.dumps({"@context": "http://www.w3.org/ns/anno.jsonld", "type": "AnnotationCollection",
                       "label": "x" * (2 * MiB), "first": {"type": "AnnotationPage", "items": []}}).encode()
    r = client.post("/api/annotations/import", content=body, headers={**h["root"], "Content-Type": "application/json"})
    assert r.status_code != 413, r.text
