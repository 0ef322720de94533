"""The W3C Web Annotation Protocol over HTTP, modelled on the protocol's MUSTs and SHOULDs
(the W3C test suite's server checks), plus the W3C data-model schemas on everything emitted."""

from __future__ import annotations

import re

import pyoxigraph as ox
import pytest

from tests.functional._annotations import (
    ANNO,
    BASE,
    ERA,
    JUAN,
    MEDIA,
    OTHER_JUAN,
    PERSON,
    annotation,
    created,
    error_code,
    make_users,
    path,
    post,
)
from tests.webanno import load

PREFER_MINIMAL = 'return=representation;include="http://www.w3.org/ns/ldp#PreferMinimalContainer"'
PREFER_IRIS = 'return=representation;include="http://www.w3.org/ns/oa#PreferContainedIRIs"'


@pytest.fixture(scope="module")
def h(client):
    return make_users(client)


@pytest.fixture(scope="module")
def w3c(shared_dir):
    return load(shared_dir)


# -- the container ---------------------------------------------------------------------------------

def test_container_get_musts(client, h):
    created(client, h["alice"])
    r = client.get("/annotations/", headers=h["alice"])
    assert r.status_code == 200
    assert r.headers["content-type"] == MEDIA
    for method in ("GET", "HEAD", "OPTIONS", "POST"):
        assert method in r.headers["allow"]
    assert re.search(r'<http://www.w3.org/ns/ldp#BasicContainer>; *rel="type"', r.headers["link"])
    assert '<http://www.w3.org/TR/annotation-protocol/>; rel="http://www.w3.org/ns/ldp#constrainedBy"' in r.headers["link"]
    assert r.headers["etag"].startswith('"')
    assert "Accept" in r.headers["vary"] and "Prefer" in r.headers["vary"]
    assert r.headers["accept-post"] == MEDIA
    body = r.json()
    assert body["type"] == ["BasicContainer", "AnnotationCollection"]
    assert r.headers["content-location"] == body["id"] == BASE + "annotations/"
    assert body["total"] >= 1 and body["first"]["type"] == "AnnotationPage" and body["last"]


def test_container_url_ends_with_slash_and_redirects(client):
    r = client.get("/annotations", follow_redirects=False)
    assert r.status_code in (307, 308) and r.headers["location"].endswith("/annotations/")


def test_head_and_options(client, h):
    url, _, _ = created(client, h["alice"])
    for target in ("/annotations/", path(url)):
        r = client.head(target, headers=h["alice"])
        assert r.status_code == 200 and r.headers["etag"] and r.content == b""
        r = client.options(target)
        assert r.status_code == 200 and "GET" in r.headers["allow"]
    assert client.options("/annotations/").headers["accept-post"] == MEDIA


def test_post_creates_201_with_location_etag_and_body(client, h):
    r = post(client, h["alice"], annotation(canonical="urn:uuid:6f1c6d3a-2f7e-4c1a-9d38-2b1c6a0d9e11",
                                            id="http://elsewhere.example/anno/1"))
    assert r.status_code == 201
    body = r.json()
    assert body["id"] == r.headers["location"]
    assert body["id"].startswith(BASE + "annotations/")  # the server names it, inside the container
    assert body["canonical"] == "urn:uuid:6f1c6d3a-2f7e-4c1a-9d38-2b1c6a0d9e11"  # MUST preserve canonical
    assert re.fullmatch(r'"[0-9a-f]{32}"', r.headers["etag"])
    assert r.headers["content-type"] == MEDIA
    assert re.search(r'<http://www.w3.org/ns/ldp#Resource>; *rel="type"', r.headers["link"])
    assert body["creator"]["nickname"] == "alice" and body["created"] == body["modified"]
    assert body["guji:status"] == "draft"


