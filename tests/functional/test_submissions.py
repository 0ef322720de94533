"""POST /api/submissions: role, size limit, dry run, invalid packages refused with their report and
nothing stored, a valid package ingested in one transaction and visible on its book page."""

import io
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "package" / "guji-sample-2026-001"
BROKEN = ROOT / "tests" / "fixtures" / "packages"


def zipped(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.rglob("*")):
            if f.name != "expected.json":
                zf.write(f, Path(folder.name) / f.relative_to(folder))
    return buf.getvalue()


@pytest.fixture
def app_and_keys(tmp_path):
    app = create_app(Settings(home=tmp_path, environment="test", max_upload_bytes=2_000_000))
    users = app.state.context.users
    keys = {role: users.add(f"{role}-1", role)[1] for role in ("submitter", "annotator", "admin")}
    with TestClient(app) as client:
        yield client, keys


def post(client, key, body, **params):
    headers = {"content-type": "application/zip"}
    if key:
        headers["authorization"] = f"Bearer {key}"
    return client.post("/api/submissions", content=body, headers=headers, params=params)


def quads(client):
    return client.get("/healthz").json()["quads"]


def test_anonymous_and_annotators_cannot_submit(app_and_keys):
    client, keys = app_and_keys
    assert post(client, None, zipped(SAMPLE)).status_code == 401
    r = post(client, keys["annotator"], zipped(SAMPLE))
    assert r.status_code == 403 and "submitter" in r.json()["error"]["message"]
    assert quads(client) == 0


def test_dry_run_validates_and_stores_nothing(app_and_keys):
    client, keys = app_and_keys
    r = post(client, keys["submitter"], zipped(SAMPLE), dry_run="true")
    assert r.status_code == 200
    body = r.json()
    assert body["valid"] and not body["ingested"] and body["counts"]["books"] == 3
    assert quads(client) == 0


def test_valid_package_is_ingested_and_attributed(app_and_keys):
    client, keys = app_and_keys
    r = post(client, keys["submitter"], zipped(SAMPLE))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["ingested"] and len(body["graphs"]) == 2
    book = client.get("/api/books/110000-0001-0000001").json()
    assert len(book["microfilm"]) == 3
    q = "SELECT ?a WHERE { GRAPH ?g { ?s ?p ?o } } LIMIT 1"
    assert client.get("/sparql", params={"query": q}).status_code == 200
    again = post(client, keys["submitter"], zipped(SAMPLE))
    assert again.status_code == 200 and not again.json()["ingested"]


@pytest.mark.parametrize("name", ["overlapping-frames", "bad-checksum", "invalid-utf8"])
def test_invalid_package_is_refused_with_its_report_and_nothing_is_stored(app_and_keys, name):
    client, keys = app_and_keys
    r = post(client, keys["submitter"], zipped(BROKEN / name))
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "invalid_package" and not err["details"]["valid"]
    assert err["details"]["problems"] and all("message_zh" in p and "message_en" in p for p in err["details"]["problems"])
    assert quads(client) == 0


def test_oversized_upload_is_refused(app_and_keys):
    client, keys = app_and_keys
    r = post(client, keys["submitter"], b"\0" * 2_000_001)
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    assert quads(client) == 0


def test_not_a_zip(app_and_keys):
    client, keys = app_and_keys
    r = post(client, keys["submitter"], b"this is not a zip")
    assert r.status_code == 422 and "zip" in r.json()["error"]["message"]


def test_only_an_admin_sees_preservation_files_on_the_book_page(app_and_keys):
    client, keys = app_and_keys
    assert post(client, keys["submitter"], zipped(SAMPLE)).status_code == 201
    public = client.get("/api/books/110000-0001-0000002")
    assert "B2-TIF-1" not in public.text
    admin = client.get("/api/books/110000-0001-0000002", headers={"authorization": f"Bearer {keys['admin']}"})
    levels = sorted(d["level"].rsplit("/", 1)[1] for d in admin.json()["digital"])
    assert levels == ["preservation", "service"] and "B2-TIF-1" in admin.text
    submitter = client.get("/api/books/110000-0001-0000002", headers={"authorization": f"Bearer {keys['submitter']}"})
    assert "B2-TIF-1" not in submitter.text
