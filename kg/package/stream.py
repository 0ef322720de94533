"""Streaming validation and staged ingest of submission packages (ADR 0017).

Memory stays flat whatever the size of the package:

1. **Read** (one pass, row by row): every table is read line by line from disk, its SHA-256 is
   computed from the same bytes (checked against the bag manifest), each row is checked on its
   own (types, vocabularies, patterns: :func:`kg.package.reader.check_row`) and spilled to a
   scratch SQLite file beside the package, keyed by the book it belongs to. Only the indexes the
   cross-table checks need stay in memory (ids → book, the derivation edges, unique values).
2. **Check and build per batch**: books are grouped into batches of about ``batch_books`` books;
   a book, its reels, frames, inspections, files and texts, and every book they derive from, are
   always in the same batch (union-find over the references), so the existing checks
   (:func:`kg.package.reader.check_references`), the existing graph builder
   (:func:`kg.package.rdf.build`) and SHACL (:func:`kg.package._shacl`, per batch: the same
   report with file, row and field) run unchanged on one batch at a time. The triples go to a
   scratch N-Quads file; nothing is written to the store while a single problem may still refuse
   the package.
3. **Load** (only for a valid package): a private marker graph (``gg:private/ingest/<batch>``)
   naming the package's graphs is committed first; the store hides graphs named by a marker
   (:meth:`kg.store.OxigraphStore.graphs`), and they are not in the change log yet, so no
   projection, page or public SPARQL query sees them. The N-Quads are bulk loaded in bounded
   chunks, then one small transaction (:meth:`OxigraphStore.publish_staged`) drops the marker
   and writes the change-log entries of the package graphs: the package becomes visible at once,
   through the one write path (change log → projector). A run that is killed leaves the marker;
   the next run of the same package loads again over it (loading is idempotent) and publishes,
   a run of a different package under the same batch first removes what was staged. Cancelling
   (Ctrl-C, the API) removes the staged graphs and the marker.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import hashlib
import json
import re
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import bagit
import pyoxigraph as ox

from kg import kanripo
from kg.errors import IngestCancelledError, ValidationError
from kg.package.reader import (
    ArchiveLimits, Package, Row, _is_pua_code, _read_submission, check_references, check_row, check_unique_value,
    report_bag_problem,
)
from kg.package.report import Report
from kg.package.schema import TABLES, Need, Table

__all__ = ["TableSpec", "TABLE_SPECS", "register_table", "Progress", "StreamedPackage", "stream_validate"]

Progress = Callable[[str, int, int], None]  # (phase, done, total)


# -- the table registry --------------------------------------------------------------------------

@dataclass(frozen=True)
class TableSpec:
    """How the streaming reader handles one table: ``book_of(row, ids)`` names the book a row
    belongs to (rows of one book are checked and built together), ``index(row, ids)`` records what
    later rows and cross-table checks need (ids only, never whole rows), ``links(row, ids)`` names
    other books this row's records derive from (they are kept in the same batch)."""

    table: Table
    book_of: Callable[[Row, "Ids"], str | None] = lambda row, ids: None
    index: Callable[[Row, "Ids"], None] | None = None
    links: Callable[[Row, "Ids"], list[str]] | None = None

    @property
    def name(self) -> str:
        return self.table.file.removesuffix(".csv")


@dataclass
class Ids:
    """The id indexes kept while streaming: a few strings per record."""

    books: dict[str, str] = field(default_factory=dict)  # book_id -> census_no
    reels: dict[str, str] = field(default_factory=dict)  # reel_id -> book_id
    files: dict[str, str] = field(default_factory=dict)  # file_id -> book_id
    census: dict[str, str] = field(default_factory=dict)  # census work IRI -> book_id
    extra: dict[str, dict[str, str]] = field(default_factory=dict)  # for tables registered later

    def book_of_ref(self, ref: str) -> str | None:
        kind, _, key = ref.strip().partition(":")
        return self.reels.get(key) if kind == "reel" else self.files.get(key) if kind == "file" else None


def _v(row: Row, name: str) -> str:
    return row.get(name).strip()


def _index_book(row: Row, ids: Ids) -> None:
    b = _v(row, "book_id")
    if b and b not in ids.books:
        ids.books[b] = _v(row, "census_no")
        ids.census[f"https://w3id.org/guji/id/work/census/{_v(row, 'census_no')}"] = b


