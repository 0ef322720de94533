"""The review page's "from other editions" queue in a real browser against a real ``guji serve``:
an annotation approved on 岳陽樓記's master edition is proposed on its QING edition by the running
server (no operator step); the reviewer selects it and accepts it; the copy is a public approved
annotation derived from its origin."""

from __future__ import annotations

import json
import urllib.request

from .conftest import _guji
from .test_pages import assert_labelled, login, shot, wait_text

JUAN = "https://w3id.org/guji/id/text/GJ4a0002/master/001"
QING = "https://w3id.org/guji/id/text/GJ4a0002/QING/001"
LD = 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"'


def call(server, method: str, path: str, key: str, body: dict | None = None, content_type: str = "application/json",
         headers: dict | None = None) -> dict:
    req = urllib.request.Request(server.url + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"Bearer {key}", "Content-Type": content_type,
                                          "Accept": "application/json", **(headers or {})})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"null")


def test_reviewer_accepts_a_proposal_from_another_edition(new_page, server, screenshots):
    # an annotator and a second reviewer of this test's own, added beside the running server
    edna = json.loads(_guji(server.home, "users", "add", "edna", "--role", "annotator", "--json").stdout)["api_key"]
    remy = json.loads(_guji(server.home, "users", "add", "remy", "--role", "reviewer", "--json").stdout)["api_key"]
    text = server.get(f"/api/texts?iri={JUAN}")["text"]
    start = text.index("洞庭")
    doc = {"@context": "http://www.w3.org/ns/anno.jsonld", "type": "Annotation",
           "body": {"type": "SpecificResource", "purpose": "classifying", "guji:category": "place",
                    "source": "https://w3id.org/guji/vocab/entity-category/place"},
           "target": {"type": "SpecificResource", "source": JUAN,
                      "selector": [{"type": "TextQuoteSelector", "exact": "洞庭"},
                                   {"type": "TextPositionSelector", "start": start, "end": start + 2}]}}
    origin = call(server, "POST", "/annotations/", edna, doc, content_type=LD)["id"].rsplit("/", 1)[1]
    call(server, "POST", f"/annotations/{origin}/submit", edna)
    call(server, "POST", f"/annotations/{origin}/review", remy, {"decision": "approve"}, headers={"If-Match": "*"})

    rita = new_page()
    login(rita, server, "rita", "/review")
    rita.fill("#editions-work", "GJ4a0002")
    rita.click("#editions-filter button[type=submit]")
    item = rita.locator("#editions-list > li", has=rita.locator("mark", has_text="洞庭"))
    item.wait_for()
    assert "master → QING" in item.inner_text()
    assert_labelled(rita)
    shot(rita, screenshots, "10-review-editions")
    item.locator("input.pick").check()
    rita.click("#editions-accept-selected")
    wait_text(rita, "#editions-status-line", "accepted")

    accepted = call(server, "GET", "/api/editions/proposals?work=GJ4a0002&status=accepted", remy)["items"]
    mine = [p for p in accepted if p["origin"] == origin]
    assert len(mine) == 1 and mine[0]["decided_by_name"] == "rita"
    with urllib.request.urlopen(server.url + f"/annotations/{mine[0]['copy']}", timeout=30) as r:  # public
        copy = json.loads(r.read())
    assert copy["prov:wasDerivedFrom"].endswith(origin) and copy["target"]["source"] == QING
    assert copy["target"]["selector"][0]["exact"] == "洞庭"
