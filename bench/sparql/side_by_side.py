"""Benchmark: our public ``/sparql`` against ``oxigraph serve-read-only --union-default-graph`` on
the same public dataset, the same queries, round-robin, at 0, 5,000 and 100,000 approved
annotations (annotation-shaped graphs: one named graph each, the triples ``annotation/rdf.py``
writes for an approved annotation with one identifying reading).

    python -m bench.sparql.side_by_side [--kanripo ../shared/corpus/kanripo] [--levels 0,5000,100000]
                                         [--reps 30] [--home DIR]

Both servers run as real processes on 127.0.0.1: ``guji serve`` (our endpoint: FastAPI, query
workers, limits) and the Oxigraph server from the PyPI package ``oxigraph`` over the very same
on-disk public dataset our projector maintains. Prints a table per level with p50/p95 per query
and the ratio of the p50s; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pyoxigraph as ox

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from kg.namespaces import BF, DCTERMS, GG, GUJI, ID, OA, RDF, RDFS, XSD, sparql_prefixes  # noqa: E402

DEFAULT_KANRIPO = ROOT.parent / "shared" / "corpus" / "kanripo"
N = ox.NamedNode


def queries(item: str, juan: str) -> dict[str, str]:
    return {
        "ASK": "ASK { ?s ?p ?o }",
        "point lookup": f"SELECT ?p ?o WHERE {{ <{juan}> ?p ?o }}",
        "2-hop join": f"""SELECT ?f WHERE {{ ?j dcterms:isPartOf <{item}> . ?f dcterms:isPartOf ?j ; a guji:FolioSide }} LIMIT 1000""",
        "property path": f"""SELECT ?w ?t WHERE {{ <{item}> bf:itemOf/bf:instanceOf ?w . OPTIONAL {{ ?w dcterms:title ?t }} }}""",
        "GROUP BY all triples": "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p",
        "GROUP BY folio sides": "SELECT ?j (COUNT(?f) AS ?n) WHERE { ?f a guji:FolioSide ; dcterms:isPartOf ?j } GROUP BY ?j",
        "annotations per category": f"""SELECT ?c (COUNT(?a) AS ?n) WHERE {{ ?a a oa:Annotation ; oa:hasBody ?b . ?b guji:category ?c }} GROUP BY ?c""",
    }


def oxigraph_binary() -> str:
    """The Oxigraph server: on PATH, or the one `scripts/services fetch oxigraph` installs."""
    found = shutil.which("oxigraph") or next(iter(sorted((ROOT / ".services").glob("oxigraph-*/bin/oxigraph"), reverse=True)), None)
    if not found:
        raise SystemExit("no oxigraph binary: run `scripts/services fetch oxigraph` (or pip install oxigraph)")
    return str(found)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer in {timeout} s")


def annotation_triples(i: int, juan: str, text: str) -> tuple[str, list[ox.Triple]]:
    aid = f"bench{i:07d}"
    a = f"{ID}annotation/{aid}"
    A = N(a)
    start = (i * 7) % max(1, len(text) - 4)
    exact = text[start:start + 2] or "之"
    t = lambda s, p, o: out.append(ox.Triple(s, N(p), o))  # noqa: E731
    out: list[ox.Triple] = []
    lit = ox.Literal
    dt = N(XSD + "dateTime")
    integer = N(XSD + "integer")
    creator = N(f"{ID}agent/account/bench{i % 50}")
    t(A, RDF + "type", N(OA + "Annotation"))
    t(A, OA + "motivatedBy", N(OA + "identifying"))
    t(A, DCTERMS + "creator", creator)
    t(A, DCTERMS + "created", lit("2026-11-01T00:00:00Z", datatype=dt))
    t(A, DCTERMS + "modified", lit("2026-11-02T00:00:00Z", datatype=dt))
    t(A, GUJI + "reviewStatus", lit("approved"))
    t(A, GUJI + "certainty", lit("certain"))
    t(A, GUJI + "revision", lit("2", datatype=integer))
    t(A, GUJI + "anchorState", lit("anchored"))
    T, Q, P = N(a + "/target"), N(a + "/target/quote"), N(a + "/target/position")
    t(A, OA + "hasTarget", T)
    t(T, RDF + "type", N(OA + "SpecificResource"))
    t(T, OA + "hasSource", N(juan))
    t(T, OA + "hasSelector", Q)
    t(T, OA + "hasSelector", P)
    t(Q, RDF + "type", N(OA + "TextQuoteSelector"))
    t(Q, OA + "exact", lit(exact))
    t(P, RDF + "type", N(OA + "TextPositionSelector"))
    t(P, OA + "start", lit(str(start), datatype=integer))
    t(P, OA + "end", lit(str(start + len(exact)), datatype=integer))
    B = N(a + "/reading/1")
    cat = ["person", "place", "office", "era"][i % 4]
    t(A, OA + "hasBody", B)
    t(B, RDF + "type", N(OA + "SpecificResource"))
    t(B, OA + "hasSource", N(f"{ID}authority/{cat}/bench{i % 2000}"))
    t(B, OA + "hasPurpose", N(OA + "identifying"))
    t(B, GUJI + "category", N(f"https://w3id.org/guji/vocab/entity-category/{cat}"))
    t(B, GUJI + "readingRank", lit("1", datatype=integer))
    t(B, RDFS + "label", lit(f"{exact}{i % 2000}"))
    R = N(a + "/review")
    t(A, GUJI + "review", R)
    t(R, GUJI + "reviewer", N(f"{ID}agent/account/reviewer"))
    t(R, GUJI + "decision", lit("approve"))
    return f"{GG}annotation/{aid}", out


def p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))] * 1000


def measure(reps: int, targets: dict[str, str], qs: dict[str, str], *, distinct: bool = False) -> dict[str, dict[str, list[float]]]:
    """Round-robin: every rep runs each query once against each target, alternating the order.
    ``distinct``: every round's text differs (a comment naming the round), so no answer cache can
    serve it (ours keeps answers until the data changes; the engine keeps none)."""
    times: dict[str, dict[str, list[float]]] = {t: {q: [] for q in qs} for t in targets}
    clients = {t: httpx.Client(timeout=120) for t in targets}
    prefixes = sparql_prefixes()
    names = list(targets)
    try:
        for rep in range(reps + 2):
            for qname, q in qs.items():
                order = names if rep % 2 == 0 else names[::-1]
                for t in order:
                    t0 = time.perf_counter()
                    text = prefixes + q + (f"\n# round {rep}" if distinct else "")
                    r = clients[t].post(targets[t], data={"query": text},
                                        headers={"accept": "application/sparql-results+json"})
                    dt = time.perf_counter() - t0
                    if r.status_code != 200:
                        raise SystemExit(f"{t} {qname}: HTTP {r.status_code} {r.text[:300]}")
                    if rep >= 2:  # two warm-up rounds
                        times[t][qname].append(dt)
    finally:
        for c in clients.values():
            c.close()
    return times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kanripo", type=Path, default=DEFAULT_KANRIPO)
    ap.add_argument("--levels", default="0,5000,100000")
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--home", type=Path, default=None)
    ap.add_argument("--search", action="store_true", help="also catch the search index up at each level (slow at 100k)")
    args = ap.parse_args()
    levels = [int(x) for x in args.levels.split(",")]

    from api.context import Context
    from api.settings import Settings
    from kg.ingest_kanripo import find_works, graph_iri, read_work

    home = args.home or Path(tempfile.mkdtemp(prefix="guji-bench-sparql-"))
    env = {**os.environ, "GUJI_HOME": str(home), "GUJI_ENVIRONMENT": "test", "PYTHONPATH": str(ROOT),
           "GUJI_SPARQL_TIMEOUT": "120", "GUJI_SPARQL_MAX_RESULTS": "1000000", "GUJI_SPARQL_PER_CLIENT": "4",
           # this benchmark is about the public SPARQL endpoint: its server keeps that projection live only
           # (the search index's bulk catch-up of 100,000 annotations is measured on its own, --search)
           "GUJI_PROJECTIONS": '["sparql"]'}
    settings = Settings(home=home, environment="test", projections=["sparql", "search"] if args.search else ["sparql"])
    ctx = Context(settings)
    t0 = time.perf_counter()
    if ctx.store.count() == 0:
        if not args.kanripo.is_dir():
            raise SystemExit(f"no Kanripo corpus at {args.kanripo}")
        for w in find_works([args.kanripo]):
            wg = read_work(w)
            ctx.store.replace_graph(graph_iri(wg.text_id), wg.triples, agent="bench")
        print(f"Kanripo ingested in {time.perf_counter() - t0:.1f} s: {ctx.store.count()} quads")
    juans = [(r["j"].value, r["t"].value) for r in ctx.store.query(
        f"SELECT ?j ?t WHERE {{ GRAPH ?g {{ ?j <{GUJI}text> ?t }} }} ORDER BY ?j LIMIT 2000")]
    item = next(iter(ctx.store.query(
        f"SELECT ?i WHERE {{ GRAPH ?g {{ ?i a <{GUJI}DigitalCopy> }} }} LIMIT 1")))["i"].value
    qs = queries(item, juans[0][0])
    have = sum(1 for g in ctx.store.graphs() if g.startswith(GG + "annotation/bench"))
    ctx.close()

    results = []
    for level in levels:
        ctx = Context(settings)
        if level > have:
            t0 = time.perf_counter()
            for start in range(have, level, 1000):
                graphs = dict(annotation_triples(i, *juans[i % len(juans)]) for i in range(start, min(level, start + 1000)))
                ctx.store.replace_graphs(graphs, agent="bench")
            print(f"{level - have} annotation graphs written in {time.perf_counter() - t0:.1f} s")
            have = level
        t0 = time.perf_counter()
        print("projections:", ctx.sync_projections(), f"({time.perf_counter() - t0:.1f} s)")
        ctx.store.optimize()
        ctx.close()

        ours_port, ox_port = free_port(), free_port()
        oxigraph = oxigraph_binary()
        ours = subprocess.Popen([sys.executable, "-m", "api", "serve", "--port", str(ours_port)], env=env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        oxi = subprocess.Popen([oxigraph, "serve-read-only", "--location", str(home / "public"),
                                "--union-default-graph", "--bind", f"127.0.0.1:{ox_port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            wait_http(f"http://127.0.0.1:{ours_port}/healthz")
            wait_http(f"http://127.0.0.1:{ox_port}/query?query=ASK%7B%7D")
            targets = {"guji /sparql": f"http://127.0.0.1:{ours_port}/sparql",
                       "oxigraph serve-read-only": f"http://127.0.0.1:{ox_port}/query"}
            runs = {"each round a new query text (no cache can answer)": measure(args.reps, targets, qs, distinct=True),
                    "the same query text every round (our answer cache serves repeats)": measure(args.reps, targets, qs)}
        finally:
            for proc in (ours, oxi):
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(30)
        results.append((level, runs))
        for how, times in runs.items():
            print(f"\n## {level:,} approved annotations: {how} ({args.reps} rounds, round-robin, 127.0.0.1)\n")
            print("| query | guji p50 ms | guji p95 ms | oxigraph p50 ms | oxigraph p95 ms | ratio p50 |")
            print("|---|---|---|---|---|---|")
            g, o = times["guji /sparql"], times["oxigraph serve-read-only"]
            for q in qs:
                print(f"| {q} | {p(g[q], .5):.2f} | {p(g[q], .95):.2f} | {p(o[q], .5):.2f} | {p(o[q], .95):.2f} | "
                      f"{statistics.median(g[q]) / statistics.median(o[q]):.2f} |")
        sys.stdout.flush()
    print(f"\nhome: {home}")


if __name__ == "__main__":
    main()
