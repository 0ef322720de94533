"""End-to-end browser tests: a real ``guji serve`` on a free port, driven by Playwright in Debian's
Chromium (``/usr/bin/chromium``; never a downloaded browser).

The server's home is a temporary GUJI_HOME: ``guji serve --sample`` loads the bundled samples
(and is stopped again), ``guji ingest`` adds two test works written at run time (one juan of
12,000 characters that gets 2,000 approved annotations, one short text with 𫝊 before the span the
annotator selects), ``guji users add`` makes an annotator and a reviewer, then ``guji serve`` runs
for the whole session.

Without Chromium or the ``playwright`` package the tests skip locally and FAIL under CI=true
(``scripts/test`` installs both). Screenshots go to ``test-artifacts/screenshots/``; the run prints
the folder and the render time of the 2,000-annotation text.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import IN_CI, ROOT, require

from . import _data

CHROMIUM = Path(os.environ.get("GUJI_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
USERS = {"anna": ("annotator", "anna-password-1"), "rita": ("reviewer", "rita-password-1")}
BENCH_ANNOTATIONS = 2000

REPORT: dict[str, object] = {}



def pytest_configure(config):
    config.addinivalue_line("markers", "browser: end-to-end test in Chromium against a real guji serve")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _guji(home: Path, *args: str, stdin: str | None = None, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "GUJI_HOME": str(home), "GUJI_ENVIRONMENT": "test"}
    proc = subprocess.run([sys.executable, "-m", "api", *args], cwd=ROOT, env=env, input=stdin, capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"guji {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


class Server:
    def __init__(self, home: Path, log: Path) -> None:
        self.home, self.log = home, log
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, *extra: str, timeout: float = 300) -> "Server":
        env = {**os.environ, "GUJI_HOME": str(self.home), "GUJI_ENVIRONMENT": "test"}
        self._out = open(self.log, "a", encoding="utf-8")
        self.proc = subprocess.Popen([sys.executable, "-m", "api", "serve", "--port", str(self.port), *extra],
                                     cwd=ROOT, env=env, stdout=self._out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"guji serve exited with {self.proc.returncode}:\n{self.log.read_text()[-4000:]}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise AssertionError(f"guji serve did not answer within {timeout:.0f} s:\n{self.log.read_text()[-4000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None
        if getattr(self, "_out", None):
            self._out.close()

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(self.url + path, timeout=30) as r:
            return json.loads(r.read())


def _add_bench_annotations(home: Path) -> dict:
    """2,000 approved annotations on the long juan, written while no server holds the store."""
    from annotation.policies import Identity
    from annotation.service import AnnotationService
    from kg.catalog import Catalog
    from kg.store import OxigraphStore

    store = OxigraphStore(home / "oxigraph")
    try:
        juan = f"https://w3id.org/guji/id/text/{_data.LONG_ID}/{_data.LONG_EDITION}/001"
        text = Catalog(store).juan_text(juan)["text"]
        AnnotationService(store).restore(Identity.system(), _data.annotations_for(juan, text, BENCH_ANNOTATIONS))
    finally:
        store.close()
    return {"juan": juan, "chars": len(text)}


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for old in SCREENSHOTS.glob("*.png"):
        old.unlink()
    REPORT["screenshots"] = str(SCREENSHOTS)
    print(f"\nbrowser test screenshots: {SCREENSHOTS}")
    return SCREENSHOTS


@pytest.fixture(scope="session")
def chromium() -> Path:
    require(CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK),
            f"Chromium not found at {CHROMIUM} (apt-get install chromium; scripts/test does it when run as root)")
    try:
        import playwright  # noqa: F401
    except ImportError:
        require(False, "the playwright package is not installed (python3 -m pip install -e '.[test]')")
    return CHROMIUM


@pytest.fixture(scope="session")
def server(tmp_path_factory, chromium) -> Server:
    home = tmp_path_factory.mktemp("guji-home")
    src = tmp_path_factory.mktemp("browser-src")
    t0 = time.monotonic()
    srv = Server(home, home / "serve.log")
    srv.start("--sample")  # the README's command: loads samples/kanripo and samples/package, then serves
    srv.stop()
    _data.write_long_work(src)
    _data.write_short_work(src)
    _guji(home, "ingest", str(src), "--format", "kanripo", "--quiet")
    REPORT["bench_text"] = _add_bench_annotations(home)
    for name, (role, password) in USERS.items():
        _guji(home, "users", "add", name, "--role", role, "--password-stdin", "--json", stdin=password + "\n")
    srv.start()
    REPORT["server_setup_s"] = round(time.monotonic() - t0, 1)
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def browser(chromium, screenshots):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


class PageWatch:
    """Collects what a page did wrong: script errors and requests that left the site."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.errors: list[str] = []
        self.external: list[str] = []

    def check(self) -> None:
        assert not self.external, f"requests left the site (no CDN, no external requests): {self.external}"
        assert not self.errors, f"errors in the page: {self.errors}"


@pytest.fixture
def new_page(browser, server):
    """A factory of pages in fresh browser contexts (own storage, so own login)."""
    contexts, watches = [], []

    def make(width: int = 1280, height: int = 900):
        ctx = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        watch = PageWatch(server.url)

        def guard(route):
            if route.request.url.startswith(server.url) or route.request.url.startswith("data:"):
                route.continue_()
            else:
                watch.external.append(route.request.url)
                route.abort()

        ctx.route("**/*", guard)
        page = ctx.new_page()
        page.on("pageerror", lambda e: watch.errors.append(f"pageerror: {e}"))
        page.on("console", lambda m: watch.errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None)
        page.set_default_timeout(30_000)
        contexts.append(ctx)
        watches.append(watch)
        page.watch = watch
        return page

    yield make
    for ctx in contexts:
        ctx.close()
    for w in watches:
        w.check()


def pytest_terminal_summary(terminalreporter):
    if not REPORT:
        return
    tr = terminalreporter
    tr.section("browser tests")
    if "screenshots" in REPORT:
        shots = sorted(Path(REPORT["screenshots"]).glob("*.png"))
        tr.write_line(f"screenshots ({len(shots)}): {REPORT['screenshots']}")
        for s in shots:
            tr.write_line(f"  {s.name}")
    if "server_setup_s" in REPORT:
        tr.write_line(f"server setup (guji serve --sample, ingest, 2,000 annotations, users): {REPORT['server_setup_s']} s")
    for key in ("render_2000", "annotate_2000"):
        if key in REPORT:
            tr.write_line(f"{key}: {json.dumps(REPORT[key], ensure_ascii=False)}")
    if IN_CI and shutil.which("chromium") is None and not CHROMIUM.exists():
        tr.write_line("Chromium missing under CI=true: the browser tests failed on purpose")
