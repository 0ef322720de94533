"""Package v2 over HTTP (issue 15 item 3, ADR 0021): the v2 sample is submitted to the running
app, goes through the one write path (store → change log → projector → search), and then: the
newspaper's issue of a given day is found by search with a date filter, frame → issue/page works
like frame → folio, the serial page draws its issue calendar, the issue page lists its articles."""

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from tests.functional.test_submissions import zipped

ROOT = Path(__file__).resolve().parents[2]
V2 = ROOT / "samples" / "package" / "guji-sample-2026-v2"
BATCH = "guji-sample-2026-v2"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    app = create_app(Settings(home=tmp_path_factory.mktemp("serials"), environment="test", max_upload_bytes=2_000_000))
    key = app.state.context.users.add("submitter-1", "submitter")[1]
    with TestClient(app) as c:
        r = c.post("/api/submissions", content=zipped(V2),
                   headers={"content-type": "application/zip", "authorization": f"Bearer {key}"})
        assert r.status_code == 201, r.text
        assert r.json()["counts"]["issues"] == 6
        t0 = time.monotonic()  # the projector indexes the new graph in the background
        while time.monotonic() - t0 < 30 and not c.get("/api/search", params={"q": "天津"}).json()["total"]:
            time.sleep(0.1)
        yield c


def test_the_issue_of_a_given_day_is_found_by_search_with_a_date_filter(client):
    every = client.get("/api/search", params={"q": "天津", "size": 50}).json()
    assert {h["date"] for h in every["hits"] if h["material"] == "報紙"} == {"1935-03-01", "1935-03-02", "1935-03-03"}
    r = client.get("/api/search", params={"q": "天津", "date_from": "1935-03-02", "date_to": "1935-03-02", "material": "报纸"})
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 1
    (hit,) = body["hits"]
    assert (hit["title"], hit["date"], hit["material"]) == ("津門晨報", "1935-03-02", "報紙")
    assert "/issue/guji-sample-2026-v2/S2-1935-03-02/" in hit["juan_iri"]
    assert {v["value"]: v["count"] for v in body["facets"]["material"]} == {"報紙": 1}


def test_a_bad_date_filter_is_a_400_in_the_error_shape(client):
    for params in ({"date_from": "1935-02-30"}, {"date_from": "1935-03-03", "date_to": "1935-03-01"}):
        r = client.get("/api/search", params={"q": "天津", **params})
        assert r.status_code == 400, r.text
        err = r.json()["error"]
        assert err["code"] == "search_query_invalid" and err["details"]["field"] == "date_from"
    r = client.get("/api/search", params={"q": "天津", "date_to": "1935-03-02T00:00:00Z"})  # too long: refused before parsing
    assert r.status_code in (400, 422) and "error" in r.json()


def test_frame_to_issue_and_page_like_frame_to_folio(client):
    # reel R3 holds the three newspaper issues, 4 frames each: frame 6 is page 2 of the 2 March issue
    r = client.get("/api/reels/R3/frames/6")
    assert r.status_code == 200, r.text
    f = r.json()
    assert (f["issue_id"], f["date"], f["page"], f["page_exact"]) == ("S2-1935-03-02", "1935-03-02", 2, True)
    assert f["title"] == "津門晨報" and f["frames"] == {"start": 5, "end": 8} and f["book"] is None
    assert client.get("/api/reels/R3/frames/12").json()["issue_id"] == "S2-1935-03-03"
    # the colour reel of the periodical: 8 frames an issue
    assert client.get("/api/reels/R2/frames/17").json()["issue_id"] == "S1-1935-03"
    # a 民国 book's reel: frame → page
    book = client.get("/api/reels/R1/frames/3").json()
    assert (book["census_no"], book["page"], book["page_exact"], book["folio"]) == ("110000-0002-0000001", 3, True, None)
    missing = client.get("/api/reels/R3/frames/99")
    assert missing.status_code == 404 and "5-8" in missing.json()["error"]["message"]


def test_serial_api_and_page_with_its_issue_calendar(client):
    s = client.get(f"/api/serials/{BATCH}/S2").json()
    assert s["title"] == "津門晨報" and s["material_type"].endswith("/newspaper")
    assert [i["date"] for i in s["issues"]] == ["1935-03-01", "1935-03-02", "1935-03-03"]
    (march,) = s["calendar"]
    assert (march["year"], march["month"], march["count"]) == (1935, 3, 3)
    days = {c["day"]: [i["issue_id"] for i in c["issues"]] for w in march["weeks"] for c in w if c}
    assert days[2] == ["S2-1935-03-02"] and days[4] == [] and len(days) == 31
    page = client.get(f"/serials/{BATCH}/S2")
    assert page.status_code == 200
    html = page.text
    assert 'id="issue-calendar"' in html and "1935年3月" in html
    assert f'href="/issues/{BATCH}/S2-1935-03-02" data-date="1935-03-02"' in html
    assert "黑白" in html  # the reel's colour
    periodical = client.get(f"/serials/{BATCH}/S1").text
    assert "彩色" in periodical and "月刊" in periodical and periodical.count('class="has-issue"') == 3
    assert client.get(f"/serials/{BATCH}/S9").status_code == 404
    r = client.get(f"/api/serials/{BATCH}/S9")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_issue_api_and_page(client):
    i = client.get(f"/api/issues/{BATCH}/S1-1935-02").json()
    assert (i["volume"], i["number"], i["pages"]) == (1, 2, 8)
    assert [(a["title"], a["page_start"], a["page_end"]) for a in i["articles"]] == [("鄉村教育之實驗", 1, 5), ("讀書雜記", 6, 8)]
    assert i["articles"][1]["authors"] in ("示例丙；示例丁", "示例丁；示例丙")
    assert i["frames"] == [{"reel_id": "R2", "start": 9, "end": 16, "colour": "https://w3id.org/guji/vocab/film-colour/colour",
                            "page_start": 1, "page_end": 8}]
    html = client.get(f"/issues/{BATCH}/S1-1935-02").text
    assert "鄉村教育之實驗" in html and "中華民國二十四年二月十五日" in html and f'href="/serials/{BATCH}/S1"' in html
    assert "定縣之實驗" in html  # the issue's text
    # the search page links a hit to its issue page, and narrows by date
    page = client.get("/search", params={"q": "天津", "date_from": "1935-03-02", "date_to": "1935-03-02"}).text
    assert f"/issues/{BATCH}/S2-1935-03-02" in page and "1935-03-02" in page
    assert f"/issues/{BATCH}/S2-1935-03-01" not in page


def test_preservation_file_of_an_issue_is_never_public(client):
    i = client.get(f"/api/issues/{BATCH}/S2-1935-03-02").text
    assert "S2-TIF-1" not in i and "storage://" not in i
    r = client.get("/sparql", params={"query": "ASK { ?f <http://www.loc.gov/premis/rdf/v3/originalName> ?n FILTER(STRSTARTS(?n, 'storage://')) }"})
    assert r.json()["boolean"] is False
