"""The web pages in a real browser against a real ``guji serve`` (see conftest.py)."""

from __future__ import annotations

import json
import re
import statistics
import time
from urllib.parse import quote

from . import _data
from .conftest import ARTIFACTS, BENCH_ANNOTATIONS, IN_CI, REPORT, USERS, require

BOOK = "110000-0001-0000001"  # 桃花源記, sample package: physical book, three film generations, a digital copy
SHORT_JUAN = f"https://w3id.org/guji/id/text/{_data.SHORT_ID}/{_data.LONG_EDITION}/001"
LONG_JUAN = f"https://w3id.org/guji/id/text/{_data.LONG_ID}/{_data.LONG_EDITION}/001"
TAOQIAN = "https://w3id.org/guji/id/agent/person/%E9%99%B6%E6%BD%9B"


def shot(page, screenshots, name: str) -> None:
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)


def wait_for(page, expression: str, arg=None, timeout: float = 30.0) -> None:
    """Poll ``expression`` until it is truthy. Not ``page.wait_for_function``: that builds the predicate
    with ``new Function`` inside the page, which the pages' Content-Security-Policy (no unsafe-eval)
    refuses; ``page.evaluate`` goes through the DevTools protocol, which CSP does not govern."""
    deadline = time.monotonic() + timeout
    while True:
        if page.evaluate(expression, arg) if arg is not None else page.evaluate(expression):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"never true within {timeout:g} s: {expression}")
        page.wait_for_timeout(50)


def login(page, server, user: str, next_url: str) -> None:
    page.goto(f"{server.url}/login?next={quote(next_url, safe='')}")
    assert_labelled(page)
    page.fill("#username", user)
    page.fill("#password", USERS[user][1])
    with page.expect_navigation():
        page.press("#password", "Enter")
    wait_for(page, "(u) => document.getElementById('who').textContent.includes(u)", arg=user)


def wait_text(page, selector: str, text: str) -> None:
    """Wait until the element's text contains ``text``; on timeout say what it showed."""
    try:
        wait_for(page, "([s, t]) => (document.querySelector(s)?.textContent || '').includes(t)", arg=[selector, text])
    except Exception as exc:
        raise AssertionError(f"{selector} never showed {text!r}; it shows {page.inner_text(selector)!r}") from exc


UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
    .filter((el) => el.offsetParent !== null || el.type === 'radio')
    .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby')
                    && !(el.tagName === 'BUTTON' && el.textContent.trim()))
    .filter((el) => !el.closest('.yasgui'))  // Yasgui's own controls
    .map((el) => el.outerHTML.slice(0, 120))"""


def assert_labelled(page) -> None:
    """Every visible form control has a label (or an accessible name) — keyboard and screen-reader use."""
    missing = page.evaluate(UNLABELLED)
    assert not missing, f"controls without a label on {page.url}: {missing}"


def reader_ready(page) -> None:
    page.wait_for_selector("#reader[data-ready=true]")


# -- 1. search → book → copies ----------------------------------------------------------------------

def test_search_open_book_see_copies(new_page, server, screenshots):
    page = new_page()
    page.goto(server.url + "/")
    page.fill("#q", "为业")  # simplified: finds 爲業 / 為業 in the traditional texts
    with page.expect_navigation():
        page.press("#q", "Enter")
    assert page.inner_text("#total") == "3"
    marks = page.locator(".hit .snippet mark").all_inner_texts()
    assert "爲業" in marks and "為業" in marks, marks
    assert "爲" in page.inner_text(".hit .matched-by >> nth=0")
    assert page.locator(".facet[data-field=copy] input").count() == 3
    assert_labelled(page)
    page.keyboard.press("Escape")
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("/")  # the search box is one key away
    assert page.evaluate("document.activeElement.id") == "q"
    shot(page, screenshots, "01-search")

    with page.expect_navigation():  # a facet applies at once
        page.locator(".facet[data-field=copy] label", has_text="microfilm").locator("input").check()
    # the book's text and the two Kanripo editions of the same work (one bf:Work, issue 12): the work has film
    assert page.inner_text("#total") == "3"
    assert "copy=microfilm" in page.url

    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("书目与副本")).click()
    assert page.url.endswith(f"/books/{BOOK}")
    assert page.inner_text("#book-title").startswith("桃花源記")
    kinds = page.eval_on_selector_all("#lineage g.node", "els => els.map(e => e.classList[1])")
    assert sorted(kinds) == ["digital", "film", "film", "film", "physical"]
    assert page.locator("#lineage path.edge").count() == 4  # filmed, duplicated twice, scanned from film
    rows = page.locator("table.film tbody tr")
    assert rows.count() == 3
    film = page.inner_text("table.film")
    for reel in ("R1-M", "R1-P", "R1-S"):
        assert reel in film
    for generation in ("母片", "拷贝母片", "服务片"):
        assert generation in film
    assert "1–2" in film and "3–4" in film
    assert "数字化" in page.inner_text("ul.digital")

    reader_ready(page)
    assert page.eval_on_selector_all("#reader .pb", "els => els.map(e => e.textContent)") == ["1a", "1b", "2a", "2b"]  # the sample text runs to folio 2b (issue 16: four page images)
    assert_labelled(page)
    shot(page, screenshots, "02-book")

    # simplified display: the characters shown change, the text and its offsets do not
    original = page.evaluate("window.gujiReader.cps.join('')")
    assert "爲業" in original
    page.locator("#script-toggle label", has_text="简").click()
    wait_for(page, "document.getElementById('reader').textContent.includes('为业')")
    assert page.evaluate("window.gujiReader.cps.join('')") == original
    i = original.index("爲業")
    assert page.inner_text(f"#reader span[data-o='{i}']") == "为"
    page.locator("#script-toggle label", has_text="原文").click()
    wait_for(page, "document.getElementById('reader').textContent.includes('爲業')")


# -- 2. annotate → submit → review → public ----------------------------------------------------------

def _select_by_mouse(page, start: int, end: int) -> None:
    a = page.locator(f"#reader span[data-o='{start}']").bounding_box()
    b = page.locator(f"#reader span[data-o='{end - 1}']").bounding_box()
    page.mouse.move(a["x"] + 1, a["y"] + a["height"] / 2)
    page.mouse.down()
    page.mouse.move(b["x"] + b["width"] / 2, b["y"] + b["height"] / 2, steps=4)
    page.mouse.move(b["x"] + b["width"] - 1, b["y"] + b["height"] / 2, steps=2)
    page.mouse.up()


def test_annotate_submit_review_then_public(new_page, server, screenshots):
    text = server.get(f"/api/texts?iri={quote(SHORT_JUAN, safe='')}")["text"]
    start = text.index("陶潛")  # Python indices are code points: 𫝊 counts once
    assert start == len("列𫝊第一晉太元中武陵人")
    assert len("列𫝊第一晉太元中武陵人".encode("utf-16-le")) // 2 == start + 1  # UTF-16 would be one more
    title_start = text.index("桃花源記")

    anna = new_page()
    login(anna, server, "anna", f"/annotate?iri={quote(SHORT_JUAN, safe='')}")
    reader_ready(anna)
    wait_for(anna, "!document.getElementById('sugg-mode').textContent.includes('计算中')")
    assert anna.locator("#suggestions li").count() >= 1, anna.inner_text("#sugg-mode")

    # keyboard: caret to after 列, Shift+→ selects exactly 𫝊 (one code point)
    anna.focus("#reader")
    anna.keyboard.press("ArrowRight")
    anna.keyboard.press("Shift+ArrowRight")
    assert (anna.input_value("#sel-start"), anna.input_value("#sel-end")) == ("1", "2")
    assert "𫝊" in anna.inner_text("#sel-text")

    # a DOM range from inside the double-column commentary to past it (what a drag there makes)
    a, b = text.index("文甲"), text.index("其後") + 2
    anna.evaluate("""([a, b]) => {
        const r = document.createRange();
        r.setStart(document.querySelector(`#reader span[data-o="${a}"]`).firstChild, 0);
        r.setEnd(document.querySelector(`#reader span[data-o="${b - 1}"]`).firstChild, 1);
        const sel = getSelection(); sel.removeAllRanges(); sel.addRange(r);
        document.getElementById('reader').dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
    }""", [a, b])
    assert (anna.input_value("#sel-start"), anna.input_value("#sel-end")) == (str(a), str(b))
    assert anna.locator("#reader .note .col").count() == 2  # 注文甲 / 注文乙 as two columns

    # mouse: drag over 陶潛 → code-point offsets
    _select_by_mouse(anna, start, start + 2)
    assert (anna.input_value("#sel-start"), anna.input_value("#sel-end")) == (str(start), str(start + 2))
    assert "陶潛" in anna.inner_text("#sel-text")
    anna.check("input[name=category][value=person]")
    person = anna.locator(f"#auth-results li[data-iri='{TAOQIAN}']")
    person.wait_for()
    person.click()
    assert "陶潛" in anna.inner_text("#auth-chosen")
    with anna.expect_request(lambda r: r.url.endswith("/annotations/") and r.method == "POST") as req:
        anna.click("#save")
    sent = req.value.post_data_json
    selectors = {s["type"]: s for s in sent["target"]["selector"]}
    assert selectors["TextPositionSelector"] == {"type": "TextPositionSelector", "start": start, "end": start + 2}
    assert selectors["TextQuoteSelector"]["exact"] == "陶潛"
    assert sent["target"]["source"] == SHORT_JUAN
    assert sent["body"]["source"]["id"] == TAOQIAN and sent["body"]["guji:category"] == "person"
    anna.wait_for_selector("#mine li[data-status=draft]")

    # a second one with a record created on the spot, typed into the span fields
    anna.fill("#sel-start", str(title_start))
    anna.fill("#sel-end", str(title_start + 4))
    anna.press("#sel-end", "Tab")
    assert "桃花源記" in anna.inner_text("#sel-text")
    anna.check("input[name=category][value=book-title]")
    create = anna.locator("#auth-results li[data-create]")
    create.wait_for()
    create.click()
    anna.click("#save")
    wait_for(anna, "document.querySelectorAll('#mine li[data-status=draft]').length === 2")
    for remaining in (1, 0):
        anna.locator("#mine li[data-status=draft] button.submit").first.click()
        wait_for(anna, "(n) => document.querySelectorAll('#mine li[data-status=draft]').length === n", arg=remaining)
    wait_for(anna, "document.querySelectorAll('#mine li[data-status=submitted]').length === 2")
    assert_labelled(anna)
    shot(anna, screenshots, "03-annotate")

    rita = new_page()
    login(rita, server, "rita", "/review")
    rita.wait_for_selector("#queue-list li[data-status=submitted]")
    assert rita.locator("#queue-list li[data-status=submitted]").count() == 2
    item = rita.locator("#queue-list > li", has=rita.locator("mark", has_text="陶潛"))
    item.locator("button.history-btn").click()
    item.locator(".history li").nth(1).wait_for()
    history = item.locator(".history").inner_text()
    assert "create" in history and "submit" in history and "anna" in history
    assert_labelled(rita)
    shot(rita, screenshots, "04-review")
    item.locator("button.approve").click()
    wait_text(rita, "#review-status", "approved")
    other = rita.locator("#queue-list > li", has=rita.locator("mark", has_text="桃花源記"))
    other.locator("button.reject").click()  # no reason: refused in the page, the item stays
    assert "理由" in rita.inner_text("#review-status")
    assert rita.locator("#queue-list li[data-status=submitted]").count() == 1
    other.locator("textarea.reason").fill("请标全称并链接已有书目")
    other.locator("button.reject").click()
    wait_text(rita, "#review-status", "rejected")
    rita.click("#tab-rejected")
    rita.wait_for_selector("#queue-list li[data-status=rejected]")
    assert "请标全称并链接已有书目" in rita.inner_text("#queue-list")

    # the annotator sees both outcomes and the reason
    anna.reload()
    reader_ready(anna)
    anna.wait_for_selector("#mine li[data-status=approved]")
    rejected = anna.locator("#mine li[data-status=rejected]")
    assert "请标全称并链接已有书目" in rejected.inner_text()
    rejected.locator("button.history-btn").click()
    rejected.locator(".history li").nth(2).wait_for()
    assert "reject" in rejected.locator(".history").inner_text()

    # she corrects it (PUT with If-Match): 桃花源記 → 桃花源, back to her drafts, and submits it again
    rejected.locator("button.edit").click()
    assert anna.input_value("#sel-start") == str(title_start)
    anna.fill("#sel-end", str(title_start + 3))
    anna.press("#sel-end", "Tab")
    with anna.expect_request(lambda r: r.method == "PUT") as put:
        anna.click("#save")
    assert put.value.headers.get("if-match")
    assert {s["type"]: s for s in put.value.post_data_json["target"]["selector"]}["TextQuoteSelector"]["exact"] == "桃花源"
    anna.wait_for_selector("#mine li[data-status=draft]")
    anna.locator("#mine li[data-status=draft] button.submit").click()
    wait_for(anna, "document.querySelectorAll('#mine li[data-status=submitted]').length === 1")

    # the public sees the approved one (and only that one), with its entity pop-up
    public = new_page()
    public.goto(f"{server.url}/works/{_data.SHORT_ID}")
    reader_ready(public)
    assert "a k-person" in public.get_attribute(f"#reader span[data-o='{start}']", "class")
    assert "a" not in (public.get_attribute(f"#reader span[data-o='{title_start}']", "class") or "").split()
    public.click(f"#reader span[data-o='{start}']")
    popup = public.locator("#popup")
    popup.wait_for(state="visible")
    assert "陶潛" in popup.inner_text() and "人名" in popup.inner_text()
    shot(public, screenshots, "05-book-annotated")
    with public.expect_navigation():
        popup.get_by_role("link", name=re.compile("实体页")).click()
    assert public.inner_text("#entity-title").startswith("陶潛")
    assert public.inner_text("#mention-count") == "1"
    assert "陶潛" in public.inner_text("ol.mentions")
    assert "桃花源記" in public.inner_text("ul.works")
    public.wait_for_selector("#graph[data-nodes]")
    assert int(public.get_attribute("#graph", "data-nodes")) >= 2
    shot(public, screenshots, "06-entity")


# -- 3. the SPARQL console --------------------------------------------------------------------------------

def test_sparql_console_runs_examples(new_page, server, screenshots):
    page = new_page()
    page.goto(server.url + "/sparql-console")
    editor = page.get_attribute("#console", "data-editor")
    if editor != "yasgui":
        require(False, "the Yasgui bundle is not installed (npm ci --prefix api/web; scripts/test does it)")
    page.wait_for_selector("#console .yasqe")
    page.click("button[data-example=works-per-dynasty]")
    page.wait_for_selector("#console[data-state=done]")
    table = page.locator("#console .yasr table.dataTable, #console .yasr table").first
    table.wait_for()
    body = table.inner_text()
    assert "dynasty" in body and "works" in body
    for dynasty in ("jin", "song", "nanliang"):
        assert dynasty in body
    shot(page, screenshots, "07-sparql")
    page.click("button[data-example=reels-due]")
    wait_for(page, "document.querySelector('#console .yasr').textContent.includes('R1-P')")
    assert "R1-P" in page.locator("#console .yasr").inner_text()  # never inspected: always due


def test_sparql_console_plain_editor(new_page, server):
    """The plain editor (what the page falls back to without the npm bundle) runs an example too."""
    page = new_page()
    page.goto(server.url + "/sparql-console?editor=plain")
    assert page.get_attribute("#console", "data-editor") == "plain"
    assert_labelled(page)
    page.click("button[data-example=works-per-dynasty]")
    page.wait_for_selector("#plain-results table")
    cells = page.locator("#plain-results td").all_inner_texts()
    assert "jin" in cells and "song" in cells
    page.focus("#plain-query")
    page.keyboard.press("Control+End")
    page.keyboard.type(" LIMIT 1")
    page.keyboard.press("Control+Enter")
    wait_for(page, "document.querySelectorAll('#plain-results tbody tr').length === 1")


# -- 4. a text with 2,000 annotations ---------------------------------------------------------------------

def test_render_text_with_2000_annotations(new_page, server, screenshots):
    text = server.get(f"/api/texts?iri={quote(LONG_JUAN, safe='')}")["text"]
    supplementary = text.index(_data.SUPPLEMENTARY)
    page = new_page()
    runs = []
    for _ in range(3):
        page.goto(f"{server.url}/works/{_data.LONG_ID}")
        reader_ready(page)
        runs.append(page.evaluate("window.gujiRender"))
    stats = runs[-1]
    assert stats["annotations"] == BENCH_ANNOTATIONS and stats["chars"] == len(text)
    assert page.locator("#reader span[data-o]").count() == len(text)
    assert page.locator("#reader span.a").count() > BENCH_ANNOTATIONS
    # code points line up with the server's offsets even after supplementary-plane characters
    assert page.inner_text(f"#reader span[data-o='{supplementary}']") == _data.SUPPLEMENTARY
    last = len(text) - 1
    assert page.inner_text(f"#reader span[data-o='{last}']") == text[-1]

    # keyboard: N moves to the first annotation, Enter opens it, Esc closes
    page.focus("#reader")
    page.keyboard.press("n")
    assert page.inner_text("#reader-status").startswith(f"1/{BENCH_ANNOTATIONS}")
    page.keyboard.press("Enter")
    page.locator("#popup").wait_for(state="visible")
    page.keyboard.press("Escape")
    page.locator("#popup").wait_for(state="hidden")
    # hiding and showing the annotations stays a class switch
    toggle_ms = page.evaluate("""() => { const t0 = performance.now(); const r = document.getElementById('reader');
        r.classList.add('hide-ann'); r.getBoundingClientRect(); r.classList.remove('hide-ann'); r.getBoundingClientRect();
        return performance.now() - t0; }""")
    shot(page, screenshots, "08-reader-2000-annotations")

    annot = new_page()
    annot.goto(f"{server.url}/annotate?iri={quote(LONG_JUAN, safe='')}")
    reader_ready(annot)
    a_stats = annot.evaluate("window.gujiRender")
    assert a_stats["annotations"] == BENCH_ANNOTATIONS
    wait_for(annot, "!document.getElementById('sugg-mode').textContent.includes('计算中')")
    shot(annot, screenshots, "09-annotate-2000-annotations")

    render = [r["renderMs"] for r in runs]
    REPORT["render_2000"] = {
        "chars": stats["chars"], "annotations": stats["annotations"],
        "render_ms_runs": [round(x, 1) for x in render], "render_ms_median": round(statistics.median(render), 1),
        "build_html_ms_median": round(statistics.median(r["buildMs"] for r in runs), 1),
        "fetch_text_and_spans_ms_median": round(statistics.median(r["fetchMs"] for r in runs), 1),
        "page_ready_ms_median": round(statistics.median(r["readyMs"] for r in runs), 1),
        "hide_show_annotations_ms": round(toggle_ms, 1),
    }
    REPORT["annotate_2000"] = {"render_ms": round(a_stats["renderMs"], 1)}
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "render-2000.json").write_text(json.dumps({**REPORT["render_2000"], "annotator": REPORT["annotate_2000"],
                                                            "ci": IN_CI}, indent=2), encoding="utf-8")
    print(f"\nrender of {stats['chars']} characters with {BENCH_ANNOTATIONS} annotations: {REPORT['render_2000']}")
