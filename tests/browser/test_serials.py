"""Issue 15 item 3 in a real browser against ``guji serve --sample`` (which loads the v2 sample
package too): search a word with a one-day date filter on the search page, open the newspaper's
issue of that day, go to its serial's page, find the day on the issue calendar, and go back."""

from __future__ import annotations

from .test_pages import shot

BATCH = "guji-sample-2026-v2"


def test_the_issue_of_a_day_through_search_and_the_issue_calendar(new_page, server, screenshots):
    page = new_page()
    page.goto(f"{server.url}/search?q=天津")
    assert int(page.inner_text("#total")) >= 6  # three newspaper issues, three periodical issues
    assert page.locator(".facet[data-field=material]").count() == 1
    page.fill("#date-from", "1935-03-02")
    page.fill("#date-to", "1935-03-02")
    with page.expect_navigation():
        page.press("#q", "Enter")
    assert page.inner_text("#total") == "1"
    hit = page.locator(".hit").first
    assert "津門晨報" in hit.inner_text() and "1935-03-02" in hit.inner_text() and "報紙" in hit.inner_text()
    shot(page, screenshots, "15-serial-search-by-day")
    with page.expect_navigation():
        hit.locator("h3 a").click()
    assert page.url.split("?")[0].endswith(f"/issues/{BATCH}/S2-1935-03-02")
    assert page.inner_text("#issue-date") == "1935-03-02"
    assert "社論：春耕與農貸" in page.inner_text("#articles")
    assert "R3" in page.inner_text("#issue-frames") and "5–8" in page.inner_text("#issue-frames")
    with page.expect_navigation():
        page.click("#serial-link")
    calendar = page.locator("#issue-calendar")
    assert "1935年3月" in calendar.inner_text()
    days = calendar.locator("td.has-issue a")
    assert days.count() == 3
    day = calendar.locator('a[data-date="1935-03-03"]')
    assert day.inner_text() == "3"
    shot(page, screenshots, "15-issue-calendar")
    with page.expect_navigation():
        day.click()
    assert page.inner_text("#issue-date") == "1935-03-03" and "電車新線通車" in page.inner_text("#articles")
    frame = page.request.get(f"{server.url}/api/reels/R3/frames/10").json()
    assert (frame["issue_id"], frame["page"]) == ("S2-1935-03-03", 2)
