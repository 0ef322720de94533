"""IIIF over HTTP with a real ``guji serve --sample`` running: the Image API (info.json, tiles,
ETags, CORS), manifests, the official IIIF Image API validator at level 2 against an image
submitted while the server runs, bad images refused with file/row and nothing stored, and the
public never receiving a preservation-level image (image API, manifests, SPARQL)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import httpx
import pytest

from tests._images import package_with, png_bomb, validator_pattern, zipped
from tests.functional.test_live_projections import server  # noqa: F401  (the live server fixture)

BOOK = "110000-0001-0000001"
IMG = "guji-sample-2026-001~B1-IMG-1"
PRESERVATION = ("guji-sample-2026-001~B2-TIF-1", "guji-sample-2026-001~B3-TIF-1")


def _key(cli, name: str, role: str) -> dict[str, str]:
    r = cli("users", "add", name, "--role", role, "--json")
    assert r.returncode == 0, r.stderr
    return {"Authorization": f"Bearer {json.loads(r.stdout)['api_key']}"}


def test_info_json_tiles_etags_and_cors(server):
    base, _cli, _proc = server
    r = httpx.get(f"{base}/iiif/image/{IMG}/info.json", headers={"Accept": "application/ld+json"})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
    assert r.headers["content-type"].startswith("application/ld+json") and 'image/3/context.json' in r.headers["content-type"]
    info = r.json()
    assert (info["width"], info["height"], info["profile"]) == (700, 1200, "level2")
    assert info["id"] == f"{base}/iiif/image/{IMG}"
    tile = httpx.get(f"{base}/iiif/image/{IMG}/256,512,256,256/256,/0/default.jpg")
    assert tile.status_code == 200 and tile.headers["content-type"] == "image/jpeg" and tile.content[:2] == b"\xff\xd8"
    again = httpx.get(f"{base}/iiif/image/{IMG}/256,512,256,256/256,/0/default.jpg", headers={"If-None-Match": tile.headers["etag"]})
    assert again.status_code == 304 and not again.content
    for fmt, magic in (("png", b"\x89PNG"), ("webp", b"RIFF")):
        assert httpx.get(f"{base}/iiif/image/{IMG}/full/!200,200/90/gray.{fmt}").content.startswith(magic)
    redirect = httpx.get(f"{base}/iiif/image/{IMG}")
    assert redirect.status_code == 303 and redirect.headers["location"].endswith(f"/iiif/image/{IMG}/info.json")
    bad = httpx.get(f"{base}/iiif/image/{IMG}/full/max/45/default.jpg")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_image_request"
    assert bad.json()["error"]["details"] == {"parameter": "rotation", "value": "45"}


def test_manifests_over_http(server):
    base, _cli, _proc = server
    m = httpx.get(f"{base}/iiif/books/{BOOK}/manifest").json()
    assert m["type"] == "Manifest" and len(m["items"]) == 4 and m["viewingDirection"] == "right-to-left"
    body = m["items"][0]["items"][0]["items"][0]["body"]
    assert httpx.get(body["id"]).status_code == 200  # the painting image of the first canvas is served
    assert httpx.get(f"{base}/iiif/reels/R1-S/manifest").json()["items"][0]["label"]["en"] == ["frame 1"]
    assert httpx.get(f"{base}/iiif/books/{BOOK}/collection").json()["type"] == "Collection"
    assert httpx.get(f"{base}/iiif/reels/R9-X/manifest").status_code == 404


def test_the_public_never_receives_a_preservation_image(server):
    base, _cli, _proc = server
    for image_id in PRESERVATION:
        for path in ("", "/info.json", "/full/max/0/default.jpg", "/0,0,10,10/10,/0/default.png"):
            r = httpx.get(f"{base}/iiif/image/{image_id}{path}")
            assert r.status_code == 404 and r.json()["error"]["code"] == "image_not_found", (image_id, path)
    for url in (f"/iiif/books/{BOOK}/manifest", "/iiif/books/110000-0001-0000002/manifest", "/iiif/reels/R1-S/manifest"):
        assert "TIF" not in httpx.get(base + url).text
    assert httpx.get(f"{base}/iiif/books/110000-0001-0000003/manifest").status_code == 404  # masters only
    q = """PREFIX guji: <https://w3id.org/guji/ontology#> PREFIX iiif: <http://iiif.io/api/presentation/3#>
           SELECT ?file WHERE { ?canvas a iiif:Canvas ; guji:imageFile ?file }"""
    rows = httpx.get(f"{base}/sparql", params={"query": q}, headers={"Accept": "application/sparql-results+json"}).json()
    files = sorted(b["file"]["value"].rsplit("/", 1)[-1] for b in rows["results"]["bindings"])
    assert files == ["B1-IMG-1", "B1-IMG-2", "B1-IMG-3", "B1-IMG-4", "B2-IMG-1"]


def test_public_sparql_goes_text_folio_canvas_frame(server):
    base, _cli, _proc = server
    q = """PREFIX guji: <https://w3id.org/guji/ontology#> PREFIX iiif: <http://iiif.io/api/presentation/3#>
           PREFIX dcterms: <http://purl.org/dc/terms/>
           SELECT ?page ?canvas ?n WHERE { ?canvas a iiif:Canvas ; guji:showsFolio ?side ; guji:showsFrame ?f .
             ?side guji:pageId ?page . ?f guji:frameNumber ?n ; guji:onReel/dcterms:identifier "R1-S" } ORDER BY ?n"""
    rows = httpx.get(f"{base}/sparql", params={"query": q}, headers={"Accept": "application/sparql-results+json"}).json()
    got = [(b["page"]["value"], int(b["n"]["value"])) for b in rows["results"]["bindings"]]
    assert got == [("B1_MING_001-1a", 1), ("B1_MING_001-1b", 2), ("B1_MING_001-2a", 3), ("B1_MING_001-2b", 4)]


def test_bad_images_are_refused_with_row_and_nothing_changes(server, tmp_path):
    base, cli, _proc = server
    submitter = _key(cli, "sue", "submitter")
    before = httpx.get(f"{base}/iiif/books/110000-0001-0000002/manifest").json()
    page = (package_with.__globals__["SAMPLE"] / "data" / "images" / "B2" / "001-1a.png").read_bytes()
    pkg = package_with(tmp_path, [
        dict(file_id="B2-IMG-9", path="images/B2/001-1b.png", data=page[: len(page) // 3], format="image/png", folio="1b"),
        dict(file_id="B2-IMG-8", path="images/B2/bomb.png", data=png_bomb(30_000, 30_000), format="image/png", folio="2a"),
    ])
    r = httpx.post(f"{base}/api/submissions", content=zipped(pkg), headers={**submitter, "Content-Type": "application/zip"},
                   timeout=120)
    assert r.status_code == 422
    problems = r.json()["error"]["details"]["problems"]
    got = {(p["code"], p["file"], p["row"], p["field"]) for p in problems if p["severity"] == "violation"}
    assert got == {("corrupt_image", "data/files.csv", 11, "path"), ("image_too_large", "data/files.csv", 12, "path")}
    assert httpx.get(f"{base}/iiif/image/guji-sample-2026-001~B2-IMG-9/info.json").status_code == 404
    assert httpx.get(f"{base}/iiif/books/110000-0001-0000002/manifest").json() == before


@pytest.mark.skipif(shutil.which("iiif-validate.py") is None, reason="iiif-validator (pip install iiif-validator) not installed")
def test_the_iiif_image_api_validator_passes_level_2_on_an_image_submitted_while_serving(server, tmp_path):
    base, cli, _proc = server
    submitter = _key(cli, "val", "submitter")
    pkg = package_with(tmp_path, [dict(file_id="B2-VAL-1", path="images/B2/validator.png", data=validator_pattern(),
                                       format="image/png")])
    r = httpx.post(f"{base}/api/submissions", content=zipped(pkg), headers={**submitter, "Content-Type": "application/zip"},
                   timeout=120)
    assert r.status_code in (200, 201), r.text
    host = base.removeprefix("http://")
    run = subprocess.run([shutil.which("iiif-validate.py"), "-s", host, "-p", "iiif/image", "-i", "guji-sample-2026-001~B2-VAL-1",
                          "--version=3.0", "--level=2"], capture_output=True, text=True, timeout=600,
                         env={**os.environ, "PYTHONWARNINGS": "ignore"})
    log = run.stdout + run.stderr  # the validator reports through logging (stderr); its exit code counts failures
    assert run.returncode == 0 and "Done (33 tests, 0 failures)" in log, log[-4000:]
    assert log.count(" PASS") == 33
