"""``TantivyIndex``: the embedded default, a Tantivy index on disk (the ``tantivy`` package).

Layout under ``path``: one directory per version (``v<ns>``) and a ``CURRENT`` file naming the
live one. A rebuild fills a new directory, then replaces ``CURRENT`` atomically (``os.replace``)
and deletes the old directory; readers in other processes notice ``CURRENT`` change and reopen.

Text fields use Tantivy's ``whitespace`` tokenizer over characters the service has already
separated by spaces, so every CJK character (supplementary planes and private use included) is
one token and a phrase is a character sequence; Tantivy's default tokenizer is never used on CJK.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import tantivy
from tantivy import Occur, Query

from search.errors import IndexNotFoundError, IndexOutdatedError, SearchBackendError
from search.index import (
    BRIDGE_MARK, FACETS, And, EngineHit, EngineQuery, EngineResult, IndexDoc, Node, Not, Or, Phrase, Progress,
    crossing_splits,
)
from search.passages import HEAD_CHARS

_HEAP = 256 * 1024 * 1024
_MATCH_FIELDS = ("norm", "exact", "bridge_norm", "bridge_exact", "entity_norm", "entity_exact", "note_norm", "note_exact")


def _schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", tokenizer_name="raw", index_option="basic")
    sb.add_text_field("graph", tokenizer_name="raw", index_option="basic", fast=True)
    sb.add_text_field("source_id", tokenizer_name="raw", index_option="basic", fast=True)
    for f in _MATCH_FIELDS:
        sb.add_text_field(f, tokenizer_name="whitespace", index_option="position")
    for f in FACETS:
        sb.add_text_field(f, tokenizer_name="raw", index_option="basic", fast=True)
    sb.add_text_field("annotation", tokenizer_name="raw", index_option="basic")
    # the days a dated passage covers (YYYYMMDD); undated passages have neither
    sb.add_integer_field("day_from", indexed=True, fast=True)
    sb.add_integer_field("day_to", indexed=True, fast=True)
    # stored too: equal scores are ordered by it, read without parsing the stored passage
    sb.add_text_field("order", tokenizer_name="raw", index_option="basic", fast=True, stored=True)
    sb.add_bytes_field("doc", stored=True)
    return sb.build()


class TantivyIndex:
    name = "tantivy"

    def __init__(self, path: Path | str, *, heap_size: int = _HEAP, threads: int = 0) -> None:
        self.root = Path(path)
        self.heap_size = heap_size
        self.threads = threads
        self.schema = _schema()
        self._lock = threading.RLock()
        self._index: tantivy.Index | None = None
        self._index_version: str | None = None
        self._current_stamp: int | None = None
        self._writer: Any = None
        self._current_path = str(self.root / "CURRENT")

    # -- versions ------------------------------------------------------------------------------
    @property
    def _current_file(self) -> Path:
        return self.root / "CURRENT"

    def version(self) -> str | None:
        try:
            return self._current_file.read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            return None

    def _open(self) -> tantivy.Index:
        """The index ``CURRENT`` names, reopened when another process switched it."""
        with self._lock:
            try:
                stamp = os.stat(self._current_path).st_mtime_ns
            except FileNotFoundError:
                raise IndexNotFoundError(f"no search index at {self.root} (run `guji index`)", path=str(self.root)) from None
            if self._index is None or stamp != self._current_stamp:
                version = self.version()
                if self._index is None or version != self._index_version:
                    self._drop_writer()
                    try:
                        self._index = tantivy.Index(self.schema, path=str(self.root / version), reuse=True)
                    except Exception as exc:  # tantivy raises ValueError/OSError variants
                        if "schema does not match" in str(exc):
                            raise IndexOutdatedError(
                                f"the search index {self.root / version} was built with other fields than this "
                                "version of guji indexes: rebuild it (`guji index`)", path=str(self.root)) from None
                        raise SearchBackendError(f"cannot open the search index {self.root / version}: {exc}") from exc
                    self._index_version = version
                self._current_stamp = stamp
            return self._index

    def _new_version(self) -> tuple[str, Path]:
        self.root.mkdir(parents=True, exist_ok=True)
        version = f"v{time.time_ns()}"
        path = self.root / version
        path.mkdir()
        return version, path

    def _switch(self, version: str) -> None:
        tmp = self.root / f"CURRENT.{os.getpid()}.tmp"
        tmp.write_text(version + "\n", encoding="utf-8")
        os.replace(tmp, self._current_file)
        for old in self.root.iterdir():
            if old.name.startswith("v") and not old.name.startswith(version):
                if old.is_dir():
                    shutil.rmtree(old, ignore_errors=True)
                else:
                    old.unlink(missing_ok=True)

    # -- writing -------------------------------------------------------------------------------
    def _doc(self, d: IndexDoc) -> tantivy.Document:
        doc = tantivy.Document(id=d.id, graph=d.graph, source_id=d.source_id, norm=d.norm, exact=d.exact,
                               bridge_norm=d.bridge_norm, bridge_exact=d.bridge_exact, order=d.order)
        if d.entity_norm:  # most passages have no annotated entity
            doc.add_text("entity_norm", d.entity_norm)
            doc.add_text("entity_exact", d.entity_exact)
        if d.note_norm:  # nor commentary
            doc.add_text("note_norm", d.note_norm)
            doc.add_text("note_exact", d.note_exact)
        for f, values in d.keywords.items():
            for v in values:
                doc.add_text(f, v)
        if d.days is not None:
            doc.add_integer("day_from", d.days[0])
            doc.add_integer("day_to", d.days[1])
        doc.add_bytes("doc", json.dumps(d.doc, ensure_ascii=False).encode("utf-8"))
        return doc

    def _get_writer(self) -> Any:
        if self._writer is None:
            index = self._open()
            try:
                self._writer = index.writer(heap_size=max(self.heap_size // 4, 20_000_000), num_threads=1)
            except Exception as exc:
                raise SearchBackendError(f"the search index is being written by another process: {exc}") from exc
        return self._writer

    def _drop_writer(self) -> None:
        if self._writer is not None:
            try:
                self._writer.rollback()
            except Exception:
                pass
            self._writer = None

    def add(self, docs: Iterable[IndexDoc]) -> int:
        with self._lock:
            w = self._get_writer()
            n = 0
            for d in docs:
                w.delete_documents_by_term("id", d.id)
                w.add_document(self._doc(d))
                n += 1
            return n

    def delete_graph(self, graph: str) -> None:
        with self._lock:
            self._get_writer().delete_documents_by_term("graph", graph)

    def annotated_graphs(self, annotations: Iterable[str]) -> set[str]:
        wanted = sorted(set(annotations))
        if not wanted:
            return set()
        searcher = self._open().searcher()
        out: set[str] = set()
        for i in range(0, len(wanted), 10_000):
            query = Query.term_set_query(self.schema, "annotation", wanted[i:i + 10_000])
            agg = searcher.aggregate(query, {"g": {"terms": {"field": "graph", "size": 65_000}}})
            out.update(b["key"] for b in agg.get("g", {}).get("buckets", []))
        return out

    def annotated_juans(self, annotations: Iterable[str]) -> dict[str, set[str]]:
        wanted = sorted(set(annotations))
        out: dict[str, set[str]] = {}
        if not wanted:
            return out
        searcher = self._open().searcher()
        for i in range(0, len(wanted), 10_000):
            query = Query.term_set_query(self.schema, "annotation", wanted[i:i + 10_000])
            n = searcher.search(query, limit=1).count
            if not n:
                continue
            for _, addr in searcher.search(query, limit=n).hits:
                d = json.loads(bytes(searcher.doc(addr).get_first("doc")))
                out.setdefault(d["graph"], set()).add(d["juan_iri"])
        return out

    def graph_counts(self) -> dict[str, int]:
        searcher = self._open().searcher()
        agg = searcher.aggregate(Query.all_query(), {"g": {"terms": {"field": "graph", "size": 65_000}}})
        return {b["key"]: int(b["doc_count"]) for b in agg.get("g", {}).get("buckets", [])}

    def stored(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        searcher = self._open().searcher()
        out: dict[str, dict[str, Any]] = {}
        for i in ids:
            found = searcher.search(self._term("id", i), limit=1).hits
            if found:
                out[i] = json.loads(bytes(searcher.doc(found[0][1]).get_first("doc")))
        return out

    def commit(self) -> None:
        with self._lock:
            if self._writer is None:
                return
            w, self._writer = self._writer, None
            w.commit()
            w.wait_merging_threads()  # releases the writer lock for other processes
            self._open().reload()

    def rebuild(self, docs: Iterable[IndexDoc], *, progress: Progress | None = None) -> int:
        version, path = self._new_version()
        try:
            index = tantivy.Index(self.schema, path=str(path))
            writer = index.writer(heap_size=self.heap_size, num_threads=self.threads)
            n = 0
            for d in docs:
                writer.add_document(self._doc(d))
                n += 1
                if progress and n % 1000 == 0:
                    progress(1000)
            writer.commit()
            writer.wait_merging_threads()
            if progress and n % 1000:
                progress(n % 1000)
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise
        with self._lock:
            self._drop_writer()
            self._switch(version)
            self._index, self._index_version, self._current_stamp = None, None, None
        return n

    def _meta_file(self) -> Path:
        version = self.version()
        if version is None:
            raise IndexNotFoundError(f"no search index at {self.root} (run `guji index`)", path=str(self.root))
        return self.root / f"{version}.meta.json"

    def checkpoint(self) -> int:
        self._open()  # an index of an older schema says so here (IndexOutdatedError): sync rebuilds it
        try:
            return int(json.loads(self._meta_file().read_text(encoding="utf-8")).get("checkpoint", 0))
        except FileNotFoundError:
            return 0

    def set_checkpoint(self, sequence: int) -> None:
        path = self._meta_file()
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"checkpoint": int(sequence)}), encoding="utf-8")
        os.replace(tmp, path)

    def drop(self) -> None:
        with self._lock:
            self._drop_writer()
            self._index = None
            shutil.rmtree(self.root, ignore_errors=True)

    def close(self) -> None:
        with self._lock:
            if self._writer is not None:
                self.commit()
            self._index = None

    # -- reading -------------------------------------------------------------------------------
    def count(self) -> int:
        return self._open().searcher().num_docs

    def _term(self, field: str, value: str) -> Query:
        return Query.term_query(self.schema, field, value, index_option="basic")

    def _compile(self, node: Node, exact: bool, commentary: bool = False) -> Query:
        if isinstance(node, Phrase):
            field = "exact" if exact else "norm"
            chars = node.chars
            if len(chars) == 1:
                main = Query.term_query(self.schema, field, chars)
            else:
                main = Query.phrase_query(self.schema, field, list(chars))
            names = f"entity_{field}"  # the names of annotated entities
            named = (Query.term_query(self.schema, names, chars) if len(chars) == 1
                     else Query.phrase_query(self.schema, names, list(chars)))
            bridge = f"bridge_{field}"
            notes = []
            if commentary:  # inside interlinear commentary too
                nf = f"note_{field}"
                notes = [(Occur.Should, Query.term_query(self.schema, nf, chars) if len(chars) == 1
                          else Query.phrase_query(self.schema, nf, list(chars)))]
            return Query.boolean_query([(Occur.Should, main), (Occur.Should, named)] + notes + [
                (Occur.Should, Query.phrase_query(self.schema, bridge, [*a, BRIDGE_MARK, *b]))
                for a, b in crossing_splits(chars, HEAD_CHARS)])
        if isinstance(node, And):
            subs = [(Occur.MustNot, self._compile(i.item, exact, commentary)) if isinstance(i, Not)
                    else (Occur.Must, self._compile(i, exact, commentary)) for i in node.items]
            if all(o == Occur.MustNot for o, _ in subs):
                subs.append((Occur.Must, Query.all_query()))
            return Query.boolean_query(subs)
        if isinstance(node, Or):
            return Query.boolean_query([(Occur.Should, self._compile(i, exact, commentary)) for i in node.items])
        if isinstance(node, Not):
            return Query.boolean_query([(Occur.Must, Query.all_query()), (Occur.MustNot, self._compile(node.item, exact, commentary))])
        raise TypeError(f"not a query node: {node!r}")

    def _query(self, q: EngineQuery) -> Query:
        main = self._compile(q.root, q.exact, q.commentary)
        if not q.filters and q.days is None:
            return main
        parts = [(Occur.Must, Query.boolean_query([(Occur.Should, self._term(f, v)) for v in values]))
                 for f, values in q.filters.items()]
        if q.days is not None:  # the passage's days overlap the asked ones: from <= last asked, to >= first asked
            first, last = q.days
            parts.append((Occur.Must, Query.range_query(self.schema, "day_from", tantivy.FieldType.Integer,
                                                        None, last if last is not None else 99_999_999)))
            parts.append((Occur.Must, Query.range_query(self.schema, "day_to", tantivy.FieldType.Integer,
                                                        first if first is not None else -99_999_999, None)))
        return Query.boolean_query([(Occur.Must, main), (Occur.Must, Query.const_score_query(Query.boolean_query(parts), 0.0))])

    @staticmethod
    def _by_relevance(searcher: Any, query: Query, offset: int, limit: int) -> tuple[Any, list]:
        """One page by score, equal scores in the work order (``order``) as Elasticsearch sorts
        them: fetch past the page until the score drops below the page's last one, then order only
        the hits whose score lies within the page's range (the page and its ties)."""
        want = offset + limit
        extra = 32
        while True:
            res = searcher.search(query, want + extra, count=True)
            hits = res.hits
            if len(hits) < want + extra or len(hits) <= want or hits[-1][0] < hits[want - 1][0]:
                break
            extra *= 4
        if offset >= len(hits):
            return res, []
        top, bottom = hits[offset][0], hits[min(want, len(hits)) - 1][0]
        above = sum(1 for score, _ in hits if score > top)  # before the page whatever the order of ties
        candidates = []
        for score, addr in hits:
            if bottom <= score <= top:
                stored = searcher.doc(addr)
                candidates.append((score, stored.get_first("order") or "", stored))
        candidates.sort(key=lambda x: (-x[0], x[1]))
        start = offset - above
        page = candidates[start:start + limit]  # only the page's passages are parsed
        return res, [(score, None, json.loads(bytes(stored.get_first("doc")))) for score, _, stored in page]

    def search(self, q: EngineQuery) -> EngineResult:
        index = self._open()
        searcher = index.searcher()
        query = self._query(q)
        try:
            if q.sort == "work":
                res = searcher.search(query, q.limit, count=True, offset=q.offset, order_by_field="order",
                                      order=tantivy.Order.Asc)
                page = [(score, addr, json.loads(bytes(searcher.doc(addr).get_first("doc")))) for score, addr in res.hits]
            else:
                res, page = self._by_relevance(searcher, query, q.offset, q.limit)
        except SearchBackendError:
            raise
        except Exception as exc:
            raise SearchBackendError(f"tantivy search failed: {exc}") from exc
        hits = [EngineHit(doc["id"], score if q.sort == "relevance" else None, doc) for score, _, doc in page]
        facets: dict[str, list[tuple[str, int]]] = {}
        if q.facets and res.count:
            agg = searcher.aggregate(query, {f: {"terms": {"field": f, "size": q.facet_size}} for f in q.facets})
            for f in q.facets:
                facets[f] = [(b["key"], int(b["doc_count"])) for b in agg.get(f, {}).get("buckets", [])]
        elif q.facets:
            facets = {f: [] for f in q.facets}
        return EngineResult(res.count or 0, hits, facets)
