"""The web pages: Jinja2 templates, static files (CSS, plain ES modules) and the read model the
pages use. Served by ``guji serve`` itself: no CDN, no separate front-end server, no request
leaves the site.

The SPARQL console's editor (``@zazuko/yasgui``) comes from npm: ``npm ci --prefix api/web``
puts it under ``api/web/node_modules``; without it the console falls back to a plain editor and
says how to install the real one (docs/web.md). The API docs at ``/docs`` use Swagger UI from the
same install (``swagger-ui-dist``); without it ``/docs`` says how to install it and links the
OpenAPI document. The page-image viewer on book pages is OpenSeadragon (npm ``openseadragon``)
reading the IIIF Image API; without it the book page shows the page images as plain thumbnails.
"""

from __future__ import annotations

from pathlib import Path

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
YASGUI_DIR = WEB_DIR / "node_modules" / "@zazuko" / "yasgui" / "build"
YASGUI_FILES = ("yasgui.min.js", "yasgui.min.css")
SWAGGER_DIR = WEB_DIR / "node_modules" / "swagger-ui-dist"
SWAGGER_FILES = ("swagger-ui-bundle.js", "swagger-ui.css")
OSD_DIR = WEB_DIR / "node_modules" / "openseadragon" / "build" / "openseadragon"
OSD_FILES = ("openseadragon.min.js",)
NPM_INSTALL_HINT = "npm ci --prefix api/web"


def yasgui_available() -> bool:
    """True when the npm bundle of the SPARQL editor is installed beside the package."""
    return all((YASGUI_DIR / name).is_file() for name in YASGUI_FILES)


def openseadragon_available() -> bool:
    """True when the page-image viewer (npm ``openseadragon``, IIIF deep zoom) is installed."""
    return all((OSD_DIR / name).is_file() for name in OSD_FILES)


def swagger_available() -> bool:
    """True when Swagger UI (npm ``swagger-ui-dist``, for /docs) is installed beside the package."""
    return all((SWAGGER_DIR / name).is_file() for name in SWAGGER_FILES)
