"""The page images of a book beside its text, in Chromium against a real ``guji serve`` (conftest):
the IIIF viewer (OpenSeadragon from npm) shows the book's page images from the Image API with the
table of contents from the manifest, pages run right to left, and text and image follow each other
by folio."""

from __future__ import annotations

from .conftest import require
from .test_pages import BOOK, shot, wait_for

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
