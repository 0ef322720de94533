"""Benchmark: annotation latency with thousands of annotations on one text, over HTTP.

    python -m bench.annotations [--n 2000] [--juan PATH]

Loads one long juan (a real Kanripo file from ../shared when there, else a generated text) into a
fresh on-disk store, then through the HTTP API (FastAPI TestClient, real users and API keys):
creates N annotations (POST), approves half of them, and times container pages, one annotation,
filters, the exports, and re-anchoring every annotation after a correction near the start of the
text. Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench._util import load_average, summary_ms, timed  # noqa: E402

import pyoxigraph as ox  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

from accounts.identity import Identity, Role  # noqa: E402
from api.app import create_app  # noqa: E402
from api.settings import Settings  # noqa: E402
from kg.namespaces import GUJI  # noqa: E402
from kg.store import OxigraphStore  # noqa: E402

MEDIA = 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"'
JUAN = "https://w3id.org/guji/id/text/BENCH/master/001"
DEFAULT_JUAN = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "kanripo" / "KR2a0001" / "master" / "KR2a0001_100.txt"


def load_text(path: Path | None) -> tuple[str, str]:
    if path and path.is_file():
        from kg.kanripo import read_juan

        return read_juan(path).text, path.name
    rnd = random.Random(1)
    return "".join(chr(0x4E00 + rnd.randrange(3000)) for _ in range(60_000)), "generated 60,000 characters"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--juan", type=Path, default=DEFAULT_JUAN)
    args = ap.parse_args()
    text, where = load_text(args.juan)
    home = Path(tempfile.mkdtemp(prefix="guji-bench-annotations-"))
    store = OxigraphStore(home / "oxigraph")
    store.replace_graph("https://w3id.org/guji/graph/bench/text", [
        ox.Triple(ox.NamedNode(JUAN), ox.NamedNode(GUJI + "text"), ox.Literal(text))], agent="bench")
    store.close()
    app = create_app(Settings(home=home, environment="test"))
    rows: list[tuple[str, str]] = [("text", f"{where}: {len(text):,} characters")]
    with TestClient(app) as client:
        ctx = app.state.context
        keys = {name: {"Authorization": "Bearer " + ctx.users.add(name, role)[1]}
                for name, role in (("anno", "annotator"), ("rev", "reviewer"))}
        rnd = random.Random(2)
        spans = sorted(rnd.sample(range(len(text) - 4), args.n))
        creates, urls = [], []
        for s in spans:
            doc = {"@context": "http://www.w3.org/ns/anno.jsonld", "type": "Annotation",
                   "body": {"type": "SpecificResource", "purpose": "classifying", "guji:category": "人名",
                            "source": "https://w3id.org/guji/vocab/entity-category/person"},
                   "target": {"source": JUAN, "selector": [{"type": "TextQuoteSelector", "exact": text[s:s + 3]},
                                                           {"type": "TextPositionSelector", "start": s, "end": s + 3}]}}
            t = time.perf_counter()
            r = client.post("/annotations/", json=doc, headers={**keys["anno"], "Content-Type": MEDIA})
            creates.append(time.perf_counter() - t)
            assert r.status_code == 201, r.text
            urls.append(r.headers["location"].removeprefix("http://testserver"))
        rows.append((f"POST /annotations/ ({args.n} on one text)", summary_ms(creates)))
        reviews = []
        for u in urls[::2]:
            etag = client.post(u + "/submit", headers=keys["anno"]).raise_for_status().headers["etag"]
            t = time.perf_counter()
            client.post(u + "/review", json={"decision": "approve"}, headers={**keys["rev"], "If-Match": etag}).raise_for_status()
            reviews.append(time.perf_counter() - t)
        rows.append(("approve (moves the graph to public)", summary_ms(reviews)))
        rows.append(("GET one annotation", summary_ms(timed(lambda: client.get(urls[len(urls) // 2]).raise_for_status(), 50))))
        rows.append(("GET container, first page embedded (100), public",
                     summary_ms(timed(lambda: client.get(f"/annotations/?target={JUAN}").raise_for_status(), 10))))
        rows.append(("GET container, annotator (sees all own)",
                     summary_ms(timed(lambda: client.get(f"/annotations/?target={JUAN}", headers=keys["anno"]).raise_for_status(), 10))))
        last = client.get(f"/annotations/?target={JUAN}", headers=keys["anno"]).json()["last"].removeprefix("http://testserver")
        rows.append(("GET last page (100 full annotations)", summary_ms(timed(lambda: client.get(last, headers=keys["anno"]).raise_for_status(), 10))))
        rows.append(("GET container, PreferMinimalContainer",
                     summary_ms(timed(lambda: client.get("/annotations/", headers={"Prefer": 'return=representation;include="http://www.w3.org/ns/ldp#PreferMinimalContainer"'}).raise_for_status(), 10))))
        rows.append((f"export JSON-LD, all approved ({args.n // 2})",
                     summary_ms(timed(lambda: client.get(f"/api/annotations/export?scope={JUAN}").raise_for_status(), 3))))
        rows.append(("export CSV, all approved", summary_ms(timed(lambda: client.get(f"/api/annotations/export?scope={JUAN}&format=csv").raise_for_status(), 3))))
        new_text = text[:50] + "增補一字" + text[50:]
        t = time.perf_counter()
        report = ctx.annotations.reanchor(Identity("rev", Role.REVIEWER), JUAN, text, new_text)
        rows.append((f"re-anchor all after an insertion at 50 (one transaction)",
                     f"{time.perf_counter() - t:7.2f} s   ({report.checked} checked, "
                     + ", ".join(f"{k} {len(v)}" for k, v in sorted(report.outcomes.items())) + ")"))
    width = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    print(load_average())


if __name__ == "__main__":
    main()