def _book_links(row: Row, ids: Ids) -> list[str]:
    from kg.works import work_iri_for

    w = _v(row, "work_id")
    target = work_iri_for(w) if w else None
    return [ids.census[target]] if target in ids.census else []


def _derived_links(row: Row, ids: Ids) -> list[str]:
    b = ids.book_of_ref(_v(row, "derived_from"))
    return [b] if b else []


TABLE_SPECS: dict[str, TableSpec] = {}


def register_table(spec: TableSpec) -> None:
    """Add (or replace) a table of the package format: the reader reads, checks and batches it."""
    TABLE_SPECS[spec.name] = spec


for _spec in (
    TableSpec(next(t for t in TABLES if t.file == "books.csv"), lambda r, ids: _v(r, "book_id") or None, _index_book, _book_links),
    TableSpec(next(t for t in TABLES if t.file == "collation.csv"), lambda r, ids: _v(r, "book_id") or None),
    TableSpec(next(t for t in TABLES if t.file == "gaiji.csv")),
    TableSpec(next(t for t in TABLES if t.file == "reels.csv"), lambda r, ids: _v(r, "book_id") or None,
              lambda r, ids: ids.reels.setdefault(_v(r, "reel_id"), _v(r, "book_id")), _derived_links),
    TableSpec(next(t for t in TABLES if t.file == "frames.csv"), lambda r, ids: ids.reels.get(_v(r, "reel_id"))),
    TableSpec(next(t for t in TABLES if t.file == "inspections.csv"), lambda r, ids: ids.reels.get(_v(r, "reel_id"))),
    TableSpec(next(t for t in TABLES if t.file == "files.csv"), lambda r, ids: _v(r, "book_id") or None,
              lambda r, ids: ids.files.setdefault(_v(r, "file_id"), _v(r, "book_id")), _derived_links),
):
    register_table(_spec)


def specs_for(version: str) -> list[TableSpec]:
    """The tables a package of this format version has, in reading order: the registered specs
    with the version's columns (v2 adds columns to books, reels, frames and files), then the
    version's own tables (v2: serials, issues, articles, issue frames — ADR 0021). Rows that
    belong to no book (a serial's issues, reels and frames) go with the first batch."""
    from kg.package.serials import tables_for

    tables = {t.file.removesuffix(".csv"): t for t in tables_for(version)}
    out = [replace(spec, table=tables[name]) for name, spec in TABLE_SPECS.items() if name in tables]
    out += [TableSpec(t) for name, t in tables.items() if name not in TABLE_SPECS]
    return out


def _peek_version(path: Path) -> str:
    """The format version submission.json declares, without reporting anything (its problems are
    reported when it is read properly)."""
    from kg.package.serials import version_of

    try:
        doc = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (OSError, ValueError):
        return "1"
    return version_of(doc if isinstance(doc, dict) else None)


# -- the cyclic garbage collector --------------------------------------------------------------

_gc_lock = threading.Lock()
_gc_pausing = 0


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for one bounded step (a table, a batch).

    A batch allocates hundreds of thousands of long-lived container objects (rows, terms, triples,
    index entries) and almost no cycles; with the collector on, each 700 allocations start a
    collection that walks them again: measured, a quarter of a batch's CPU time (ADR 0024).
    Reference counting still frees everything as usual; cycles made inside the step are collected
    when the collector is back on. Steps in several threads nest: the last one out turns it on,
    and only if it was on before."""
    global _gc_pausing
    with _gc_lock:
        if _gc_pausing == 0:
            gc_paused.was_enabled = gc.isenabled()
            gc.disable()
        _gc_pausing += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausing -= 1
            if _gc_pausing == 0 and gc_paused.was_enabled:
                gc.enable()


gc_paused.was_enabled = True


# -- reading -------------------------------------------------------------------------------------

class _Spill:
    """Rows on disk (SQLite), keyed by book, so a batch's rows come back without holding the package."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "rows.sqlite"
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("CREATE TABLE rows (tbl TEXT, book TEXT, line INTEGER, data TEXT)")
        self.db.execute("CREATE TABLE headers (tbl TEXT PRIMARY KEY, data TEXT)")
        self.db.execute("BEGIN")
        self._pending: list[tuple] = []

    def header(self, table: str, header: list[str]) -> None:
        self.db.execute("INSERT OR REPLACE INTO headers VALUES (?, ?)", (table, json.dumps(header, ensure_ascii=False)))

    def add(self, table: str, book: str | None, row: Row, header: list[str]) -> None:
        self._pending.append((table, book, row.line, json.dumps([row.values.get(h, "") for h in header], ensure_ascii=False)))
        if len(self._pending) >= 5000:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self.db.executemany("INSERT INTO rows VALUES (?, ?, ?, ?)", self._pending)
            self._pending = []

    def finish(self, batch_of: dict[str, int], digests: dict[str, str]) -> None:
        self.flush()
        self.db.execute("CREATE TABLE batches (book TEXT PRIMARY KEY, batch INTEGER)")
        self.db.executemany("INSERT INTO batches VALUES (?, ?)", batch_of.items())
        self.db.execute("CREATE TABLE digests (path TEXT PRIMARY KEY, sha256 TEXT)")  # a batch reads its files' own
        self.db.executemany("INSERT INTO digests VALUES (?, ?)", digests.items())
        self.db.execute("COMMIT")
        self.db.execute("CREATE INDEX rows_book ON rows (book)")
        self.db.execute("CREATE INDEX batches_batch ON batches (batch)")

    def batch(self, n: int) -> dict[str, list[Row]]:
        return _batch_rows(self.db, n)

    def close(self) -> None:
        self.db.close()


