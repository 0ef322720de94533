"""Benchmark: a simulated national catalogue, measured end to end on one machine.

    python -m bench.national --scale 0.01 [--chunk 1000] [--clients 8] [--seconds 20]
                             [--neo4j bolt://127.0.0.1:7687 | --neo4j ''] [--port 18102] [--keep]

``--scale 1`` is the national size of issue 17: 300,000 census records (each with its microfilm
lineage, a digital copy and a transcribed juan; ``bench.national.generate``) delivered as
submission packages of ``--chunk`` records, and 1,000,000 approved annotations over the generated
texts. ``--scale 0.01`` is 3,000 records and 10,000 annotations.

1. ingest: every package validated and ingested (``kg.package.ingest_package``, the public
   function, so a faster ingest shows here), then the approvals written through the store's one
   write path; time and peak RSS of this process;
2. projections: each brought up to date from the change log (search: embedded tantivy; the
   public SPARQL dataset; Neo4j when ``--neo4j`` answers — ITS DATA IS REPLACED); time each;
3. disk: the store, the public dataset and the search index;
4. ``guji serve`` on that home: search over HTTP with ``--clients`` clients for ``--seconds``
   (p50/p95), SPARQL point lookup / 2-hop lineage / aggregate over HTTP (p50), the Neo4j 2-hop
   lineage query (p50), ``guji sync --check`` beside the server (time), the server's RSS.

Prints a table; asserts nothing. The numbers go to docs/capacity.md with the scale that was run.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench._util import log as _log, peak_rss_mb, percentile, print_table, reset_peak_rss, rss_mb, timed  # noqa: E402
from bench.load.__main__ import wait_healthy  # noqa: E402
from bench.national.generate import packages  # noqa: E402
from bench.projections.generate import annotations, juan_texts, write_approved  # noqa: E402

RECORDS, ANNOTATIONS = 300_000, 1_000_000
PREFIXES = """PREFIX guji: <https://w3id.org/guji/ontology#>
PREFIX bf: <http://id.loc.gov/ontologies/bibframe/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
"""
ROWS: list[tuple[str, str]] = []


def log(msg: str) -> None:
    _log(msg, "national")


def row(what: str, value: str) -> None:
    ROWS.append((what, value))
    log(f"{what}: {value}")


def du_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6 if path.exists() else 0.0


def timed_ms(fn, n: int) -> list[float]:
    return [t * 1000 for t in timed(fn, n)]


def build(home: Path, shared: Path | None, records: int, notes: int, chunk: int, neo4j: str | None) -> dict:
    from api.context import Context
    from api.settings import Settings
    from kg.package import ingest_package

    settings = Settings(home=home, environment="development", neo4j_uri=neo4j or None)
    ctx = Context(settings)
    work = home.parent / "packages"
    t = time.perf_counter()
    gen = 0.0
    done = 0
    it = packages(work, records, chunk, shared)
    while True:
        g0 = time.perf_counter()
        bag = next(it, None)
        gen += time.perf_counter() - g0
        if bag is None:
            break
        result = ingest_package(ctx.store, bag, agent="bench national")
        if not result.report.valid:
            raise SystemExit(result.report.to_text()[-3000:])
        shutil.rmtree(bag)
        done += int(result.report.counts.get("books", 0) or 0) or chunk
        log(f"ingested {min(done, records):,}/{records:,} records")
    ingest = time.perf_counter() - t - gen
    row(f"validate + ingest {records:,} records ({-(-records // chunk)} packages of {chunk:,})",
        f"{ingest:.1f} s, {records / ingest:,.0f} records/s (generation {gen:.1f} s apart)")
    t = time.perf_counter()
    juans = juan_texts(ctx.store)
    write_approved(ctx.store, annotations(juans, notes, seed=7, prefix="NAT"), per_transaction=1000)
    secs = time.perf_counter() - t
    row(f"write {notes:,} approved annotations (public + private graph each)", f"{secs:.1f} s, {notes / secs:,.0f}/s")
    row("store after ingest", f"{ctx.store.count():,} quads, {len(ctx.store.graphs()):,} named graphs")
    peaks = {"ingest + approvals": peak_rss_mb()}
    for name in ctx.projector.projections:
        reset = reset_peak_rss()
        t = time.perf_counter()
        out = ctx.projector.catch_up(name)
        row(f"projection {name} from the change log", f"{time.perf_counter() - t:.1f} s  {out.get(name)!s:.160}")
        if reset:
            peaks[name] = peak_rss_mb()
    row("peak RSS of the ingest + projection process", f"{max(peaks.values()):,.0f} MB (per step: "
        + ", ".join(f"{k} {v:,.0f}" for k, v in peaks.items()) + " MB)")
    books = [r["b"].value for r in ctx.store.query(
        PREFIXES + "SELECT ?b WHERE { GRAPH ?g { ?b a guji:PhysicalBook } }")]
    census = [r["n"].value for r in ctx.store.query(
        PREFIXES + "SELECT ?n WHERE { GRAPH ?g { ?c a guji:CensusNumber ; rdf:value ?n } }")]
    ctx.close()
    for sub in ("oxigraph", "public", "search"):
        row(f"disk: {sub}", f"{du_mb(home / sub):,.0f} MB")
    return {"books": books, "census": census, "juans": [t for _, t in juans]}


def http_search(base: str, queries: list[str], clients: int, seconds: float) -> None:
    with httpx.Client(base_url=base, timeout=120) as c:  # warm-up: the first search loads the normaliser
        c.get("/api/search", params={"q": queries[0]})
    lat: list[float] = []
    errors: dict[int, int] = {}
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def client(k: int) -> None:
        rng = random.Random(k)
        with httpx.Client(base_url=base, timeout=30) as c:
            while time.monotonic() < stop:
                q = rng.choice(queries)
                t = time.perf_counter()
                r = c.get("/api/search", params={"q": q})
                ms = (time.perf_counter() - t) * 1000
                with lock:
                    if r.status_code == 200:
                        lat.append(ms)
                    else:
                        errors[r.status_code] = errors.get(r.status_code, 0) + 1

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    row(f"search over HTTP, {clients} clients, {seconds:g} s",
        f"{len(lat):,} answers ({len(lat) / seconds:,.0f}/s), p50 {percentile(lat, .5):.1f} ms, "
        f"p95 {percentile(lat, .95):.1f} ms, errors {errors or 'none'}")


def http_sparql(base: str, data: dict, n: int) -> None:
    rng = random.Random(3)
    with httpx.Client(base_url=base, timeout=60) as c:
        def ask(query: str) -> int:
            r = c.get("/sparql", params={"query": PREFIXES + query}, headers={"Accept": "application/sparql-results+json"})
            r.raise_for_status()
            return len(r.json()["results"]["bindings"])

        point = lambda: ask(f'SELECT ?b WHERE {{ ?c rdf:value "{rng.choice(data["census"])}" . ?b bf:identifiedBy ?c }}')  # noqa: E731
        hop2 = lambda: ask(f"SELECT ?a ?b WHERE {{ ?a prov:wasDerivedFrom <{rng.choice(data['books'])}> . "  # noqa: E731
                           "?b prov:wasDerivedFrom ?a }")
        agg = lambda: ask("SELECT ?cls (COUNT(?w) AS ?n) WHERE { ?w a bf:Work ; guji:classification ?cls } GROUP BY ?cls")  # noqa: E731
        found = {"point": point(), "2-hop": hop2(), "aggregate": agg()}
        row("SPARQL rows found (one run each)", ", ".join(f"{k} {v}" for k, v in found.items()))
        for name, fn, runs in (("point lookup (census number)", point, n), ("2-hop lineage (book ← film ← copy)", hop2, n),
                               ("aggregate (works per 四部 class)", agg, max(5, n // 4))):
            fn()
            ms = timed_ms(fn, runs)
            row(f"SPARQL over HTTP: {name}", f"p50 {statistics.median(ms):.1f} ms, p95 {percentile(ms, .95):.1f} ms (n={runs})")


def neo4j_lineage(uri: str, books: list[str], n: int) -> None:
    from neo4j import GraphDatabase

    rng = random.Random(5)
    with GraphDatabase.driver(uri) as d:
        q = "MATCH (b:Resource {iri: $iri})<-[:WAS_DERIVED_FROM*1..2]-(x) RETURN count(x) AS n"
        d.execute_query(q, {"iri": books[0]})
        found = []

        def one():
            recs, _, _ = d.execute_query(q, {"iri": rng.choice(books)})
            found.append(recs[0]["n"])

        ms = timed_ms(one, n)
    row("Neo4j 2-hop lineage query", f"p50 {statistics.median(ms):.1f} ms, p95 {percentile(ms, .95):.1f} ms (n={n}, "
        f"median {statistics.median(found):.0f} derived copies found)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=0.01, help="fraction of the national size (default 0.01)")
    ap.add_argument("--chunk", type=int, default=1000, help="records per submission package (default 1000)")
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--queries", type=int, default=40, help="runs per SPARQL / Neo4j query (default 40)")
    ap.add_argument("--neo4j", default=os.environ.get("GUJI_TEST_NEO4J_URI", "bolt://127.0.0.1:7687"),
                    help="bolt URI of a Neo4j whose data may be replaced ('' for none)")
    ap.add_argument("--port", type=int, default=18102)
    ap.add_argument("--shared", type=Path, default=Path(os.environ.get("GUJI_SHARED", ROOT.parent / "shared")))
    ap.add_argument("--keep", action="store_true", help="keep the GUJI_HOME")
    args = ap.parse_args(argv)
    records, notes = max(1, round(RECORDS * args.scale)), max(1, round(ANNOTATIONS * args.scale))
    tmp = Path(tempfile.mkdtemp(prefix="guji-national-"))
    home = tmp / "home"
    shared = args.shared if (args.shared / "corpus" / "kanripo").is_dir() else None
    log(f"scale {args.scale:g}: {records:,} records, {notes:,} annotations; GUJI_HOME={home}")
    server = None
    try:
        data = build(home, shared, records, notes, args.chunk, args.neo4j)
        env = {**os.environ, "GUJI_HOME": str(home), "GUJI_ENVIRONMENT": "development",
               "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        if args.neo4j:
            env["GUJI_NEO4J_URI"] = args.neo4j
        base = f"http://127.0.0.1:{args.port}"
        t = time.perf_counter()
        with (tmp / "server.log").open("w") as out:
            server = subprocess.Popen([sys.executable, "-m", "api", "serve", "--port", str(args.port)], env=env, cwd=ROOT,
                                      stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        wait_healthy(base, server, timeout=900)
        row("guji serve up (projections already current)", f"{time.perf_counter() - t:.1f} s")
        rng = random.Random(11)
        queries = []
        for text in rng.sample(data["juans"], min(500, len(data["juans"]))):
            han = "".join(ch for ch in text if "\u4e00" <= ch <= "\u9fff")  # characters, not punctuation
            at = rng.randrange(0, len(han) - 4)
            queries.append(han[at:at + rng.randint(2, 4)])
        http_search(base, queries, args.clients, args.seconds)
        http_sparql(base, data, args.queries)
        if args.neo4j:
            neo4j_lineage(args.neo4j, data["books"], args.queries)
        t = time.perf_counter()
        r = subprocess.run([sys.executable, "-m", "api", "sync", "--check"], env=env, cwd=ROOT, capture_output=True, text=True)
        row("guji sync --check beside the server", f"{time.perf_counter() - t:.1f} s (exit {r.returncode})")
        if r.returncode:
            log("sync --check said: " + " | ".join((r.stdout + r.stderr).strip().splitlines()[-12:]))
        row("guji serve RSS after the load / peak", f"{rss_mb(server.pid):,.0f} MB / {peak_rss_mb(server.pid):,.0f} MB")
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nsimulated national catalogue at scale {args.scale:g}: {records:,} records, {notes:,} approved annotations\n")
    print_table(("what", "value"), ROWS, (62, 0))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
