"""Errors keep the one JSON shape and the right code; annotation ids do not echo the Host header;
a review names the version it judged (If-Match, else 428); CLI --json errors are JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.context import SAMPLE_DIR
from api.settings import Settings
from kg.ingest_kanripo import find_works, ingest_work
from kg.store import OxigraphStore
from tests.functional._annotations import BASE, MEDIA, annotation, created, make_users, path

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def h(client):
    return make_users(client)


def error(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code, body
    return body["error"]


def test_annotation_ids_do_not_echo_the_host_header(client, h):
    r = client.post("/annotations/", json=annotation(), headers={**h["alice"], "Content-Type": MEDIA, "Host": "evil.example"})
    assert r.status_code == 201, r.text
    assert r.json()["id"].startswith(BASE + "annotations/") and r.headers["location"].startswith(BASE)
    assert "evil.example" not in r.text + r.headers["location"]
    page = client.get("/annotations/", headers={**h["alice"], "Host": "evil.example"}, params={"status": "draft"})
    assert "evil.example" not in page.text
    export = client.get("/api/annotations/export", headers={"Host": "evil.example"})
    assert "evil.example" not in export.text


def test_public_base_url_names_the_annotations(tmp_path):
    store = OxigraphStore(tmp_path / "oxigraph")
    for w in find_works([SAMPLE_DIR / "kanripo"]):
        ingest_work(store, w)
    store.close()
    app = create_app(Settings(home=tmp_path, environment="test", public_base_url="https://guji.example.org/"))
    with TestClient(app) as c:
        who = make_users(c)
        url, _, body = created(c, who["alice"])
    assert url.startswith("https://guji.example.org/annotations/") and body["id"] == url


def test_review_needs_if_match_like_an_update(client, h):
    url, _, _ = created(client, h["alice"])
    client.post(path(url) + "/submit", headers=h["alice"]).raise_for_status()
    r = client.post(path(url) + "/review", json={"decision": "approve"}, headers=h["rita"])
    err = error(r, 428, "precondition_required")
    assert "If-Match" in err["message"]
    assert client.get(path(url), headers=h["rita"]).json()["guji:status"] == "submitted"  # nothing changed
    r = client.post(path(url) + "/review", json={"decision": "approve"}, headers={**h["rita"], "If-Match": '"stale"'})
    error(r, 412, "precondition_failed")
    etag = client.get(path(url), headers=h["rita"]).headers["etag"]
    r = client.post(path(url) + "/review", json={"decision": "approve"}, headers={**h["rita"], "If-Match": etag})
    assert r.status_code == 200 and r.json()["guji:status"] == "approved"


def test_a_bad_review_is_not_called_a_target_mismatch(client, h):
    url, _, _ = created(client, h["alice"])
    client.post(path(url) + "/submit", headers=h["alice"]).raise_for_status()
    etag = client.get(path(url), headers=h["rita"]).headers["etag"]
    r = client.post(path(url) + "/review", json={"decision": "reject", "reason": "  "}, headers={**h["rita"], "If-Match": etag})
    err = error(r, 422, "invalid_review")
    assert err["details"]["field"] == "reason"
    r = client.post(path(url) + "/review", json={"decision": "maybe"}, headers={**h["rita"], "If-Match": etag})
    error(r, 422, "validation_error")
    with pytest.raises(Exception) as e:
        from annotation.policies import Identity, Role

        client.app.state.context.annotations.review(Identity(name="rita", role=Role.REVIEWER), url.rsplit("/", 1)[1], "maybe")
    assert getattr(e.value, "code", None) == "invalid_review"


def test_annotation_route_errors_are_typed(client, h):
    error(client.get("/annotations/", headers={"Accept": "text/html"}), 406, "not_acceptable")
    r = client.post("/annotations/", content=b"x", headers={**h["alice"], "Content-Type": "text/plain"})
    error(r, 415, "unsupported_media_type")
    err = error(client.get("/annotations/", params={"page": 99}), 404, "not_found")
    assert err["details"]["page"] == 99


def test_cli_json_errors_are_json(tmp_path):
    env = {**os.environ, "GUJI_HOME": str(tmp_path / "home"), "PYTHONPATH": str(ROOT)}
    r = subprocess.run([sys.executable, "-m", "api", "sparql", "--json", "SELEC nothing"], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    err = json.loads(r.stdout)["error"]
    assert err["code"] == "query_syntax_error" and err["message"]


def test_an_unexpected_error_is_still_json(tmp_path):
    app = create_app(Settings(home=tmp_path, environment="test"))

    @app.get("/boom")
    def boom():
        raise RuntimeError("a bug")

    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/boom")
        err = error(r, 500, "internal_error")
        assert "a bug" not in err["message"] and r.headers["x-content-type-options"] == "nosniff"
        assert c.get("/healthz").status_code == 200