def _batch_rows(db: sqlite3.Connection, n: int) -> dict[str, list[Row]]:
    """The rows of batch ``n`` from a finished spill, by table, in file order."""
    headers = {t: json.loads(h) for t, h in db.execute("SELECT tbl, data FROM headers")}
    if n == 0:  # rows that belong to no book (gaiji, rows whose book does not exist) go with the first batch
        cur = db.execute("SELECT tbl, line, data FROM rows WHERE book IS NULL OR book IN "
                         "(SELECT book FROM batches WHERE batch = 0) OR book NOT IN (SELECT book FROM batches) "
                         "ORDER BY tbl, line")
    else:
        cur = db.execute("SELECT tbl, line, data FROM rows WHERE book IN (SELECT book FROM batches WHERE batch = ?) "
                         "ORDER BY tbl, line", (n,))
    out: dict[str, list[Row]] = {}
    for tbl, line, data in cur:
        out.setdefault(tbl, []).append(Row(line, dict(zip(headers[tbl], json.loads(data)))))
    return out


def _lines(path: Path, file: str, digest, report: Report, state: dict) -> Iterator[str]:
    """The file's lines as text, hashing the same bytes; a byte that is not UTF-8 is reported with
    its line and column and ends the table (the rest of the file is still hashed)."""
    with open(path, "rb") as f:
        for n, raw in enumerate(f, start=1):
            digest.update(raw)
            state["bytes"] += len(raw)
            if state["broken"]:
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                try:
                    kanripo.decode(raw, file=file)
                except ValidationError as exc:
                    report.violation("invalid_utf8", file, f"文件不是有效的 UTF-8 编码：{exc.message}", f"{exc.message}; save the file as UTF-8",
                                     row=n, column=exc.details.get("column"))
                state["broken"] = True
                continue
            if n == 1 and line.startswith("\ufeff"):
                line = line[1:]  # a spreadsheet's byte-order mark is not part of the header
            yield line


