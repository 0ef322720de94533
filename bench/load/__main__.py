"""Benchmark: a bounded load test of a real ``guji serve`` on the loopback interface.

    python -m bench.load [--seconds 60] [--users 16] [--flooders 4] [--sparql-timeout 5]

Starts ``guji serve --sample`` in a fresh GUJI_HOME on 127.0.0.1 (a free port), seeds approved
annotations through the API, then runs locust headless for ``--seconds``: a mixed public workload
(search, SPARQL point lookups, book pages, annotation reads) with a slow-query flood beside it
(SPARQL cross products that run into the time limit) and a /healthz probe. Prints requests per
second and p50/p95 per endpoint and the worst /healthz latency; asserts nothing. Everything
stops by itself: locust after ``--seconds``, the server when locust is done.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from accounts.users import UserStore

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
PERSON = "https://w3id.org/guji/vocab/entity-category/person"
ANNO = "http://www.w3.org/ns/anno.jsonld"
MEDIA = f'application/ld+json; profile="{ANNO}"'
PREFIXES = """PREFIX guji: <https://w3id.org/guji/ontology#>
PREFIX bf: <http://id.loc.gov/ontologies/bibframe/>
PREFIX dcterms: <http://purl.org/dc/terms/>
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(base: str, proc: subprocess.Popen, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"guji serve exited with {proc.returncode} before answering")
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"guji serve did not answer /healthz within {timeout:g} s")


def select(client: httpx.Client, query: str) -> list[dict[str, str]]:
    r = client.get("/sparql", params={"query": PREFIXES + query}, headers={"Accept": "application/sparql-results+json"})
    r.raise_for_status()
    return [{k: v["value"] for k, v in b.items()} for b in r.json()["results"]["bindings"]]


def seed(client: httpx.Client, home: Path, count: int) -> dict[str, list[str]]:
    """Targets for the readers; ``count`` approved annotations made through the API."""
    books = [r["item"].rsplit("/", 1)[1] for r in select(client, "SELECT ?item WHERE { ?item a guji:PhysicalBook }")]
    works = [r["id"] for r in select(client, "SELECT ?id WHERE { ?w a bf:Work ; dcterms:identifier ?id }")]
    juans = [r["j"] for r in select(client, "SELECT ?j WHERE { ?j a guji:Juan ; guji:text ?t }")]
    users = UserStore(home / "users.sqlite3")
    annotator = {"Authorization": "Bearer " + users.add("load-annotator", "annotator")[1]}
    reviewer = {"Authorization": "Bearer " + users.add("load-reviewer", "reviewer")[1]}
    annotations = []
    for i in range(count):
        juan = juans[i % len(juans)]
        text = client.get("/api/texts", params={"iri": juan}).json()["text"]
        start = (i * 7) % max(1, len(text) - 4)
        exact = text[start:start + 3]
        doc = {"@context": ANNO, "type": "Annotation",
               "body": {"type": "SpecificResource", "guji:category": PERSON, "purpose": "classifying", "source": PERSON},
               "target": {"type": "SpecificResource", "source": juan, "selector": [
                   {"type": "TextQuoteSelector", "exact": exact},
                   {"type": "TextPositionSelector", "start": start, "end": start + 3}]}}
        r = client.post("/annotations/", json=doc, headers={**annotator, "Content-Type": MEDIA})
        if r.status_code != 201:
            print(f"seeding: an annotation was refused ({r.status_code}): {r.text[:200]}", file=sys.stderr)
            continue
        path = "/annotations/" + r.headers["location"].rstrip("/").rsplit("/", 1)[1]
        client.post(path + "/submit", headers=annotator).raise_for_status()
        client.post(path + "/review", json={"decision": "approve"}, headers={**reviewer, "If-Match": "*"}).raise_for_status()
        annotations.append(path.rsplit("/", 1)[1])
    return {"books": books, "works": works, "juans": juans, "annotations": annotations}