def test_get_annotation_musts(client, h):
    url, etag, _ = created(client, h["alice"])
    r = client.get(path(url), headers={**h["alice"], "Accept": MEDIA})
    assert r.status_code == 200 and r.headers["etag"] == etag
    assert r.headers["content-type"] == MEDIA
    assert "Accept" in r.headers["vary"]
    assert all(m in r.headers["allow"] for m in ("GET", "HEAD", "OPTIONS", "PUT", "DELETE"))
    assert re.search(r'<http://www.w3.org/ns/ldp#Resource>; *rel="type"', r.headers["link"])
    assert r.json()["id"] == url
    # conditional GET
    assert client.get(path(url), headers={**h["alice"], "If-None-Match": etag}).status_code == 304


def test_get_as_turtle(client, h):
    url, _, body = created(client, h["alice"])
    r = client.get(path(url), headers={**h["alice"], "Accept": "text/turtle"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    triples = list(ox.parse(r.content, format=ox.RdfFormat.TURTLE))
    exact = [t.object.value for t in triples if t.predicate.value == "http://www.w3.org/ns/oa#exact"]
    assert exact == ["范仲淹"]


def test_unacceptable_accept_is_406(client, h):
    url, _, _ = created(client, h["alice"])
    r = client.get(path(url), headers={**h["alice"], "Accept": "image/png"})
    assert r.status_code == 406 and error_code(r) == "not_acceptable"


def test_post_needs_json_ld(client, h):
    r = client.post("/annotations/", content=b"<xml/>", headers={**h["alice"], "Content-Type": "application/xml"})
    assert r.status_code == 415 and error_code(r) == "unsupported_media_type"
    r = client.post("/annotations/", content=b"{not json", headers={**h["alice"], "Content-Type": MEDIA})
    assert r.status_code == 422 and error_code(r) == "invalid_annotation"


# -- updates and deletes: If-Match ---------------------------------------------------------------

def test_put_requires_if_match(client, h):
    url, etag, body = created(client, h["alice"])
    body["body"] = {"type": "SpecificResource", "purpose": "classifying", "source": ERA, "guji:category": ERA}
    r = client.put(path(url), json=body, headers={**h["alice"], "Content-Type": MEDIA})
    assert r.status_code == 428 and error_code(r) == "precondition_required"
    assert etag.strip('"') in r.json()["error"]["message"]
    r = client.put(path(url), json=body, headers={**h["alice"], "Content-Type": MEDIA, "If-Match": '"0000"'})
    assert r.status_code == 412 and error_code(r) == "precondition_failed"
    r = client.put(path(url), json=body, headers={**h["alice"], "Content-Type": MEDIA, "If-Match": etag})
    assert r.status_code == 200
    assert r.json()["body"]["guji:category"] == ERA
    assert r.headers["etag"] != etag
    # the old ETag no longer matches: a lost update is refused
    r2 = client.put(path(url), json=body, headers={**h["alice"], "Content-Type": MEDIA, "If-Match": etag})
    assert r2.status_code == 412


def test_put_with_same_content_is_a_no_op(client, h):
    url, etag, body = created(client, h["alice"])
    r = client.put(path(url), json=body, headers={**h["alice"], "Content-Type": MEDIA, "If-Match": etag})
    assert r.status_code == 200 and r.headers["etag"] == etag and r.json()["guji:revision"] == 1


def test_put_with_another_id_is_refused(client, h):
    url, etag, body = created(client, h["alice"])
    other, _, _ = created(client, h["alice"])
    body["id"] = other
    r = client.put(path(url), json=body, headers={**h["alice"], "Content-Type": MEDIA, "If-Match": etag})
    assert r.status_code == 422 and "is not this annotation" in r.json()["error"]["message"]


def test_delete_requires_if_match_then_gone(client, h):
    url, etag, _ = created(client, h["alice"])
    assert client.delete(path(url), headers=h["alice"]).status_code == 428
    assert client.delete(path(url), headers={**h["alice"], "If-Match": '"nope"'}).status_code == 412
    r = client.delete(path(url), headers={**h["alice"], "If-Match": etag})
    assert r.status_code == 204 and r.content == b""
    r = client.get(path(url), headers=h["alice"])
    assert r.status_code == 410 and error_code(r) == "annotation_gone"
    assert client.get("/annotations/does-not-exist").status_code == 404


# -- target validation ---------------------------------------------------------------------------

def test_quote_must_match_text_at_position(client, h):
    r = post(client, h["alice"], annotation("范仲淹", 11, 14))
    assert r.status_code == 422
    e = r.json()["error"]
    assert e["code"] == "target_mismatch"
    assert e["message"] == ("the TextQuoteSelector exact '范仲淹' does not match the text at TextPositionSelector [11, 14) "
                            f"of <{JUAN}>, which is '仲淹\\u3000'")  # invisible spaces are shown escaped


def test_position_outside_text(client, h):
    r = post(client, h["alice"], annotation("記", 400, 401))
    assert r.status_code == 422
    assert r.json()["error"]["message"] == (f"the TextPositionSelector [400, 401) lies outside the text of <{JUAN}>, "
                                            "which has 124 characters (Unicode code points)")


def test_unknown_target_source(client, h):
    r = post(client, h["alice"], annotation(source="https://w3id.org/guji/id/text/NOPE/master/001"))
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "target.source"


def test_server_fills_prefix_suffix_and_position(client, h):
    _, _, body = created(client, h["alice"], annotation("巴陵郡", None, None))
    quote, position = body["target"]["selector"]
    assert position == {"type": "TextPositionSelector", "start": 25, "end": 28}
    assert quote["prefix"] == "年春滕子京謫守" [-8:] or len(quote["prefix"]) == 8
    assert quote["prefix"] == "四年春滕子京謫守" and quote["suffix"] == "滕宗諒字子京河南"


def test_ambiguous_quote_without_position(client, h):
    r = post(client, h["alice"], annotation("子京", None, None))
    assert r.status_code == 422
    assert r.json()["error"]["message"].startswith("the quote '子京' occurs 2 times in the text of")
    assert r.json()["error"]["details"]["occurrences"] == [21, 32]
    # a prefix makes it unique
    doc = annotation("子京", None, None)
    doc["target"]["selector"][0]["prefix"] = "字"
    _, _, body = created(client, h["alice"], doc)
    assert body["target"]["selector"][1]["start"] == 32


def test_category_and_body_are_required(client, h):
    doc = annotation()
    doc["body"] = {"type": "TextualBody", "value": "just a comment"}
    r = post(client, h["alice"], doc)
    assert r.status_code == 422 and "at least one reading" in r.json()["error"]["message"]
    doc["body"] = {"type": "SpecificResource", "purpose": "identifying", "source": "https://example.org/p/1", "guji:category": "天文"}
    r = post(client, h["alice"], doc)
    assert r.status_code == 422 and "unknown category '天文'" in r.json()["error"]["message"]


def test_image_region_target(client, h):
    doc = annotation()
    canvas = "https://iiif.example.org/GJ4a0002/canvas/1"
    doc["target"] = [doc["target"], {"type": "SpecificResource", "source": canvas,
                                     "selector": {"type": "FragmentSelector", "conformsTo": "http://www.w3.org/TR/media-frags/",
                                                  "value": "xywh=120,40,60,300"}}]
    _, _, body = created(client, h["alice"], doc)
    assert body["target"][1]["source"] == canvas and body["target"][1]["selector"]["value"] == "xywh=120,40,60,300"
    doc["target"][1]["selector"]["value"] = "xywh=a,b"
    r = post(client, h["alice"], doc)
    assert r.status_code == 422 and "xywh=" in r.json()["error"]["message"]


# -- paging, Prefer, filters ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def paged(client, h):
    """A separate set: 7 of carol's annotations on another text (approved by a reviewer), page size 3."""
    ids = []
    text = client.app.state.context.annotations.text_of(OTHER_JUAN)
    for i in range(7):
        s = i * 3
        url, _, _ = created(client, h["carol"], annotation(text[s:s + 2], s, s + 2, source=OTHER_JUAN, category=PERSON))
        ids.append(url)
        client.post(path(url) + "/submit", headers=h["carol"]).raise_for_status()
        client.post(path(url) + "/review", json={"decision": "approve"}, headers={**h["rita"], "If-Match": "*"}).raise_for_status()
    return ids


def test_paging_first_last_next_prev(client, h, paged):
    text = OTHER_JUAN.replace(":", "%3A").replace("/", "%2F")
    r = client.get(f"/annotations/?target={OTHER_JUAN}&limit=3")
    c = r.json()
    assert c["total"] == 7
    assert c["first"]["id"] == f"{BASE}annotations/?limit=3&page=0&target={text}"
    assert c["last"] == f"{BASE}annotations/?limit=3&page=2&target={text}"
    seen, url, prev = [], c["first"]["id"], None
    while url:
        page = client.get(path(url)).json()
        assert page["type"] == "AnnotationPage" and page["partOf"]["id"] == c["id"] and page["partOf"]["total"] == 7
        assert page.get("prev") == prev
        assert page["startIndex"] == len(seen)
        seen += [a["id"] for a in page["items"]]
        assert all("@context" in a for a in page["items"])  # full descriptions by default
        prev, url = url, page.get("next")
    assert seen == paged  # oldest first, nothing lost or repeated
    assert client.get(f"/annotations/?target={OTHER_JUAN}&limit=3&page=3").status_code == 404


def test_prefer_minimal_container(client, h, paged):
    r = client.get(f"/annotations/?target={OTHER_JUAN}&limit=3", headers={"Prefer": PREFER_MINIMAL})
    c = r.json()
    assert "items" not in c and "ldp:contains" not in c and isinstance(c["first"], str)
    assert c["total"] == 7 and c["last"]
    assert "Prefer" in r.headers["vary"] and "prefer" not in {k.lower() for k in r.headers}
    assert r.headers["preference-applied"] == "return=representation"


def test_prefer_contained_iris(client, h, paged):
    r = client.get(f"/annotations/?target={OTHER_JUAN}&limit=3", headers={"Prefer": PREFER_IRIS})
    c = r.json()
    assert c["id"].endswith("iris=1&limit=3" + f"&target={OTHER_JUAN}".replace(":", "%3A").replace("/", "%2F")) or "iris=1" in c["id"]
    assert c["first"]["items"] == paged[:3]
    nxt = client.get(path(c["first"]["next"])).json()
    assert nxt["items"] == paged[3:6] and "iris=1" in nxt["id"]


def test_filters(client, h, paged):
    _, _, body = created(client, h["alice"], annotation("宋", 8, 9, category="年號"))  # a draft of alice's
    def ids(query, who=None):
        r = client.get("/annotations/?" + query, headers=h[who] if who else {})
        assert r.status_code == 200, r.text
        first = r.json().get("first")
        return {a["id"] for a in first["items"]} if first else set()
    assert ids(f"target={OTHER_JUAN}&creator=carol&limit=100") == set(paged)
    assert ids("creator=carol&status=draft", "root") == set()
    assert body["id"] in ids(f"category={ERA}&status=draft", "alice")
    assert body["id"] not in ids(f"category={PERSON}", "alice")
    assert ids("target=GJ4a0001&limit=100") == set(paged)  # a work id stands for all its texts
    r = client.get("/annotations/?status=bogus")
    assert r.status_code == 422 and "bad filter" in r.json()["error"]["message"]


def test_public_sees_only_approved(client, h, paged):
    url, _, _ = created(client, h["alice"])
    public = client.get("/annotations/?limit=1000").json()
    items = public["first"]["items"]
    assert {a["guji:status"] for a in items} == {"approved"} and public["total"] == len(items)
    assert client.get(path(url)).status_code == 404  # a draft does not exist for the public


# -- characters outside the BMP and in the private-use area -----------------------------------------

@pytest.fixture(scope="module")
def rare_text(client):
    """A juan whose text has a supplementary-plane character (𫝊) and a stored outside-Unicode glyph (PUA-B)."""
    store = client.app.state.context.store
    juan = "https://w3id.org/guji/id/text/GJ9z0001/master/001"
    text = "王𫝊之子\U00100038甫字伯玉𫝊𫝊也"
    g = "https://w3id.org/guji/graph/test/rare-characters"
    store.replace_graph(g, [ox.Triple(ox.NamedNode(juan), ox.NamedNode("https://w3id.org/guji/ontology#text"), ox.Literal(text))],
                        agent="test")
    return juan, text


def test_supplementary_and_private_use_characters(client, h, rare_text):
    juan, text = rare_text
    assert text.index("𫝊") == 1 and text.index("\U00100038") == 4
    _, _, body = created(client, h["alice"], annotation("𫝊之", 1, 3, source=juan))
    quote, pos = body["target"]["selector"]
    assert quote == {"type": "TextQuoteSelector", "exact": "𫝊之", "prefix": "王", "suffix": "子\U00100038甫字伯玉𫝊𫝊"}
    assert pos["start"] == 1 and pos["end"] == 3
    _, _, body = created(client, h["alice"], annotation("\U00100038甫", 4, 6, source=juan))
    assert body["target"]["selector"][0]["exact"] == "\U00100038甫"
    # a JavaScript client counting UTF-16 units is told what went wrong, and where the quote is
    r = post(client, h["alice"], annotation("\U00100038甫", 5, 8, source=juan))
    assert r.status_code == 422
    assert "look like UTF-16 code units" in r.json()["error"]["message"] and "[4, 6)" in r.json()["error"]["message"]


# -- the W3C data-model schemas on everything the server emits -------------------------------------

def test_emitted_documents_validate_against_w3c_schemas(client, h, paged, rare_text, w3c):
    docs = []
    # a plain draft, one with competing readings + note + image, one with an authority created on the spot
    docs.append(created(client, h["alice"])[2])
    rich = annotation("滕子京", 20, 23, authority="https://cbdb.fas.harvard.edu/cbdbapi/person.php?id=1027", label="滕宗諒",
                      note="滕宗諒字子京")
    rich["body"] = [{"type": "Choice", "items": [
        rich["body"][0],
        {"type": "SpecificResource", "purpose": "identifying", "source": {"label": "滕子京(未詳)"}, "guji:category": "人名"},
    ]}, rich["body"][1]]
    rich["target"] = [rich["target"], {"type": "SpecificResource", "source": "https://iiif.example.org/c/1",
                                       "selector": {"type": "FragmentSelector", "value": "xywh=1,2,3,4"}}]
    rich["guji:certainty"] = "uncertain"
    url, etag, body = created(client, h["alice"], rich)
    docs.append(body)
    assert body["body"][0]["type"] == "Choice" and body["body"][0]["items"][1]["source"]["guji:provisional"] is True
    docs.append(client.post(path(url) + "/submit", headers=h["alice"]).json())
    docs.append(client.post(path(url) + "/review", json={"decision": "reject", "reason": "第二讀法無據"}, headers={**h["rita"], "If-Match": "*"}).json())
    docs.append(created(client, h["alice"], annotation("𫝊之", 1, 3, source=rare_text[0]))[2])
    for d in docs:
        w3c.check_annotation(d)
    # containers and pages in every preference
    for prefer in (None, PREFER_MINIMAL, PREFER_IRIS):
        headers = {"Prefer": prefer} if prefer else {}
        c = client.get(f"/annotations/?target={OTHER_JUAN}&limit=3", headers=headers).json()
        w3c.check_container(c)
        page_url = c["first"] if isinstance(c["first"], str) else c["first"]["id"]
        while page_url:
            page = client.get(path(page_url), headers=headers).json()
            w3c.check_page(page)
            page_url = page.get("next")
    w3c.check_container(client.get("/annotations/", headers=h["alice"]).json())
    w3c.check_container(client.get("/api/annotations/export").json())
    assert w3c.checked >= 15
    # and the checker itself is not a rubber stamp: a broken annotation fails it
    broken = dict(docs[0])
    del broken["@context"]
    assert w3c.errors("annotation", broken)
    assert w3c.errors("annotation", {**docs[0], "bodyValue": "x"})
