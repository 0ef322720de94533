"""Malformed IRIs in query parameters and paths are a 422 invalid_iri in the JSON error shape (they
were a 500 with the connection dropped); javascript: and other schemes are never stored as an
annotation's canonical, an authority id or an image target."""

import pytest

from tests.functional._annotations import JUAN, MEDIA, annotation, make_users

BAD = ["http://x y", "https://w3id.org/guji/id/<script>", 'http://a/"b"', "http://a/{b}", "http://a/b|c", "http://a/^",
       "http://a/`", "http://a/\\b", "relative/path", "javascript:alert(1)", "data:text/html,x", "http://", ""]


@pytest.fixture(scope="module")
def h(client):
    return make_users(client)


def assert_invalid_iri(client, r, field: str = "iri") -> None:
    assert r.status_code == 422, (r.request.url, r.text)
    err = r.json()["error"]
    assert err["code"] == "invalid_iri" and err["details"]["field"] == field, err
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("iri", BAD)
@pytest.mark.parametrize("url", ["/api/texts", "/api/graph/neighbourhood", "/api/spans", "/api/reading"])
def test_bad_iri_parameters_are_422(client, url, iri):
    assert_invalid_iri(client, client.get(url, params={"iri": iri}))


@pytest.mark.parametrize("path", ["a b", "%3Cx%3E", "x%22y", "x%7By%7D", "x%5Cy"])
def test_bad_item_paths_are_422(client, path):
    assert_invalid_iri(client, client.get(f"/api/items/{path}"), field="path")


def test_good_iris_still_answer(client):
    assert client.get("/api/texts", params={"iri": JUAN}).status_code == 200
    r = client.get("/api/texts", params={"iri": "https://w3id.org/guji/id/text/none"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"
    r = client.get("/api/graph/neighbourhood", params={"iri": "urn:x-guji:nothing"})
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def _count(client, h) -> int:
    return client.get("/annotations/", params={"status": "draft"}, headers=h["alice"]).json()["total"]


@pytest.mark.parametrize("scheme", ["javascript:alert(1)", "data:text/html,<b>x</b>", "vbscript:x", "file:///etc/passwd"])
def test_only_http_and_urn_iris_are_stored_in_annotations(client, h, scheme):
    before = _count(client, h)
    docs = {
        "canonical": annotation(canonical=scheme),
        "body[0].source.id": annotation(authority=scheme, label="某"),
    }
    image = annotation()
    image["target"] = [image["target"], {"type": "SpecificResource", "source": scheme,
                                         "selector": {"type": "FragmentSelector", "value": "xywh=1,2,3,4"}}]
    docs["target[1].source"] = image
    for field, doc in docs.items():
        r = client.post("/annotations/", json=doc, headers={**h["alice"], "Content-Type": MEDIA})
        assert r.status_code == 422, r.text
        err = r.json()["error"]
        assert err["code"] == "invalid_annotation" and err["details"]["field"] == field, err
        assert "http(s) or urn" in err["message"]
    assert _count(client, h) == before
    ok = annotation(canonical="urn:uuid:0b5e3d0c-8d3e-4b7e-9d6c-0a1b2c3d4e5f")
    assert client.post("/annotations/", json=ok, headers={**h["alice"], "Content-Type": MEDIA}).status_code == 201
