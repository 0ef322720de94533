"""The load test's users (run by ``python -m bench.load``, which starts the server and locust).

* :class:`Reader` — the public workload: search, SPARQL point lookups, book pages (HTML and
  JSON), annotation reads. Each simulated reader sends its own ``X-Forwarded-For`` (a
  documentation address, RFC 5737) so the per-client SPARQL limit sees distinct clients, as it
  would behind a reverse proxy; uvicorn trusts that header from 127.0.0.1 only.
* :class:`Flooder` — heavy SPARQL queries (cross products) that run into the time limit, sent
  back to back from a few clients beside the readers.
* :class:`HealthProbe` — ``GET /healthz`` twice a second; at the end it writes its worst latency,
  its failures and the longest time without an answer to ``$GUJI_LOAD_HEALTH``, with the
  statuses each endpoint answered.

The data to ask for (census numbers, work ids, juan IRIs, annotation ids) comes from
``$GUJI_LOAD_TARGETS``, a JSON file the driver writes after seeding the server.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time

from locust import HttpUser, between, constant, events, task

TARGETS = json.loads(open(os.environ["GUJI_LOAD_TARGETS"], encoding="utf-8").read())
PREFIXES = "PREFIX dcterms: <http://purl.org/dc/terms/>\nPREFIX bf: <http://id.loc.gov/ontologies/bibframe/>\n"
SEARCHES = ["岳陽樓", "范仲淹", "先天下之憂而憂", "洞庭", "学而时习之", "子曰"]
HEAVY = [
    "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f }",
    "SELECT ?a ?e WHERE { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f FILTER(STR(?b) < STR(?f)) } ORDER BY ?f",
]
_reader_ids = itertools.count(1)
_flooder_ids = itertools.count(1)
_seed = random.Random(20261203)


class Reader(HttpUser):
    wait_time = between(0.2, 0.8)

    def on_start(self) -> None:
        self.client.headers["X-Forwarded-For"] = f"203.0.113.{next(_reader_ids)}"
        self.rng = random.Random(_seed.random())

    @task(4)
    def search(self) -> None:
        self.client.get("/api/search", params={"q": self.rng.choice(SEARCHES)}, name="GET /api/search")

    @task(3)
    def sparql_point_lookup(self) -> None:
        work = self.rng.choice(TARGETS["works"])
        q = PREFIXES + f'SELECT ?p ?o WHERE {{ ?w dcterms:identifier "{work}" ; ?p ?o }} LIMIT 50'
        self.client.get("/sparql", params={"query": q}, headers={"Accept": "application/sparql-results+json"},
                        name="GET /sparql (point lookup)")

    @task(2)
    def book_page(self) -> None:
        self.client.get(f"/books/{self.rng.choice(TARGETS['books'])}", name="GET /books/{census_no} (HTML)")

    @task(2)
    def book_json(self) -> None:
        self.client.get(f"/api/books/{self.rng.choice(TARGETS['books'])}", name="GET /api/books/{census_no}")

    @task(2)
    def annotations_of_a_juan(self) -> None:
        self.client.get("/annotations/", params={"target": self.rng.choice(TARGETS["juans"])},
                        headers={"Accept": "application/ld+json"}, name="GET /annotations/?target=")

    @task(2)
    def one_annotation(self) -> None:
        self.client.get(f"/annotations/{self.rng.choice(TARGETS['annotations'])}", name="GET /annotations/{id}")


FLOODERS = int(os.environ.get("GUJI_LOAD_FLOODERS", "4"))


class Flooder(HttpUser):
    wait_time = constant(0)
    fixed_count = FLOODERS
    abstract = FLOODERS == 0  # locust reads fixed_count 0 as "not fixed": leave the class out instead

    def on_start(self) -> None:
        # two flooding clients, each at the per-client limit with two users
        self.client.headers["X-Forwarded-For"] = f"198.51.100.{(next(_flooder_ids) + 1) // 2}"

    @task
    def heavy_query(self) -> None:
        with self.client.get("/sparql", params={"query": random.choice(HEAVY)}, name="GET /sparql (slow flood)",
                             catch_response=True) as r:
            if r.status_code in (503, 429, 400, 422):  # stopped at the time limit, refused as busy or too large:
                r.success()                          # the endpoint defending itself is the expected outcome
            time.sleep(0.05)


class HealthProbe(HttpUser):
    wait_time = constant(0.5)
    fixed_count = 1
    answered: list[float] = []
    latencies: list[float] = []
    failures = 0

    @task
    def healthz(self) -> None:
        t = time.monotonic()
        with self.client.get("/healthz", name="GET /healthz", catch_response=True) as r:
            if r.status_code == 200:
                HealthProbe.answered.append(time.monotonic())
                HealthProbe.latencies.append(time.monotonic() - t)
            else:
                HealthProbe.failures += 1
                r.failure(f"/healthz answered {r.status_code}")


STATUSES: dict[str, dict[str, int]] = {}


@events.request.add_listener
def _count_status(name, response=None, exception=None, **_) -> None:
    code = str(response.status_code) if response is not None and response.status_code else type(exception).__name__
    counts = STATUSES.setdefault(name, {})
    counts[code] = counts.get(code, 0) + 1


@events.test_stop.add_listener
def _write_health(environment, **_) -> None:
    path = os.environ.get("GUJI_LOAD_HEALTH")
    if not path:
        return
    times = HealthProbe.answered
    gaps = [b - a for a, b in zip(times, times[1:])]
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"answers": len(times), "failures": HealthProbe.failures,
                   "max_latency_s": max(HealthProbe.latencies, default=None),
                   "max_gap_s": max(gaps, default=None), "statuses": STATUSES}, f)
