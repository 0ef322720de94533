"""Benchmark and fault drill of the live projections, as users and operators meet them.

    python -m bench.faults [--annotations 60] [--down 60] [--kanripo ../shared/corpus/kanripo]

Needs the real servers of ``scripts/services up`` (Neo4j on bolt://127.0.0.1:7687, Elasticsearch on
http://127.0.0.1:9200); it uses Neo4j's default database and its own Elasticsearch index prefix,
so run it when no test suite is using them. Everything is a real process on 127.0.0.1:

1. ``guji serve --sample`` with Elasticsearch and Neo4j configured;
2. approval latency: create → submit → approve over HTTP, then poll /api/search, /sparql and Neo4j
   until each shows the annotation (p50/p95), and the sustained rate of whole workflows per second;
3. Neo4j stopped (``scripts/services stop-neo4j``) for ``--down`` seconds while annotations are
   approved, then started again: time until the projector caught up by itself, then
   ``guji sync --check`` beside the server;
4. the same with Elasticsearch stopped;
5. approvals while a large ingest is projected: two Kanripo works ingested beside the server
   (``guji ingest``), then one approval after another while the projections work through them:
   approval → found by /api/search and /sparql (p50/p95/max), and when each projection was done
   with the ingest (one projection's long job must not hold the others back);
6. ``kill -9`` of the server while it projects a Kanripo ingest (``guji ingest`` beside it, the
   remaining works), a restart, and ``guji sync --check``.

``--steps`` picks some of them: ``latency`` (2), ``down`` (3, 4), ``busy`` (5), ``kill`` (6).

Prints what it measured; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

from bench._util import percentile

ROOT = Path(__file__).resolve().parents[2]
MEDIA = 'application/ld+json; profile="http://www.w3.org/ns/anno.jsonld"'
JUAN = "https://w3id.org/guji/id/text/GJ4a0002/master/001"
PERSON = "https://w3id.org/guji/vocab/entity-category/person"
NEO4J = os.environ.get("GUJI_TEST_NEO4J_URI", "bolt://127.0.0.1:7687")
ES = os.environ.get("GUJI_TEST_ES_URL", "http://127.0.0.1:9200")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, home: Path, env: dict[str, str]) -> None:
        self.home, self.env, self.port = home, env, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, *extra: str) -> float:
        t0 = time.monotonic()
        log = open(self.home / "server.log", "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "api", "serve", "--port", str(self.port), *extra],
                                     env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        while True:
            if self.proc.poll() is not None:
                raise SystemExit("server exited: " + (self.home / "server.log").read_text()[-2000:])
            try:
                if httpx.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return time.monotonic() - t0
            except httpx.HTTPError:
                time.sleep(0.2)

    def kill9(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(60)

    def cli(self, *args: str, timeout: float = 3600) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "api", *args], env=self.env, cwd=ROOT, capture_output=True,
                              text=True, timeout=timeout)

    def health(self) -> dict:
        return httpx.get(self.base + "/healthz", timeout=30).json()


def services(*args: str) -> None:
    subprocess.run([str(ROOT / "scripts" / "services"), *args], check=True, capture_output=True)


def neo4j_count(label: str) -> int:
    from neo4j import GraphDatabase

    with GraphDatabase.driver(NEO4J) as d:
        records, _, _ = d.execute_query(f"MATCH (n:`{label}`) RETURN count(n) AS n")
        return records[0]["n"]


def annotate(http: httpx.Client, alice: dict, rita: dict, label: str,
             target: tuple[str, str, int] = (JUAN, "范仲淹", 10)) -> float:
    """One whole workflow on ``target`` (juan IRI, the characters, their start); returns the
    seconds from the approval request to its answer."""
    juan, exact, start = target
    doc = {"@context": "http://www.w3.org/ns/anno.jsonld", "type": "Annotation",
           "body": {"type": "SpecificResource", "guji:category": PERSON, "purpose": "identifying",
                    "source": {"id": f"https://example.org/person/{label}", "label": label}},
           "target": {"type": "SpecificResource", "source": juan,
                      "selector": [{"type": "TextQuoteSelector", "exact": exact},
                                   {"type": "TextPositionSelector", "start": start, "end": start + len(exact)}]}}
    r = http.post("/annotations/", json=doc, headers={**alice, "Content-Type": MEDIA})
    r.raise_for_status()
    url = httpx.URL(r.headers["location"]).path
    http.post(url + "/submit", headers=alice).raise_for_status()
    etag = http.get(url, headers=rita).headers["etag"]
    t0 = time.monotonic()
    http.post(url + "/review", json={"decision": "approve"}, headers={**rita, "If-Match": etag}).raise_for_status()
    return time.monotonic() - t0


def visible(http: httpx.Client, label: str) -> dict[str, bool]:
    ask = f'ASK {{ GRAPH ?g {{ ?b <http://www.w3.org/2000/01/rdf-schema#label> "{label}" }} }}'
    return {"search": http.get("/api/search", params={"q": label}).json()["total"] > 0,
            "sparql": http.get("/sparql", params={"query": ask}).json()["boolean"]}


def wait_caught_up(server: Server, name: str, limit: float = 600) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        st = {p["name"]: p for p in server.health()["projections"]}
        if st[name]["pending"] == 0 and st[name]["state"] == "ok":
            return time.monotonic() - t0
        time.sleep(0.5)
    return float("nan")


def check(server: Server) -> tuple[int, dict]:
    r = server.cli("sync", "--check", "--json")
    try:
        return r.returncode, json.loads(r.stdout)
    except ValueError:
        return r.returncode, {"output": r.stdout[-2000:], "error": r.stderr[-2000:]}


BUSY_WORKS = ("KR2a0001", "KR2a0002")  # 史記 and 漢書: the two largest of the shared texts but one


def projections(server: Server) -> dict[str, dict]:
    return {p["name"]: p for p in server.health()["projections"]}


def workflow_seen(http: httpx.Client, keys: dict, label: str, each: dict | None = None, **target) -> tuple[float, float]:
    """One whole workflow: (seconds to the approval's answer, seconds from the approval request
    until /api/search and /sparql both find the new label); ``each`` receives the seconds from
    the approval request until each of them found it."""
    answered = annotate(http, keys["alice"], keys["rita"], label, **target)
    t0 = time.monotonic()
    while True:
        found = visible(http, label)
        if each is not None:
            for k, ok in found.items():
                if ok and k not in each:
                    each[k] = answered + time.monotonic() - t0
        if all(found.values()):
            break
        time.sleep(0.01)
    return answered, answered + time.monotonic() - t0


def latency(server: Server, http: httpx.Client, keys: dict, n: int) -> None:
    answer, seen = [], []
    t_all = time.monotonic()
    for i in range(n):
        a, s = workflow_seen(http, keys, f"測{i:04d}號")
        answer.append(a)
        seen.append(s)
    rate = n / (time.monotonic() - t_all)
    print(f"\napproval answered: p50 {statistics.median(answer) * 1000:.0f} ms, p95 {percentile(answer, .95) * 1000:.0f} ms")
    print(f"approval → found by /api/search (Elasticsearch) and /sparql: p50 {statistics.median(seen) * 1000:.0f} ms, "
          f"p95 {percentile(seen, .95) * 1000:.0f} ms (n={len(seen)})")
    t0 = time.monotonic()
    while neo4j_count("Annotation") < n and time.monotonic() - t0 < 30:
        time.sleep(0.05)
    print(f"Neo4j holds {neo4j_count('Annotation')} Annotation nodes {time.monotonic() - t0:.2f} s after the last approval")
    print(f"sustained: {rate:.2f} whole workflows/s (create + submit + approve, each visible everywhere before the next)")
    rc, report = check(server)
    print(f"guji sync --check beside the server: exit {rc}, in_sync={report.get('in_sync')}")


def down(server: Server, http: httpx.Client, keys: dict, seconds: float) -> None:
    """Neo4j, then Elasticsearch, down while annotations are approved."""
    for name, stop, start in (("neo4j", ("stop-neo4j",), ("start-neo4j",)), ("search", ("down", "es"), ("up", "es"))):
        services(*stop)
        t0 = time.monotonic()
        n, slow = 0, []
        while time.monotonic() - t0 < seconds:
            slow.append(annotate(http, keys["alice"], keys["rita"], f"斷{name}{n:03d}"))
            n += 1
            time.sleep(1)
        st = projections(server)[name]
        print(f"\n{name} down {seconds:.0f} s: {n} approvals answered (p50 {statistics.median(slow) * 1000:.0f} ms, "
              f"max {max(slow) * 1000:.0f} ms); /healthz {name}: state={st['state']} pending={st['pending']} "
              f"lag={st['lag_seconds']:.0f} s retry_in={st['retry_in']:.0f} s; error: {(st['last_error'] or '')[:90]}")
        t_up = time.monotonic()
        services(*start)
        print(f"{name} back after {time.monotonic() - t_up:.0f} s; projector caught up by itself "
              f"{wait_caught_up(server, name):.1f} s later (no operator step)")
        rc, report = check(server)
        print(f"guji sync --check: exit {rc}, in_sync={report.get('in_sync')}, "
              f"{name} drift={len(report.get(name, {}).get('drift', []))}")


def busy(server: Server, env: dict, http: httpx.Client, keys: dict, works: list[Path]) -> None:
    """Approvals while the projections work through a large ingest made beside the server.

    /healthz is sampled every 0.25 s meanwhile: a projection is busy with the ingest while its
    state is catching-up (an approval alone keeps it so for milliseconds)."""
    import threading

    busy_until: dict[str, float] = {}
    stop = threading.Event()
    t0 = time.monotonic()

    def sample() -> None:
        with httpx.Client(base_url=server.base, timeout=30) as c:
            while not stop.is_set():
                for p in c.get("/healthz").json()["projections"]:
                    if p["state"] in ("catching-up", "rebuilding"):
                        busy_until[p["name"]] = time.monotonic() - t0
                time.sleep(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    ingest = subprocess.Popen([sys.executable, "-m", "api", "ingest", *map(str, works), "--quiet"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen: list[float] = []
    clicks: list[float] = []
    n = 0
    while ingest.poll() is None:  # the CLI answers once every projection shows the ingest (≤ 600 s)
        t_w = time.monotonic()
        each: dict = {}
        answered, s = workflow_seen(http, keys, f"忙{n:03d}號", each)
        clicks.append(time.monotonic() - t_w - (s - answered))  # create, submit, read, approve: answered
        seen.append(s)
        print(f"  approval {n}: create + submit + approve answered in {clicks[-1] * 1000:.0f} ms; found by "
              f"/api/search and /sparql {s * 1000:.0f} ms after the approval request ("
              + ", ".join(f"{k} {v * 1000:.0f}" for k, v in sorted(each.items())) + f" ms; "
              f"{time.monotonic() - t0:.1f} s after `guji ingest` started)")
        n += 1
        time.sleep(1)
    t_cli = time.monotonic() - t0
    stop.set()
    sampler.join()
    print(f"\n{n} approvals during `guji ingest {' '.join(w.name for w in works)}` beside the server (CLI returned after "
          f"{t_cli:.1f} s, exit {ingest.returncode}): approval → found by /api/search and /sparql "
          f"p50 {statistics.median(seen) * 1000:.0f} ms, p95 {percentile(seen, .95) * 1000:.0f} ms, max {max(seen) * 1000:.0f} ms; "
          f"the four requests of a workflow answered in p50 {statistics.median(clicks) * 1000:.0f} ms, max {max(clicks) * 1000:.0f} ms")
    print("each projection last seen busy (s after the ingest started): "
          + ", ".join(f"{k} {v:.1f}" for k, v in sorted(busy_until.items(), key=lambda kv: kv[1])))
    express = {p["name"]: p.get("express_changes", 0) for p in http.get("/healthz").json()["projections"]}
    print(f"changes applied ahead of the ingest by the express lane: {express}")
    if works[0].name.startswith("national-"):
        on_package(http, keys, works[0].name)
    t = time.monotonic()
    rc, report = check(server)
    drift = {k: len(v.get("drift", [])) for k, v in report.items() if isinstance(v, dict)}
    print(f"guji sync --check beside the server afterwards: exit {rc} in {time.monotonic() - t:.1f} s, "
          f"in_sync={report.get('in_sync')}, drift per projection {drift}")


def on_package(http: httpx.Client, keys: dict, package: str, n: int = 20) -> None:
    """Workflows on the census texts of the package just ingested (an annotator at work on a
    10,000-book graph): each re-indexes a juan of that graph."""
    graph = f"https://w3id.org/guji/graph/package/{package}"
    q = f"SELECT ?j ?t WHERE {{ GRAPH <{graph}> {{ ?j <https://w3id.org/guji/ontology#text> ?t }} }} LIMIT {n}"
    rows = http.get("/sparql", params={"query": q}, headers={"Accept": "application/sparql-results+json"}).json()
    targets = [(b["j"]["value"], b["t"]["value"][20:23], 20) for b in rows["results"]["bindings"]]
    seen = []
    for i, target in enumerate(targets):
        _, s = workflow_seen(http, keys, f"包{i:03d}號", target=target)
        seen.append(s)
    print(f"{len(seen)} workflows on juans of {package} afterwards: approval → found by /api/search and /sparql "
          f"p50 {statistics.median(seen) * 1000:.0f} ms, max {max(seen) * 1000:.0f} ms")


def kill(server: Server, env: dict, kanripo: Path) -> None:
    """kill -9 of the server during the projection of a large ingest."""
    ingest = subprocess.Popen([sys.executable, "-m", "api", "ingest", str(kanripo), "--quiet"], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    t0 = time.monotonic()
    st: dict = {}
    while time.monotonic() - t0 < 900:
        try:
            st = projections(server)
        except httpx.HTTPError:
            st = {}
        if any(p["pending"] > 0 for p in st.values()) and server.health()["quads"] > 100_000:
            break
        time.sleep(0.5)
    time.sleep(3)  # mid-projection
    pending = {k: v["pending"] for k, v in st.items()}
    server.kill9()
    ingest.wait(60)
    print(f"\nkill -9 of the server while projecting the Kanripo ingest (pending then: {pending}); "
          f"the CLI said: {(ingest.stderr.read() or '').strip().splitlines()[-1:]}")
    up = server.start()
    print(f"restart: up and caught up in {up:.1f} s")
    r = server.cli("ingest", str(kanripo), "--quiet")
    print(f"the interrupted ingest run again beside the server: exit {r.returncode}")
    rc, report = check(server)
    drift = {k: len(v.get("drift", [])) for k, v in report.items() if isinstance(v, dict)}
    print(f"guji sync --check after the crash: exit {rc}, in_sync={report.get('in_sync')}, drift per projection {drift}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--annotations", type=int, default=60)
    ap.add_argument("--down", type=float, default=60)
    ap.add_argument("--kanripo", type=Path, default=ROOT.parent / "shared" / "corpus" / "kanripo")
    ap.add_argument("--steps", default="latency,down,busy,kill", help="comma-separated: latency, down, busy, kill")
    ap.add_argument("--package", type=int, default=0, metavar="RECORDS",
                    help="busy: ingest one generated census package of this many records (bench.national) "
                         "instead of the two Kanripo works")
    args = ap.parse_args()
    steps = set(args.steps.split(","))
    import tempfile

    home = Path(tempfile.mkdtemp(prefix="guji-bench-faults-"))
    prefix = f"guji-bench-{uuid.uuid4().hex[:6]}"
    env = {**os.environ, "GUJI_HOME": str(home), "GUJI_ENVIRONMENT": "test", "PYTHONPATH": str(ROOT),
           "GUJI_NEO4J_URI": NEO4J, "GUJI_ES_URL": ES, "GUJI_ES_INDEX_PREFIX": prefix}
    server = Server(home, env)
    print(f"home {home}; Elasticsearch index prefix {prefix}")
    print(f"server up (sample ingested, every projection built) in {server.start('--sample'):.1f} s")
    keys = {}
    for name, role in (("alice", "annotator"), ("rita", "reviewer")):
        r = server.cli("users", "add", name, "--role", role, "--json")
        keys[name] = {"Authorization": f"Bearer {json.loads(r.stdout)['api_key']}"}
    http = httpx.Client(base_url=server.base, timeout=60)
    try:
        if "latency" in steps:
            latency(server, http, keys, args.annotations)
        if "down" in steps:
            down(server, http, keys, args.down)
        if "busy" in steps and args.package:
            from bench.national.generate import packages

            shared = args.kanripo.parents[1] if args.kanripo.is_dir() else None
            bag = next(packages(home.parent / f"{home.name}-package", args.package, args.package, shared))
            busy(server, env, http, keys, [bag])
            shutil.rmtree(bag.parent, ignore_errors=True)
        elif "busy" in steps and args.kanripo.is_dir():
            busy(server, env, http, keys, [args.kanripo / w for w in BUSY_WORKS])
        if "kill" in steps and args.kanripo.is_dir():
            kill(server, env, args.kanripo)
    finally:
        http.close()
        server.stop()
        try:
            httpx.delete(f"{ES}/{prefix}*", timeout=30)
        except httpx.HTTPError:
            pass


if __name__ == "__main__":
    main()