def _read_table(path: Path, spec: TableSpec, ids: Ids, spill: _Spill, report: Report, links: dict[str, list[str]],
                progress: Callable[[int], None]) -> tuple[int, str]:
    """Stream one table: check each row, index it, spill it. Returns (rows, sha256 of the file)."""
    table, name = spec.table, spec.name
    file = f"data/{table.file}"
    digest = hashlib.sha256()
    state = {"bytes": 0, "broken": False}
    reader = csv.reader(_lines(path, file, digest, report, state), strict=True)
    count = 0
    seen: dict[str, dict[str, int]] = {c.name: {} for c in table.columns if c.unique}
    try:
        header = next(reader, None)
        if not header and not state["broken"]:
            report.violation("empty_table", file, "表格为空（缺少表头）", "the table is empty (no header row)", row=1)
        if header:
            header = [h.strip() for h in header]
            spill.header(name, header)
            for col in table.columns:
                if col.name not in header and col.need is Need.MANDATORY:
                    report.violation("column_missing", file, f"缺少必备列 {col.name}（{col.zh}）", f"mandatory column {col.name} ({col.zh}) is missing", row=1, field=col.name)
            for h in header:
                if h not in table.names:
                    report.warning("unknown_column", file, f"未知列 {h}，将被忽略", f"unknown column {h} is ignored", row=1, field=h)
            start = reader.line_num + 1
            for record in reader:
                line = start
                start = reader.line_num + 1
                if not record or all(not v.strip() for v in record):
                    continue
                if len(record) != len(header):
                    report.violation("wrong_field_count", file,
                                     f"第 {line} 行有 {len(record)} 个字段，表头有 {len(header)} 个（行不完整或多出分隔符）",
                                     f"row has {len(record)} fields but the header has {len(header)} (a truncated or broken row)", row=line)
                    continue
                row = Row(line, dict(zip(header, record)))
                check_row(row, table, file, report)
                for col_name, values in seen.items():
                    check_unique_value(row, col_name, values, file, report)
                if spec.index is not None:
                    spec.index(row, ids)
                book = spec.book_of(row, ids)
                if spec.links is not None and book:
                    for other in spec.links(row, ids):
                        links.setdefault(book, []).append(other)
                spill.add(name, book, row, header)
                count += 1
                if count % 2000 == 0:
                    progress(state["bytes"])
    except csv.Error as exc:
        report.violation("csv_syntax", file, f"CSV 语法错误：{exc}", f"CSV syntax error: {exc}", row=reader.line_num)
    for _ in _lines_rest(reader):
        pass
    progress(state["bytes"])
    return count, digest.hexdigest()


def _lines_rest(reader) -> Iterator:
    """Drain the reader so the whole file is hashed even after a CSV error."""
    try:
        yield from reader
    except csv.Error:
        yield from _lines_rest(reader)


def _batches(books: list[str], links: dict[str, list[str]], size: int) -> dict[str, int]:
    """Books → batch numbers: linked books (derivations, work ids) share a batch."""
    parent = {b: b for b in books}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, others in links.items():
        for b in others:
            if a in parent and b in parent:
                ra, rb = find(a), find(b)
                if ra != rb:
                    parent[rb] = ra
    groups: dict[str, list[str]] = {}
    for b in books:
        groups.setdefault(find(b), []).append(b)
    out: dict[str, int] = {}
    n, filled = 0, 0
    for members in groups.values():
        if filled and filled + len(members) > size:
            n, filled = n + 1, 0
        for b in members:
            out[b] = n
        filled += len(members)
    return out


# -- one batch: check, build, SHACL (in this process or in a worker process) ----------------------

@dataclass
class _BatchJob:
    """What checking one batch needs: everything but its rows, which the batch reads from the spill."""

    n: int
    root: Path
    spill: Path
    scratch: Path
    bag_info: dict[str, str]
    submission: dict
    declared_pua: dict[str, Row]
    image_limits: dict[str, int]
    identity: dict[str, str] | None
    shacl: bool
    keep_triples: bool
    keep_graphs: bool = False  # a package of one batch keeps its PackageGraphs (not sent between processes)


@dataclass
class _BatchDone:
    n: int
    books: int
    texts: int
    checks: list  # the Problems of the row and cross-table checks
    built: bool = False  # the batch's own checks passed, so it was built and SHACL-validated
    shacl: list = field(default_factory=list)  # the Problems SHACL found
    triples: int = 0
    batch: str | None = None
    quads: Path | None = None  # the batch's N-Quads (when valid and kept)
    images: dict = field(default_factory=dict)  # file_id -> (ImageInfo, sha256) of its service images
    graphs: object = None  # PackageGraphs, when job.keep_graphs


