"""Background submissions over HTTP: 202 with a status URL, progress (phase, done, total, rate,
ETA) on GET, the report at the end; DELETE cancels and leaves nothing of the package (ADR 0017)."""

import io
import time
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from bench.package.__main__ import generate

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "package" / "guji-sample-2026-001"


def zipped(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.rglob("*")):
            zf.write(f, Path(folder.name) / f.relative_to(folder))
    return buf.getvalue()


@pytest.fixture
def app_and_keys(tmp_path):
    app = create_app(Settings(home=tmp_path, environment="test", max_upload_bytes=20_000_000))
    users = app.state.context.users
    keys = {name: users.add(name, role)[1] for name, role in (("sub-1", "submitter"), ("sub-2", "submitter"), ("admin-1", "admin"))}
    with TestClient(app) as client:
        yield client, keys


def post(client, key, body):
    return client.post("/api/submissions", content=body, params={"background": "true"},
                       headers={"content-type": "application/zip", "authorization": f"Bearer {key}"})


def wait(client, key, url, timeout=300):
    end = time.monotonic() + timeout
    seen = []
    while time.monotonic() < end:
        body = client.get(url, headers={"authorization": f"Bearer {key}"}).json()
        seen.append(body)
        if body["state"] != "running":
            return body, seen
        time.sleep(0.05)
    raise AssertionError(f"still running after {timeout} s: {seen[-1]}")


def test_background_submission_reports_progress_then_its_report(app_and_keys):
    client, keys = app_and_keys
    r = post(client, keys["sub-1"], zipped(SAMPLE))
    assert r.status_code == 202 and r.headers["location"] == r.json()["status_url"]
    body, seen = wait(client, keys["sub-1"], r.json()["status_url"])
    assert body["state"] == "ingested", body
    assert body["report"]["valid"] and body["report"]["ingested"] and len(body["report"]["graphs"]) == 2
    assert {s["phase"] for s in seen} <= {"uploaded", "reading", "checking", "loading", "published", "projecting"}
    assert body["done"] == body["total"] > 0 and body["eta_seconds"] is None
    # another submitter does not see it; the book is on its page
    other = client.get(r.json()["status_url"], headers={"authorization": f"Bearer {keys['sub-2']}"})
    assert other.status_code == 404 and other.json()["error"]["code"] == "not_found"
    assert client.get(r.json()["status_url"], headers={"authorization": f"Bearer {keys['admin-1']}"}).status_code == 200
    page = client.get(r.json()["page_url"])
    assert page.status_code == 200 and r.json()["id"] in page.text and "/static/js/submission.js" in page.text
    assert client.get("/static/js/submission.js").status_code == 200


def test_cancelling_a_background_submission_leaves_nothing(app_and_keys, tmp_path):
    client, keys = app_and_keys
    before = client.get("/healthz").json()["quads"]
    bag = generate(tmp_path / "pkg", 600)  # two batches: staged load
    r = post(client, keys["sub-1"], zipped(bag))
    assert r.status_code == 202
    d = client.delete(r.json()["status_url"], headers={"authorization": f"Bearer {keys['sub-1']}"})
    assert d.status_code == 202
    body, _ = wait(client, keys["sub-1"], r.json()["status_url"])
    assert body["state"] == "cancelled" and body["error"]["code"] == "ingest_cancelled", body
    assert client.get("/healthz").json()["quads"] == before
    store = client.app.state.context.store
    assert not any("bench-600" in g for g in store.graphs()) and not store.staged_graphs()
    assert client.get("/api/books/110000-0002-0000007").status_code == 404


def test_status_of_an_unknown_submission_is_404_json(app_and_keys):
    client, keys = app_and_keys
    r = client.get("/api/submissions/nope", headers={"authorization": f"Bearer {keys['sub-1']}"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_an_invalid_background_submission_ends_with_its_report_and_stores_nothing(app_and_keys):
    client, keys = app_and_keys
    broken = ROOT / "tests" / "fixtures" / "packages" / "bad-checksum"
    r = post(client, keys["sub-1"], zipped(broken))
    assert r.status_code == 202
    body, _ = wait(client, keys["sub-1"], r.json()["status_url"])
    assert body["state"] == "invalid" and not body["report"]["valid"] and not body["report"]["ingested"]
    assert {p["code"] for p in body["report"]["problems"] if p["severity"] == "violation"} >= {"checksum_mismatch"}
    assert client.get("/healthz").json()["quads"] == 0
