"""The page images of a book beside its text, in Chromium against a real ``guji serve`` (conftest):
the IIIF viewer (OpenSeadragon from npm) shows the book's page images from the Image API with the
table of contents from the manifest, pages run right to left, and text and image follow each other
by folio."""

from __future__ import annotations

from urllib.parse import quote

from .conftest import require
from .test_pages import BOOK, assert_labelled, login, reader_ready, shot, wait_for, wait_text

JUAN = f"https://w3id.org/guji/id/item/census/{BOOK}/digital/service/text/001"

STATE = "(() => { const v = document.getElementById('viewer'); return [v.dataset.page, v.dataset.folio]; })()"


def open_book(new_page, server):
    from api.web import openseadragon_available

    require(openseadragon_available(), "OpenSeadragon not installed: npm ci --prefix api/web")
    page = new_page(1400, 1000)
    tiles: list[str] = []
    page.on("response", lambda r: tiles.append(r.url) if "/iiif/image/" in r.url and r.status == 200 else None)
    page.goto(f"{server.url}/books/{BOOK}")
    wait_for(page, "document.getElementById('viewer')?.dataset.ready === 'true' && document.getElementById('reader')?.dataset.ready === 'true'")
    return page, tiles


def test_the_viewer_shows_the_page_images_with_the_toc(new_page, server, screenshots):
    page, tiles = open_book(new_page, server)
    wait_for(page, "Number(document.getElementById('viewer').dataset.opened || 0) >= 1")  # OpenSeadragon opened the first page
    wait_for(page, "document.querySelectorAll('#viewer-canvas canvas, #viewer-canvas img').length > 0")
    assert page.evaluate("window.gujiViewer.pages.length") == 4
    assert page.inner_text("#viewer-page").startswith("卷一 第1a葉")
    assert "卷一（4 葉面）" in page.inner_text("#viewer-toc")
    page.wait_for_timeout(500)
    assert any(u.endswith("/info.json") for u in tiles) and any(u.endswith("default.jpg") for u in tiles), tiles
    assert all("~B1-IMG-" in u for u in tiles)  # this book's service images only
    page.locator("#reading").scroll_into_view_if_needed()
    shot(page, screenshots, "viewer-book-page")


def test_pages_run_right_to_left(new_page, server):
    page, _ = open_book(new_page, server)
    nxt, prev = page.locator("#viewer-next").bounding_box(), page.locator("#viewer-prev").bounding_box()
    assert nxt["x"] < prev["x"]  # the next folio is to the left, as in the book
    thumbs = page.locator("#viewer-strip button")
    assert thumbs.count() == 4 and thumbs.nth(0).bounding_box()["x"] > thumbs.nth(3).bounding_box()["x"]
    page.focus("#viewer-canvas")
    page.keyboard.press("ArrowLeft")
    assert page.evaluate(STATE) == ["1", "1b"]
    page.keyboard.press("ArrowRight")
    assert page.evaluate(STATE) == ["0", "1a"]


def test_text_and_image_scroll_together_by_folio(new_page, server, screenshots):
    page, _ = open_book(new_page, server)
    page.click("#viewer-next")
    page.click("#viewer-next")  # to folio 2a: the text follows
    assert page.evaluate(STATE) == ["2", "2a"]
    wait_for(page, """(() => { const r = document.getElementById('reader'), m = r.querySelector('.folio-break.current');
        if (!m || !m.dataset.page.endsWith('-2a') || r.scrollTop === 0) return false;  // scrolled, as far as the text goes
        const a = m.getBoundingClientRect(), b = r.getBoundingClientRect();
        return a.top >= b.top && a.bottom <= b.top + b.height / 2; })()""")
    page.wait_for_timeout(700)  # the text moved because the page turned: that must not turn the page again
    assert page.evaluate(STATE) == ["2", "2a"]
    page.evaluate("document.getElementById('reader').scrollTop = 0")  # back to the top of the text: the image follows
    wait_for(page, "document.getElementById('viewer').dataset.folio === '1a'")
    page.evaluate("document.getElementById('reader').scrollTop = 1e6")  # to the end of the text
    wait_for(page, "document.getElementById('viewer').dataset.folio === '2b'")
    assert page.inner_text("#viewer-page").startswith("卷一 第2b葉")
    page.uncheck("#viewer-sync")  # unsynchronised: the image stays where it is
    page.evaluate("document.getElementById('reader').scrollTop = 0")
    page.wait_for_timeout(300)
    assert page.evaluate(STATE) == ["3", "2b"]
    page.locator("#reading").scroll_into_view_if_needed()
    shot(page, screenshots, "viewer-text-and-image")


