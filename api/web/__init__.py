"""The web pages: Jinja2 templates, static files (CSS, plain ES modules) and the read model the
pages use. Served by ``guji serve`` itself: no CDN, no separate front-end server, no request
leaves the site.

The SPARQL console's editor (``@zazuko/yasgui``) comes from npm: ``npm ci --prefix api/web``
puts it under ``api/web/node_modules``; without it the console falls back to a plain editor and
says how to install the real one (docs/web.md).
"""

from __future__ import annotations

from pathlib import Path

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
YASGUI_DIR = WEB_DIR / "node_modules" / "@zazuko" / "yasgui" / "build"
YASGUI_FILES = ("yasgui.min.js", "yasgui.min.css")
NPM_INSTALL_HINT = "npm ci --prefix api/web"


def yasgui_available() -> bool:
    """True when the npm bundle of the SPARQL editor is installed beside the package."""
    return all((YASGUI_DIR / name).is_file() for name in YASGUI_FILES)