def _check_batch(job: _BatchJob) -> _BatchDone:
    """Check one batch on its own (the rows, the references inside it, the graph, SHACL). Which of
    its problems reach the package's report, and whether its quads are loaded, the caller decides
    in batch order: exactly as when the batches ran one after the other (ADR 0024)."""
    from kg.package import _shacl
    from kg.package.rdf import build, package_graph, preservation_graph

    with gc_paused():  # one batch: bounded
        db = sqlite3.connect(f"file:{job.spill}?mode=ro", uri=True)
        try:
            rows = _batch_rows(db, job.n)
            paths = [f"data/{r.get('path').strip()}" for r in rows.get("files", []) if r.get("path").strip()]
            digests = {}
            for i in range(0, len(paths), 500):
                part = paths[i:i + 500]
                digests.update(db.execute(f"SELECT path, sha256 FROM digests WHERE path IN ({','.join('?' * len(part))})", part))
        finally:
            db.close()
        pkg = Package(job.root, job.bag_info, job.submission)
        pkg.tables = rows
        pkg.declared_pua = job.declared_pua
        pkg.digests = digests  # the bag's digests of this batch's files
        pkg.image_limits = job.image_limits
        checks = Report("batch")
        check_references(pkg, checks, counts=False)
        done = _BatchDone(job.n, len(rows.get("books", [])), len(pkg.texts), checks.problems, images=pkg.images)
        if not checks.valid:
            return done
        pg = build(pkg)
        if job.identity:
            pg.apply_identity(job.identity)
        found = Report("batch")
        if job.shacl:
            _shacl(pg, found)
        done.built, done.shacl, done.batch = True, found.problems, pg.batch
        done.triples = len(pg.public) + len(pg.preservation)
        if job.keep_graphs:
            done.graphs = pg
        if job.keep_triples and found.valid:
            done.quads = job.scratch / f"batch-{job.n:05d}.nq"
            with open(done.quads, "wb") as f:
                for graph, part in ((package_graph(pg.batch), pg.public), (preservation_graph(pg.batch), pg.preservation)):
                    # N-Triples lines end in " .\n" and a literal never holds a raw line break
                    # (the serializer escapes it), so naming the graph before the dot makes N-Quads
                    f.write(ox.serialize(part, format=ox.RdfFormat.N_TRIPLES).replace(b" .\n", f" <{graph}> .\n".encode()))
        return done


