"""Per-unit use of the published resources (激励: incentive measures need per-unit statistics).

Counting is operational data, not knowledge: one row per (unit, month, kind) in a small SQLite
file under ``$GUJI_HOME`` (``usage.sqlite3``), incremented in place — a change-log entry per page
view would swamp the canonical store (ADR 0013). What is counted:

- ``view``: a public book page or ``GET /api/books/{census_no}`` of a book the unit submitted;
- ``search``: a search whose returned hits include the unit's resources (once per unit per search);
- ``download``: a juan's service-level text fetched whole (``GET /api/texts``, the reading view).

Which unit a resource belongs to is read from the store: the package graph holding the resource
names its submitting unit (``prov:wasAssociatedWith`` of its ``guji:Submission``).
"""

from __future__ import annotations

import sqlite3
import threading
from collections import defaultdict
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path

from kg.namespaces import GG, GUJI, PROV, RDFS

KINDS = ("view", "search", "download")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS usage (
    unit TEXT NOT NULL,
    month TEXT NOT NULL,
    kind TEXT NOT NULL,
    n INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (unit, month, kind)
);
"""


def month_now() -> str:
    return (datetime.now(timezone.utc) + timedelta(hours=8)).strftime("%Y-%m")  # Beijing months


class UsageCounter:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with closing(sqlite3.connect(self.path, timeout=10)) as db, db:
            db.executescript(_SCHEMA)

    def add(self, unit_iris: set[str] | list[str], kind: str, month: str | None = None) -> None:
        if kind not in KINDS:
            raise ValueError(kind)
        if not unit_iris:
            return
        month = month or month_now()
        with self._lock, closing(sqlite3.connect(self.path, timeout=10)) as db, db:
            db.executemany("INSERT INTO usage (unit, month, kind, n) VALUES (?, ?, ?, 1) "
                           "ON CONFLICT(unit, month, kind) DO UPDATE SET n = n + 1",
                           [(u, month, kind) for u in sorted(set(unit_iris))])

    def counts(self, unit_iri: str) -> dict[str, dict[str, int]]:
        """month → kind → count."""
        out: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(KINDS, 0))
        with closing(sqlite3.connect(self.path, timeout=10)) as db:
            for month, kind, n in db.execute("SELECT month, kind, n FROM usage WHERE unit = ? ORDER BY month", (unit_iri,)):
                out[month][kind] = n
        return dict(out)


class Attribution:
    """resource IRI → the submitting unit's IRI, read from the package graphs; cached until the store changes."""

    def __init__(self, store) -> None:
        self.store = store
        self._seen = -1
        self._units: dict[str, str] = {}  # package graph → unit IRI
        self._cache: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        last = self.store.last_sequence()
        if last == self._seen:
            return
        q = f"""PREFIX guji: <{GUJI}> PREFIX prov: <{PROV}>
        SELECT ?g ?unit WHERE {{ GRAPH ?g {{ ?s a guji:Submission ; prov:wasAssociatedWith ?unit }}
            FILTER(STRSTARTS(STR(?g), "{GG}package/")) }}"""
        self._units = {r["g"].value: r["unit"].value for r in self.store.query(q)}
        self._cache = {}
        self._seen = last

    def unit_of(self, iri: str | None) -> str | None:
        if not iri or not iri.startswith(("http://", "https://")) or ">" in iri or " " in iri:
            return None
        with self._lock:
            self._refresh()
            if iri in self._cache:
                return self._cache[iri]
            if not self._units:
                return None
            found = None
            for r in self.store.query(f"SELECT ?g WHERE {{ GRAPH ?g {{ <{iri}> ?p ?o }} }}"):
                found = self._units.get(r["g"].value) or found
            self._cache[iri] = found
            return found

    def units_of(self, iris) -> set[str]:
        return {u for u in (self.unit_of(i) for i in iris) if u}


def unit_holdings(store, unit_iri: str) -> dict[str, dict[str, int]]:
    """Published records (physical books described), service-level images and juan of a unit's
    packages, by the month of submission: month → {records, images, juan}."""
    q = f"""PREFIX guji: <{GUJI}> PREFIX prov: <{PROV}> PREFIX rdfs: <{RDFS}>
        PREFIX dcterms: <http://purl.org/dc/terms/> PREFIX premis: <http://www.loc.gov/premis/rdf/v3/>
        SELECT ?g ?at
          (COUNT(DISTINCT ?book) AS ?records) WHERE {{
          GRAPH ?g {{ ?s a guji:Submission ; prov:wasAssociatedWith <{unit_iri}> . OPTIONAL {{ ?s prov:endedAtTime ?at }}
                     OPTIONAL {{ ?book a guji:PhysicalBook }} }}
          FILTER(STRSTARTS(STR(?g), "{GG}package/")) }} GROUP BY ?g ?at"""
    out: dict[str, dict[str, int]] = defaultdict(lambda: {"records": 0, "images": 0, "juan": 0})
    for r in store.query(q):
        g = r["g"].value
        month = r["at"].value[:7] if r["at"] is not None else "unknown"
        out[month]["records"] += int(r["records"].value)
        images = f"""PREFIX guji: <{GUJI}> PREFIX dcterms: <http://purl.org/dc/terms/> PREFIX premis: <http://www.loc.gov/premis/rdf/v3/>
            SELECT (COUNT(DISTINCT ?f) AS ?n) WHERE {{ GRAPH <{g}> {{ ?f a premis:File ; dcterms:format ?fmt
            FILTER(STRSTARTS(LCASE(STR(?fmt)), "image/") || LCASE(STR(?fmt)) IN ("tiff", "tif", "jpeg", "jpg", "png", "jp2")) }} }}"""
        out[month]["images"] += int(next(iter(store.query(images)))["n"].value)
        juan = f"""PREFIX guji: <{GUJI}> SELECT (COUNT(DISTINCT ?j) AS ?n) WHERE {{ GRAPH <{g}> {{ ?j a guji:Juan }} }}"""
        out[month]["juan"] += int(next(iter(store.query(juan)))["n"].value)
    return dict(out)
