"""Knowledge co-creation in a real browser against a real ``guji serve`` (issue 15, item 1):
the global admin creates an organisation and its project in the web UI; the project admin invites
an annotator, who accepts; a user asks to join as reviewer and the project admin approves; the
annotator annotates; a reviewer of another project does not even see it; the project's reviewer
approves; the public organisation page and the entity page credit the organisation."""

from __future__ import annotations

import json
import urllib.request

import pytest

from .conftest import CHROMIUM_ARGS, PageWatch, Server, _guji
from .test_pages import assert_labelled, shot, wait_for, wait_text

JUAN = "https://w3id.org/guji/id/text/GJ4a0002/master/001"  # 岳陽樓記 (sample)
OTHER = "https://w3id.org/guji/id/text/GJ4a0001/master/001"
PEOPLE = {"root": ("admin", "root-password-1"), "pam": ("annotator", "pam-password-1"), "ann": ("annotator", "ann-password-1"),
          "rev": ("annotator", "rev-password-1"), "oscar": ("annotator", "oscar-password-1")}


@pytest.fixture(scope="module")
def org_server(tmp_path_factory, chromium):
    home = tmp_path_factory.mktemp("organisations-home")
    srv = Server(home, home / "serve.log")
    srv.start("--sample")
    srv.keys = {}
    for name, (role, password) in PEOPLE.items():
        out = _guji(home, "users", "add", name, "--role", role, "--password-stdin", "--json", stdin=password + "\n")
        srv.keys[name] = json.loads(out.stdout)["api_key"]
    yield srv
    srv.stop()