def _checked_batches(jobs: list[_BatchJob], workers: int) -> Iterator[_BatchDone]:
    """The batches checked, in batch order: in this process, or by ``workers`` worker processes
    (``python -m kg.package.worker``: a fresh interpreter, so a server's threads are never forked
    and the caller's main module is never imported again), batch n by worker n mod ``workers``,
    one batch at a time each. Leaving early (cancel, Ctrl-C, an error) stops the workers."""
    if workers <= 1 or len(jobs) <= 2:
        for job in jobs:
            yield _check_batch(job)
        return
    import os
    import pickle
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    procs = [subprocess.Popen([sys.executable, "-m", "kg.package.worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              env=env, start_new_session=True)  # Ctrl-C is the parent's to handle (it cancels the run)
             for _ in range(min(workers, len(jobs)))]
    finished = False
    try:
        def send(n: int) -> None:
            if n < len(jobs):
                proc = procs[n % len(procs)]
                pickle.dump(jobs[n], proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                proc.stdin.flush()

        for n in range(len(procs)):
            send(n)
        for n in range(len(jobs)):
            proc = procs[n % len(procs)]
            try:
                ok, done = pickle.load(proc.stdout)
            except EOFError:
                raise RuntimeError(f"a package worker process ended unexpectedly (exit status {proc.wait()})") from None
            send(n + len(procs))  # its next batch, before this one is merged
            if not ok:
                raise done
            yield done
        finished = True
    finally:
        for proc in procs:
            for f in (proc.stdin, proc.stdout):
                try:
                    f.close()  # end of input: an idle worker exits
                except OSError:
                    pass
            if not finished:
                proc.kill()  # left early: a worker holds one batch and writes only to the scratch directory
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def worker_main() -> None:
    """A worker process: batch jobs in (pickled, on stdin), (ok, _BatchDone or the exception) out."""
    import os
    import pickle
    import sys

    inp = sys.stdin.buffer
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print must not corrupt the answers
    while True:
        try:
            job = pickle.load(inp)
        except EOFError:
            return
        try:
            answer = pickle.dumps((True, _check_batch(job)), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 - sent back and raised in the parent
            try:
                answer = pickle.dumps((False, exc), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # noqa: BLE001 - an exception that does not pickle
                answer = pickle.dumps((False, RuntimeError(f"checking batch {job.n} failed: {exc!r}")))
        out.write(answer)
        out.flush()


@dataclass
class StreamedPackage:
    """What a streaming validation leaves behind for the load: the report, the scratch files of the
    valid package's quads (one N-Quads file of whole batches per ``load_bytes``: Oxigraph's bulk load
    costs less per quad in fewer, larger loads, and its memory grows with the file) and the package's graphs."""

    report: Report
    batch: str | None = None
    graphs: list[str] = field(default_factory=list)
    quads: list[tuple[Path, int]] = field(default_factory=list)  # (N-Quads file, books loaded once it is in)
    digest: str = ""
    books: int = 0
    scratch: Path | None = None
    single: object = None  # the PackageGraphs of a package that fits in one batch (kept for callers)

    def cleanup(self) -> None:
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
            self.scratch = None


def _check_bag(root: Path, report: Report, tables: set[str]) -> tuple[bagit.Bag | None, dict[str, str]]:
    """The bag's structure, completeness and every payload checksum except the tables' (those are
    computed while the tables are read). Returns the bag and each hashed file's sha256."""
    try:
        bag = bagit.Bag(str(root))
    except bagit.BagError as exc:
        report.violation("not_a_bag", "bagit.txt", f"不是有效的 BagIt 包：{exc}", f"not a BagIt bag (RFC 8493): {exc}")
        return None, {}
    try:
        bag._validate_structure()
        bag._validate_bagittxt()
        bag._validate_oxum()  # Payload-Oxum, when bag-info.txt has one
        bag._validate_completeness()
    except bagit.BagValidationError as exc:
        for d in exc.details or [exc]:
            report_bag_problem(d, report)
    except bagit.BagError as exc:
        report.violation("bag_invalid", "bagit.txt", f"BagIt 校验失败：{exc}", f"BagIt validation failed: {exc}")
    digests: dict[str, str] = {}
    for path, hashes in bag.entries.items():
        want = hashes.get("sha256")
        if want is None:
            continue
        if path in tables:
            continue
        full = root / path
        if not full.is_file():
            continue  # reported as missing by the completeness check
        h = hashlib.sha256()
        with open(full, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        digests[path] = h.hexdigest()  # what the file holds, which is what the tables are checked against
        if h.hexdigest() != want.lower():
            report_bag_problem(bagit.ChecksumMismatch(path, "sha256", want.lower(), h.hexdigest()), report)
    return bag, digests


def stream_validate(root: Path, report: Report, *, limits: ArchiveLimits | None = None, shacl: bool = True,
                    batch_books: int = 500, load_bytes: int = 32 * 1024**2, workers: int = 1, keep_triples: bool = False,
                    identity: dict[str, str] | None = None,
                    progress: Progress | None = None, cancelled: Callable[[], bool] | None = None,
                    on_batch: Callable[[Package], None] | None = None) -> StreamedPackage:
    """Validate the unpacked package at ``root``, batch by batch (see the module doc). With
    ``keep_triples`` a valid package's triples are left in scratch N-Quads files for the load, one
    of about ``load_bytes`` (whole batches);
    ``identity`` folds merged works (kg.works.confirmed) into their canonical work first.
    ``on_batch(pkg)`` runs on each valid batch while its files are on disk (image pyramids)."""
    from kg.package import _shacl
    from kg.package.rdf import build, package_graph, preservation_graph

    progress = progress or (lambda phase, done, total: None)
    limits = limits or ArchiveLimits()
    scratch = Path(tempfile.mkdtemp(prefix="guji-stream-"))
    out = StreamedPackage(report, scratch=scratch)
    chunk = None  # the N-Quads load file being written
    try:
        data = root / "data"
        specs = specs_for(_peek_version(data / "submission.json"))
        table_paths = {f"data/{s.table.file}" for s in specs}
        bag, digests = _check_bag(root, report, table_paths)
        if bag is None:
            return out
        submission = _read_submission(data / "submission.json", report) or {}
        spill = _Spill(scratch)
        ids = Ids()
        links: dict[str, list[str]] = {}
        counts: dict[str, int] = {}
        total_bytes = sum((data / s.table.file).stat().st_size for s in specs if (data / s.table.file).is_file())
        done_bytes = 0
        declared_pua: dict[str, Row] = {}
        for spec in specs:
            path = data / spec.table.file
            if not path.is_file():
                if spec.table.required:
                    report.violation("table_missing", f"data/{spec.table.file}", f"缺少必备表格 {spec.table.file}（{spec.table.zh}）",
                                     f"the mandatory table {spec.table.file} ({spec.table.zh}) is missing")
                continue
            base = done_bytes
            with gc_paused():
                n, sha = _read_table(path, spec, ids, spill, report, links,
                                     lambda b, base=base: progress("reading", base + b, total_bytes))
            done_bytes += path.stat().st_size
            counts[spec.name] = n
            rel = f"data/{spec.table.file}"
            want = bag.entries.get(rel, {}).get("sha256", "").lower()
            if want and want != sha:
                report.violation("checksum_mismatch", rel, f"校验值不符：清单记为 {want}，实际为 {sha}",
                                 f"checksum mismatch: the manifest says {want}, the file has {sha}", field="sha256")
            digests[rel] = sha
            if cancelled and cancelled():
                raise IngestCancelledError("the ingest was cancelled while reading the tables; nothing was written")
        books = list(ids.books)
        batch_of = _batches(books, links, batch_books)
        spill.finish(batch_of, digests)
        n_batches = (max(batch_of.values()) + 1) if batch_of else 1
        out.books = len(books)
        # the private-use characters gaiji.csv declares: needed by every batch
        for r in spill.batch(0).get("gaiji", []):
            if re.match(r"^U\+[0-9A-Fa-f]{4,6}$", _v(r, "pua")) and _is_pua_code(_v(r, "pua")):
                declared_pua[chr(int(_v(r, "pua")[2:], 16))] = r
        _check_counts(submission, counts, report)
        out.digest = hashlib.sha256("\n".join(f"{p} {d}" for p, d in sorted(digests.items())).encode()).hexdigest()
        texts = 0
        triples = 0
        batch_name = None
        writers: list[tuple[Path, int]] = []
        done_books = 0
        jobs = [_BatchJob(n, root, spill.path, scratch, dict(bag.info), submission, declared_pua,
                          {"max_pixels": limits.max_image_pixels, "max_side": limits.max_image_side}, identity, shacl,
                          keep_triples, keep_graphs=n_batches == 1) for n in range(n_batches)]
        if cancelled and cancelled():
            raise IngestCancelledError("the ingest was cancelled while checking; nothing was written")
        with contextlib.closing(_checked_batches(jobs, workers)) as checked:  # leaving early stops the workers now
            for done in checked:
                # in batch order, as if one after the other: a batch's SHACL problems and quads count
                # only while the package is still valid
                report.problems.extend(done.checks)
                texts += done.texts
                done_books += done.books
                if report.valid and done.built:
                    report.problems.extend(done.shacl)
                    triples += done.triples
                    batch_name = done.batch
                    if n_batches == 1:
                        out.single = done.graphs
                    if keep_triples and report.valid:
                        if chunk is None:
                            chunk = open(scratch / f"load-{len(writers):05d}.nq", "wb")
                        with open(done.quads, "rb") as f:
                            shutil.copyfileobj(f, chunk, 1 << 20)
                        if chunk.tell() >= load_bytes:
                            chunk.close()
                            writers.append((Path(chunk.name), done_books))
                            chunk = None
                    if on_batch is not None and report.valid:
                        pkg = Package(root, dict(bag.info), submission)
                        pkg.images, pkg.digests = done.images, digests
                        on_batch(pkg)
                if done.quads is not None:
                    done.quads.unlink(missing_ok=True)
                progress("checking", done_books, len(books))
                if cancelled and cancelled():
                    raise IngestCancelledError("the ingest was cancelled while checking; nothing was written")
        if chunk is not None:
            chunk.close()
            writers.append((Path(chunk.name), done_books))
            chunk = None
        spill.close()
        report.counts = {spec.name: counts[spec.name] for spec in specs if spec.name in counts} | {"texts": texts}
        if report.valid:
            report.counts["triples"] = triples
            out.batch = batch_name
            if batch_name is not None:
                out.graphs = [package_graph(batch_name), preservation_graph(batch_name)]
            out.quads = writers
        return out
    except BaseException:
        if chunk is not None:
            chunk.close()
        out.cleanup()
        raise


def _check_counts(submission: dict, counts: dict[str, int], report: Report) -> None:
    declared = submission.get("counts")
    if not isinstance(declared, dict):
        return
    for key in ("books", "reels", "files", "gaiji"):
        have = counts.get(key, 0)
        if key in declared and declared[key] != have:
            report.violation("count_mismatch", "data/submission.json", f"提交说明中 {key} 数量为 {declared[key]}，实际为 {have}",
                             f"counts.{key} says {declared[key]} but {key}.csv has {have} rows", field=f"counts.{key}")