def test_an_image_region_is_drawn_linked_to_a_span_approved_and_shown_to_the_public(new_page, server, screenshots):
    import httpx

    text = server.get(f"/api/texts?iri={quote(JUAN, safe='')}")["text"]
    start = text.index("武陵")
    anna = new_page(1400, 1000)
    login(anna, server, "anna", f"/annotate?iri={quote(JUAN, safe='')}")
    reader_ready(anna)
    wait_for(anna, "document.getElementById('region-tool')?.dataset.ready === 'true'")
    anna.fill("#sel-start", str(start))
    anna.fill("#sel-end", str(start + 2))
    anna.press("#sel-end", "Tab")
    assert "武陵" in anna.inner_text("#sel-text")
    assert anna.input_value("#region-page") == "0"  # the page image of folio 1a, where the span is
    wait_for(anna, "(() => { const i = document.getElementById('region-img'); return i.complete && i.naturalWidth > 0; })()")
    box = anna.locator("#region-img").bounding_box()
    anna.mouse.move(box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.2)
    anna.mouse.down()
    anna.mouse.move(box["x"] + box["width"] * 0.65, box["y"] + box["height"] * 0.35, steps=5)
    anna.mouse.up()
    region = anna.inner_text("#region-value")
    assert region.startswith("xywh=")
    x, y, w, h = map(int, region.removeprefix("xywh=").split(","))
    assert 350 < x < 420 and w > 30 and h > 50  # canvas pixels (700 × 1200), not screen pixels
    anna.check("input[name=category][value=place]")
    create = anna.locator("#auth-results li[data-create]")
    create.wait_for()
    create.click()
    assert_labelled(anna)
    with anna.expect_request(lambda r: r.url.endswith("/annotations/") and r.method == "POST") as req:
        anna.click("#save")
    sent = req.value.post_data_json
    assert sent["target"][0]["source"] == JUAN and sent["target"][1]["selector"]["value"] == region
    canvas = sent["target"][1]["source"]
    assert canvas.endswith("/canvas/guji-sample-2026-001/B1-IMG-1")
    item = anna.locator("#mine li[data-status=draft]", has_text="武陵")
    item.wait_for()
    shot(anna, screenshots, "viewer-region-annotate")
    item.locator("button.submit").click()
    anna.locator("#mine li[data-status=submitted]", has_text="武陵").wait_for()

    manifest = f"{server.url}/iiif/books/{BOOK}/manifest"
    assert "annotations" not in httpx.get(manifest).json()["items"][0]  # submitted, not approved: not public

    rita = new_page()
    login(rita, server, "rita", "/review")
    mine = rita.locator("#queue-list > li", has=rita.locator("mark", has_text="武陵"))
    mine.wait_for()
    mine.locator("button.approve").click()
    wait_text(rita, "#review-status", "approved")

    page = httpx.get(manifest).json()["items"][0]["annotations"][0]
    assert page["type"] == "AnnotationPage" and page["items"][0]["target"] == f"{canvas}#{region}"
    assert page["items"][0]["body"][0]["value"] == "武陵（地名）"

    public = new_page(1400, 1000)
    public.goto(f"{server.url}/books/{BOOK}")
    wait_for(public, "document.getElementById('viewer')?.dataset.ready === 'true'")
    wait_for(public, "document.querySelectorAll('#viewer-canvas .region[data-annotation]').length === 1")
    assert "武陵" in public.get_attribute("#viewer-canvas .region", "title")
    public.locator("#reading").scroll_into_view_if_needed()
    public.wait_for_timeout(500)
    shot(public, screenshots, "viewer-region-public")