def report(stats_csv: Path, health: dict, seconds: float) -> None:
    rows = list(csv.DictReader(stats_csv.open(encoding="utf-8")))
    print(f"\n{'endpoint':<38} {'requests':>8} {'failed':>6} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'max ms':>7}")
    for r in rows:
        name = r["Name"] if r["Name"] != "Aggregated" else "all"
        print(f"{name:<38} {r['Request Count']:>8} {r['Failure Count']:>6} {float(r['Requests/s']):>7.1f} "
              f"{r['50%']:>7} {r['95%']:>7} {float(r['Max Response Time']):>7.0f}")
    print("\nstatuses: " + "; ".join(f"{name}: " + ", ".join(f"{code}x{n}" for code, n in sorted(codes.items()))
                                     for name, codes in sorted(health.get("statuses", {}).items())))
    worst = health.get("max_latency_s")
    gap = health.get("max_gap_s")
    print(f"\n/healthz over {seconds:g} s: {health.get('answers', 0)} answers, {health.get('failures', '?')} failures, "
          f"max latency {worst * 1000 if worst is not None else float('nan'):.0f} ms, "
          f"longest time without an answer {gap if gap is not None else float('nan'):.1f} s")


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=int, default=60, help="how long locust runs (default 60)")
    ap.add_argument("--users", type=int, default=16, help="all simulated users: readers + flooders + 1 probe (default 16)")
    ap.add_argument("--flooders", type=int, default=4, help="users sending slow queries back to back (default 4)")
    ap.add_argument("--sparql-timeout", type=float, default=5.0, help="the server's SPARQL time limit, s (default 5)")
    ap.add_argument("--annotations", type=int, default=20, help="approved annotations to seed (default 20)")
    ap.add_argument("--keep", action="store_true", help="keep the GUJI_HOME, server log and locust output")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="guji-load-"))
    home, port = work / "home", free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "GUJI_HOME": str(home), "GUJI_HOST": "127.0.0.1", "GUJI_PORT": str(port),
           "GUJI_ENVIRONMENT": "development", "GUJI_SPARQL_TIMEOUT": str(args.sparql_timeout),
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    log = (work / "server.log").open("w")
    print(f"starting guji serve --sample on {base} (GUJI_HOME={home})")
    server = subprocess.Popen([sys.executable, "-m", "api", "serve", "--sample"], env=env, cwd=ROOT,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        t0 = time.monotonic()
        wait_healthy(base, server)
        print(f"server up in {time.monotonic() - t0:.1f} s")
        with httpx.Client(base_url=base, timeout=60) as client:
            targets = seed(client, home, args.annotations)
        print(f"targets: {len(targets['books'])} books, {len(targets['works'])} works, {len(targets['juans'])} juans, "
              f"{len(targets['annotations'])} approved annotations")
        (work / "targets.json").write_text(json.dumps(targets, ensure_ascii=False))
        locust_env = {**env, "GUJI_LOAD_TARGETS": str(work / "targets.json"), "GUJI_LOAD_HEALTH": str(work / "health.json"),
                      "GUJI_LOAD_FLOODERS": str(args.flooders)}
        readers = args.users - args.flooders - 1
        print(f"locust: {readers} readers, {args.flooders} flooders, 1 /healthz probe for {args.seconds} s")
        with (work / "locust.log").open("w") as locust_log:
            subprocess.run([sys.executable, "-m", "locust", "-f", str(HERE / "locustfile.py"), "--headless",
                            "--host", base, "-u", str(args.users), "-r", str(args.users), "-t", f"{args.seconds}s",
                            "--stop-timeout", "10", "--csv", str(work / "locust"), "--only-summary", "--loglevel", "WARNING"],
                           env=locust_env, cwd=ROOT, check=False, timeout=args.seconds + 120,
                           stdout=locust_log, stderr=subprocess.STDOUT)
        health = json.loads((work / "health.json").read_text()) if (work / "health.json").exists() else {}
        report(work / "locust_stats.csv", health, args.seconds)
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server's own process group (start_new_session)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