def call(srv, method: str, path: str, who: str, body: dict | None = None) -> dict:
    req = urllib.request.Request(srv.url + path, method=method, data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"Bearer {srv.keys[who]}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read() or b"null")


@pytest.fixture
def page_as(browser, org_server):
    contexts, watches = [], []

    def make(user: str | None, next_url: str):
        ctx = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
        watch = PageWatch(org_server.url)

        def guard(route):
            if route.request.url.startswith(org_server.url) or route.request.url.startswith(("data:", "blob:")):
                route.continue_()
            else:
                watch.external.append(route.request.url)
                route.abort()

        ctx.route("**/*", guard)
        page = ctx.new_page()
        page.on("pageerror", lambda e: watch.errors.append(f"pageerror: {e}"))
        page.set_default_timeout(30_000)
        contexts.append(ctx)
        watches.append(watch)
        if user is None:
            page.goto(org_server.url + next_url)
            return page
        page.goto(f"{org_server.url}/login?next={next_url}")
        page.fill("#username", user)
        page.fill("#password", PEOPLE[user][1])
        with page.expect_navigation():
            page.press("#password", "Enter")
        wait_for(page, "(u) => document.getElementById('who').textContent.includes(u)", arg=user)
        return page

    yield make
    for ctx in contexts:
        ctx.close()
    for w in watches:
        w.check()


def ready(page) -> None:
    wait_for(page, "() => ['true', 'error'].includes(document.getElementById('main').dataset.ready)")
    assert page.evaluate("document.getElementById('main').dataset.ready") == "true", page.inner_text("#org-status")


def test_project_admin_invites_annotator_annotates_project_reviewer_approves_public_credit(page_as, org_server, screenshots):
    srv = org_server
    # the global admin creates the organisation and the project in the web UI
    root = page_as("root", "/organisations")
    ready(root)
    root.fill("#org-form input[name=id]", "nlc")
    root.fill("#org-form input[name=name]", "中国国家图书馆")
    root.fill("#org-form input[name=authority]", "CN-110000-NLC")
    with root.expect_navigation():
        root.click("#org-form button[type=submit]")
    assert "中国国家图书馆" in root.inner_text("#org-title")
    root.goto(srv.url + "/organisations")
    ready(root)
    assert_labelled(root)
    root.fill("#project-form input[name=id]", "yueyang")
    root.select_option("#project-form select[name=organisation]", "nlc")
    root.fill("#project-form input[name=name]", "岳陽樓記人名標引")
    root.fill("#project-form textarea[name=guideline]", "人名標全名；字號另立。")
    root.fill("#project-form textarea[name=scope]", JUAN)
    root.fill("#project-form input[name=admins]", "pam")
    with root.expect_navigation():
        root.click("#project-form button[type=submit]")
    ready(root)
    assert "人名標全名" in root.inner_text("#guideline")
    # another organisation's project, whose admin (oscar) reviews there only (set up over HTTP)
    call(srv, "POST", "/api/organisations", "root", {"id": "pku", "name": "北京大学图书馆", "authority": "http://viaf.org/viaf/139230693"})
    call(srv, "POST", "/api/projects", "root", {"id": "taohua", "organisation": "pku", "name": "桃花源記", "scope": [OTHER], "admins": ["oscar"]})

    # the project admin invites the annotator
    pam = page_as("pam", "/projects/yueyang")
    ready(pam)
    pam.fill("#invite-user", "ann")
    pam.select_option("#invite-role", "annotator")
    pam.click("#invite-form button[type=submit]")
    wait_text(pam, "#org-status", "invited")
    pam.wait_for_selector("#members tr[data-user=ann][data-state=invited]")
    assert_labelled(pam)

    # the annotator accepts; a user asks to join as reviewer
    ann = page_as("ann", "/projects/yueyang")
    ready(ann)
    ann.click("#accept")
    wait_text(ann, "#my-state", "active")
    rev = page_as("rev", "/projects/yueyang")
    ready(rev)
    rev.select_option("#join-form select[name=role]", "reviewer")
    rev.click("#join-form button[type=submit]")
    wait_text(rev, "#my-state", "requested")

    # the project admin approves the request
    pam.reload()
    ready(pam)
    pam.click("#members tr[data-user=rev] button[data-approve]")
    pam.wait_for_selector("#members tr[data-user=rev][data-state=active]")
    shot(pam, screenshots, "20-project-members")

    # the annotator annotates 范仲淹 (a record created on the spot) and submits it
    ann.goto(f"{srv.url}/annotate?iri={JUAN}")
    ann.wait_for_selector("#reader[data-ready=true]")
    text = json.loads(urllib.request.urlopen(f"{srv.url}/api/texts?iri={JUAN}", timeout=30).read())["text"]
    start = text.index("范仲淹")
    ann.fill("#sel-start", str(start))
    ann.fill("#sel-end", str(start + 3))
    ann.press("#sel-end", "Tab")
    ann.check("input[name=category][value=person]")
    create = ann.locator("#auth-results li[data-create]")
    create.wait_for()
    create.click()
    with ann.expect_response(lambda r: r.url.endswith("/annotations/") and r.request.method == "POST") as resp:
        ann.click("#save")
    made = resp.value.json()
    assert made["guji:project"].endswith("/project/yueyang")
    assert made["creator"]["prov:actedOnBehalfOf"].endswith("/agent/org/nlc")
    ann.locator("#mine li[data-status=draft] button.submit").first.click()
    wait_for(ann, "document.querySelectorAll('#mine li[data-status=submitted]').length === 1")

    # a reviewer of another project does not see it
    oscar = page_as("oscar", "/review")
    wait_text(oscar, "#review-status", "0 条")
    assert oscar.locator("#queue-list li[data-status=submitted]").count() == 0

    # the project's reviewer sees it, credited to the organisation, and approves
    rev.goto(srv.url + "/review")
    rev.wait_for_selector("#queue-list li[data-status=submitted]")
    item = rev.locator("#queue-list > li", has=rev.locator("mark", has_text="范仲淹"))
    assert "nlc" in item.inner_text()
    shot(rev, screenshots, "21-project-review")
    item.locator("button.approve").click()
    wait_text(rev, "#review-status", "approved")

    # the public organisation page credits the organisation with the approved annotation
    public = page_as(None, "/organisations/nlc")
    wait_for(public, "() => document.getElementById('credit-count').textContent.trim() === '1'", timeout=30)
    assert "范仲淹" in public.inner_text("#credited") and "ann" in public.inner_text("#credited")
    assert public.locator("#stats-section").is_hidden()  # statistics are for members
    shot(public, screenshots, "22-organisation-credit")
    entity = made["body"]["source"]["id"]
    public.goto(f"{srv.url}/entity?iri={entity}")
    assert "中国国家图书馆" in public.inner_text("ol.mentions")

    # members see the project's statistics on its page
    pam.reload()
    ready(pam)
    wait_text(pam, "#by-status", "1")
    assert pam.inner_text("#by-status td[data-status=approved]") == "1"
