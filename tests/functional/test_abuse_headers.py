"""Security headers on every response, pages without inline script (so the CSP can forbid it),
/docs served from the installed Swagger UI (never a CDN) and no open redirect after login."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from api.routes import pages
from api.web import STATIC_DIR, TEMPLATES_DIR, swagger_available
from tests.functional._annotations import JUAN

PAGES = ["/", "/search?q=%E6%A1%83%E8%8A%B1", "/works/GJ4a0002", f"/annotate?iri={quote(JUAN, safe='')}", "/annotate",
         "/review", "/login", "/sparql-console", "/sparql-console?editor=plain", "/docs"]


def assert_security_headers(r) -> None:
    csp = r.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["script-src"] == "'self'"  # no inline script, no eval, no other site
    assert directives["frame-ancestors"] == "'none'" and directives["default-src"] == "'self'"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "same-origin"


@pytest.mark.parametrize("path", PAGES)
def test_pages_carry_the_headers_and_no_inline_script(client, path):
    r = client.get(path)
    assert r.status_code == 200, r.text[:300]
    assert_security_headers(r)
    for tag in re.findall(r"<script\b[^>]*>", r.text):
        assert "src=" in tag or 'type="application/json"' in tag, tag  # data blocks are not run
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", r.text), "inline event handler"
    assert not re.search(r"""(href|src)\s*=\s*["']javascript:""", r.text)


@pytest.mark.parametrize("request_", [("GET", "/healthz", {}), ("GET", "/api/texts?iri=x", {}), ("GET", "/nowhere", {}),
                                      ("GET", "/static/js/common.js", {}), ("GET", "/openapi.json", {}),
                                      ("POST", "/api/display", {"content": b"x" * (2 * 1024 * 1024)})])
def test_every_response_carries_the_headers(client, request_):
    method, url, kw = request_
    r = client.request(method, url, **kw)
    assert_security_headers(r)


def test_templates_and_scripts_have_no_inline_handlers():
    for f in TEMPLATES_DIR.glob("*.html"):
        text = f.read_text(encoding="utf-8")
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", text), f
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag or 'type="application/json"' in tag, (f, tag)
    for f in (STATIC_DIR / "js").glob("*.js"):
        assert "eval(" not in f.read_text(encoding="utf-8"), f


def test_docs_come_from_this_site(client):
    r = client.get("/docs")
    assert r.status_code == 200 and "cdn" not in r.text.lower()
    assert not re.search(r"(src|href)=\"https?://", r.text)
    if swagger_available():
        assert '<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js">' in r.text
        assert '<script src="/static/js/docs.js">' in r.text
        js = client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js")
        assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
        assert client.get("/static/vendor/swagger-ui/package.json").status_code == 404
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/redoc").status_code == 404  # it loaded a CDN bundle too


def test_docs_without_swagger_ui_say_how_to_install_it(client, monkeypatch):
    monkeypatch.setattr(pages, "swagger_available", lambda: False)
    r = client.get("/docs")
    assert r.status_code == 200
    assert "npm ci --prefix api/web" in r.text and 'href="/openapi.json"' in r.text and "<script" not in r.text


@pytest.mark.parametrize(("given", "kept"), [
    ("/review", "/review"), ("/annotate?iri=x", "/annotate?iri=x"),
    ("/%5Cevil.example/x", "/"), ("//evil.example/x", "/"), ("/\\evil.example", "/"), ("https://evil.example/", "/"),
    ("/%09/evil.example", "/"), ("javascript:alert(1)", "/"), ("", "/"),
])
def test_login_only_returns_to_paths_on_this_site(client, given, kept):
    r = client.get("/login?next=" + (given if "%" in given else quote(given, safe="/?=")))
    assert r.status_code == 200
    assert re.search(r'data-next="([^"]*)"', r.text).group(1) == kept
