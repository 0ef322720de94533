"""Issue 12 in a real browser against a real ``guji serve`` (see conftest.py): every edition of a
phrase interrupted by commentary, the note shown apart; a hit found through an annotated entity
says why; frame 2 of R1-S is folio 1b and the book page links both ways; book 2 draws an unbroken
chain to 原书; the 外字 renders as its glyph."""

from __future__ import annotations

from .test_pages import reader_ready, shot, wait_for

BOOK2 = "110000-0001-0000002"  # 千字文: service copy made from a preservation master the public does not see


def search(page, server, q: str, **params) -> None:
    from urllib.parse import urlencode

    page.goto(f"{server.url}/search?{urlencode({'q': q, **params})}")


def test_a_phrase_across_a_note_finds_every_edition_and_shows_the_note_apart(new_page, server, screenshots):
    page = new_page()
    search(page, server, "缤纷渔人")
    assert page.inner_text("#total") == "3"  # the package text and both Kanripo editions
    editions = page.locator(".hit .where").all_inner_texts()
    assert sum("樣例明刻本" in e for e in editions) == 1 and sum("樣例校訂本" in e for e in editions) == 1, editions
    notes = page.locator(".hit .snippet small.note")
    assert notes.count() == 2 and notes.first.inner_text().startswith("（") is False  # parentheses are drawn by CSS
    style = page.evaluate("""() => { const n = document.querySelector('.hit .snippet small.note');
        const s = getComputedStyle(n), p = getComputedStyle(n.parentElement);
        return {note: parseFloat(s.fontSize), text: parseFloat(p.fontSize), before: getComputedStyle(n, '::before').content} }""")
    assert style["note"] < style["text"] and "（" in style["before"]
    marks = page.locator(".hit .snippet mark").all_inner_texts()
    assert "繽紛" in marks and "漁人" in marks and not any("亂貌" in m for m in marks)
    shot(page, screenshots, "12-commentary")
    page.locator("#commentary").check()
    page.fill("#q", "乱貌")
    with page.expect_navigation():
        page.press("#q", "Enter")
    assert page.inner_text("#total") == "2" and page.locator(".in-commentary").count() == 2


def test_a_hit_through_an_annotated_entity_says_why(new_page, server, screenshots):
    page = new_page()
    search(page, server, "測試7")  # the name of an authority the approved annotations link; the text never writes it
    assert int(page.inner_text("#total")) >= 1
    why = page.locator(".hit .matched-entities").first.inner_text()
    assert "经标引实体匹配" in why and "測試7" in why
    assert page.locator(".facet[data-field=entity]").count() == 1
    assert page.locator(".facet[data-field=entity_category]").count() == 1
    assert "the characters as typed" not in page.locator(".hit").first.inner_text()
    shot(page, screenshots, "12-entity-search")


def test_frame_2_of_the_service_copy_is_folio_1b_both_ways(new_page, server, screenshots):
    page = new_page()
    frame = page.request.get(f"{server.url}/api/reels/R1-S/frames/2").json()
    assert frame["folio"] == "1b" and frame["folio_exact"] is True
    page.goto(f"{server.url}/books/110000-0001-0000001")
    link = page.locator("#frame-R1-S-2")
    assert link.inner_text() == "2→1b"
    link.click()
    wait_for(page, "location.hash === '#folio-1b'")
    row = page.locator("#folio-1b")
    assert "R1-S 帧2" in row.inner_text()
    back = row.locator("a.folio-frame", has_text="R1-S 帧2")
    assert back.get_attribute("href") == "#frame-R1-S-2"
    reading = row.locator("a.folio-link").get_attribute("href")
    assert reading.endswith("#f-1b")
    page.goto(server.url + reading)
    reader_ready(page)
    wait_for(page, "document.getElementById('f-1b') !== null")
    shot(page, screenshots, "12-frame-folio")


def test_book_2_draws_an_unbroken_chain_to_the_book(new_page, server, screenshots):
    page = new_page()
    page.goto(f"{server.url}/books/{BOOK2}")
    kinds = page.eval_on_selector_all("#lineage g.node", "els => els.map(e => e.classList[1])")
    assert sorted(kinds) == ["digital", "hidden", "physical"]
    assert page.locator("#lineage path.edge").count() == 2  # book → master (not public) → service copy
    assert "不公开" in page.eval_on_selector("#lineage g.node.hidden", "g => g.textContent")
    desc = page.eval_on_selector("#lineage-desc", "d => d.textContent")
    assert "原书" in desc and "数字 保存级" in desc
    shot(page, screenshots, "12-lineage-hidden")


def test_the_gaiji_renders_as_its_glyph(new_page, server, screenshots):
    page = new_page()
    page.goto(f"{server.url}/books/{BOOK2}")
    reader_ready(page)
    glyph = page.locator("#reader span.g.gi img")
    assert glyph.count() == 1
    wait_for(page, "document.querySelector('#reader span.g.gi img').naturalWidth > 0")
    span = page.locator("#reader span.g.gi")
    assert "⿰言⿱亠口" in span.get_attribute("title")
    assert page.evaluate("window.gujiReader.cps.includes('\\ue000')")  # the text and its offsets are untouched
    offset = int(span.get_attribute("data-o"))
    assert page.evaluate(f"window.gujiReader.cps[{offset}]") == "\ue000"
    search(page, server, "结为霜")
    assert page.locator(".hit .snippet .gaiji.gi img").count() >= 1
    shot(page, screenshots, "12-gaiji")
