"""``ElasticsearchIndex``: the same index on a real Elasticsearch 9 server.

Only core Elasticsearch is used (no analysis-common, no ICU, no scripts): the service sends the
match streams with characters separated by spaces, indexed with the core ``whitespace`` analyzer,
so every character (supplementary planes and private use included) is one token, exactly as in
Tantivy. Phrases are ``match_phrase`` on the text, on the marked boundary bridge and on the names
of annotated entities (``search.index``); facets are ``terms`` aggregations; snippets are built by
the service from the stored text.

Versions: the concrete indices are ``<prefix>-passages-v<ns>``; the alias ``<prefix>-passages``
points to the live one. A rebuild fills a new index (no refresh, no replicas), refreshes it and
switches the alias in one ``update_aliases`` call, then deletes the old index.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any

from search.errors import IndexNotFoundError, IndexOutdatedError, SearchBackendError
from search.index import (
    BRIDGE_MARK, FACETS, And, EngineHit, EngineQuery, EngineResult, IndexDoc, Node, Not, Or, Phrase, Progress,
    crossing_splits,
)
from search.passages import HEAD_CHARS

_MATCH_FIELDS = ("norm", "exact", "bridge_norm", "bridge_exact", "entity_norm", "entity_exact", "note_norm", "note_exact")

MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "_source": {"excludes": list(_MATCH_FIELDS)},
    "properties": {
        "id": {"type": "keyword"},
        "graph": {"type": "keyword"},
        "source_id": {"type": "keyword"},
        **{f: {"type": "text", "analyzer": "whitespace", "index_options": "positions"} for f in _MATCH_FIELDS},
        **{f: {"type": "keyword"} for f in FACETS},
        "annotation": {"type": "keyword"},
        "day_from": {"type": "integer"},  # the days a dated passage covers (YYYYMMDD)
        "day_to": {"type": "integer"},
        "order": {"type": "keyword"},
        "doc": {"type": "object", "enabled": False},
    },
}


class ElasticsearchIndex:
    name = "elasticsearch"

    def __init__(self, url: str | None = None, *, client: Any = None, prefix: str = "guji",
                 request_timeout: float = 60.0, bulk_chunk: int = 1000) -> None:
        if client is None and not url:
            raise SearchBackendError("ElasticsearchIndex needs a URL (GUJI_ES_URL) or a client", field="es_url")
        self.url = url
        self.alias = f"{prefix}-passages"
        self.request_timeout = request_timeout
        self.bulk_chunk = bulk_chunk
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:  # connect lazily: constructing the index never touches the network
            from elasticsearch import Elasticsearch

            self._client = Elasticsearch(self.url, request_timeout=self.request_timeout)
        return self._client

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from elasticsearch import ApiError, NotFoundError, TransportError

        try:
            return fn(*args, **kwargs)
        except NotFoundError as exc:
            raise IndexNotFoundError(f"no search index {self.alias!r} on Elasticsearch (run `guji index`)",
                                     reason=str(exc)) from None
        except (ApiError, TransportError) as exc:
            raise SearchBackendError(f"Elasticsearch {what} failed: {exc}") from exc

    # -- versions ------------------------------------------------------------------------------
    def version(self) -> str | None:
        from elasticsearch import NotFoundError

        try:
            found = self.client.indices.get_alias(name=self.alias)
        except NotFoundError:
            return None
        except Exception as exc:
            raise SearchBackendError(f"Elasticsearch is not reachable at {self.url}: {exc}") from exc
        names = sorted(found.body if hasattr(found, "body") else found)
        return names[-1] if names else None

    def _versions(self) -> list[str]:
        found = self._call("list indices", self.client.indices.get, index=f"{self.alias}-v*", allow_no_indices=True)
        return sorted(found.body if hasattr(found, "body") else found)

    def checkpoint(self) -> int:
        version = self.version()
        if version is None:
            return 0
        m = self._call("get mapping", self.client.indices.get_mapping, index=version)
        mappings = (m.body if hasattr(m, "body") else m)[version]["mappings"]
        missing = set(MAPPINGS["properties"]) - set(mappings.get("properties") or {})
        if missing:  # built by an older version: its strict mapping would refuse today's documents
            raise IndexOutdatedError(
                f"the search index {version!r} lacks the fields {', '.join(sorted(missing))}: rebuild it (`guji index`)",
                index=version)
        return int((mappings.get("_meta") or {}).get("checkpoint", 0))

    def set_checkpoint(self, sequence: int) -> None:
        version = self.version()
        if version is None:
            raise IndexNotFoundError(f"no search index {self.alias!r} on Elasticsearch (run `guji index`)")
        self._call("put mapping", self.client.indices.put_mapping, index=version, meta={"checkpoint": int(sequence)})

    # -- writing -------------------------------------------------------------------------------
    @staticmethod
    def _source(d: IndexDoc) -> dict[str, Any]:
        src: dict[str, Any] = {
            "id": d.id, "graph": d.graph, "source_id": d.source_id, "norm": d.norm, "exact": d.exact,
            "bridge_norm": d.bridge_norm, "bridge_exact": d.bridge_exact, "order": d.order, "doc": d.doc,
        }
        if d.entity_norm:
            src["entity_norm"], src["entity_exact"] = d.entity_norm, d.entity_exact
        if d.note_norm:
            src["note_norm"], src["note_exact"] = d.note_norm, d.note_exact
        src.update(d.keywords)
        if d.days is not None:
            src["day_from"], src["day_to"] = d.days
        return src

    def _actions(self, index: str, docs: Iterable[IndexDoc], counter: list[int], progress: Progress | None) -> Iterator[dict]:
        for d in docs:
            counter[0] += 1
            if progress and counter[0] % 1000 == 0:
                progress(1000)
            yield {"_index": index, "_id": d.id, "_source": self._source(d)}

    def _bulk(self, index: str, docs: Iterable[IndexDoc], progress: Progress | None = None) -> int:
        from elasticsearch import helpers

        counter = [0]
        try:
            for ok, item in helpers.parallel_bulk(self.client, self._actions(index, docs, counter, progress),
                                                  thread_count=2, chunk_size=self.bulk_chunk, queue_size=2,
                                                  raise_on_error=False):
                if not ok:
                    raise SearchBackendError(f"Elasticsearch refused a document: {item}")
        except SearchBackendError:
            raise
        except Exception as exc:
            raise SearchBackendError(f"Elasticsearch bulk indexing failed: {exc}") from exc
        if progress and counter[0] % 1000:
            progress(counter[0] % 1000)
        return counter[0]

    def add(self, docs: Iterable[IndexDoc]) -> int:
        if self.version() is None:
            raise IndexNotFoundError(f"no search index {self.alias!r} on Elasticsearch (run `guji index`)")
        return self._bulk(self.alias, docs)

    def delete_graph(self, graph: str) -> None:
        # _delete_by_query lives in the reindex module, which core Elasticsearch lacks: page through
        # the ids with search_after and delete them in bulk
        from elasticsearch import helpers

        after: list[Any] | None = None
        while True:
            page = self._call("search", self.client.search, index=self.alias, query={"term": {"graph": graph}},
                              sort=[{"id": "asc"}], size=5000, source=False, search_after=after)
            hits = page["hits"]["hits"]
            if not hits:
                break
            actions = [{"_op_type": "delete", "_index": h["_index"], "_id": h["_id"]} for h in hits]
            try:
                helpers.bulk(self.client, actions, raise_on_error=True)
            except Exception as exc:
                raise SearchBackendError(f"Elasticsearch bulk delete failed: {exc}") from exc
            after = hits[-1]["sort"]

    def annotated_graphs(self, annotations: Iterable[str]) -> set[str]:
        wanted = sorted(set(annotations))
        out: set[str] = set()
        for i in range(0, len(wanted), 10_000):  # under index.max_terms_count (65,536)
            r = self._call("search", self.client.search, index=self.alias, size=0,
                           query={"terms": {"annotation": wanted[i:i + 10_000]}},
                           aggs={"g": {"terms": {"field": "graph", "size": 65_000}}})
            out.update(b["key"] for b in r["aggregations"]["g"]["buckets"])
        return out

    def annotated_juans(self, annotations: Iterable[str]) -> dict[str, set[str]]:
        wanted = sorted(set(annotations))
        out: dict[str, set[str]] = {}
        for i in range(0, len(wanted), 1_000):
            r = self._call("search", self.client.search, index=self.alias, size=10_000,
                           query={"terms": {"annotation": wanted[i:i + 1_000]}}, source=["doc.graph", "doc.juan_iri"])
            for h in r["hits"]["hits"]:
                d = h["_source"]["doc"]
                out.setdefault(d["graph"], set()).add(d["juan_iri"])
        return out

    def graph_counts(self) -> dict[str, int]:
        r = self._call("search", self.client.search, index=self.alias, size=0,
                       aggs={"g": {"terms": {"field": "graph", "size": 65_000}}})
        return {b["key"]: int(b["doc_count"]) for b in r["aggregations"]["g"]["buckets"]}

    def stored(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        ids = list(ids)
        if not ids:
            return {}
        r = self._call("search", self.client.search, index=self.alias, size=len(ids), query={"ids": {"values": ids}},
                       source=["doc"])
        return {h["_id"]: h["_source"]["doc"] for h in r["hits"]["hits"]}

    def commit(self) -> None:
        self._call("refresh", self.client.indices.refresh, index=self.alias)

    def rebuild(self, docs: Iterable[IndexDoc], *, progress: Progress | None = None) -> int:
        name = f"{self.alias}-v{time.time_ns()}"
        self._call("create index", self.client.indices.create, index=name, mappings=MAPPINGS, settings={
            "number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "-1",
            "index": {"max_result_window": 10_000},
        })
        try:
            n = self._bulk(name, docs, progress)
            self._call("settings", self.client.indices.put_settings, index=name, settings={"index": {"refresh_interval": "1s"}})
            self._call("refresh", self.client.indices.refresh, index=name)
        except BaseException:
            self.client.indices.delete(index=name, ignore_unavailable=True)
            raise
        old = [v for v in self._versions() if v != name]
        actions: list[dict] = [{"remove": {"index": v, "alias": self.alias}} for v in old if self._has_alias(v)]
        actions.append({"add": {"index": name, "alias": self.alias, "is_write_index": True}})
        self._call("switch alias", self.client.indices.update_aliases, actions=actions)
        for v in old:
            self._call("delete old version", self.client.indices.delete, index=v, ignore_unavailable=True)
        return n

    def _has_alias(self, index: str) -> bool:
        return bool(self.client.indices.exists_alias(index=index, name=self.alias))

    def drop(self) -> None:
        for v in self._versions():
            self._call("delete", self.client.indices.delete, index=v, ignore_unavailable=True)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- reading -------------------------------------------------------------------------------
    def count(self) -> int:
        r = self._call("count", self.client.count, index=self.alias)
        return int(r["count"])

    def _compile(self, node: Node, exact: bool, commentary: bool = False) -> dict[str, Any]:
        if isinstance(node, Phrase):
            field = "exact" if exact else "norm"
            chars = node.chars
            main = {"term": {field: chars}} if len(chars) == 1 else {"match_phrase": {field: " ".join(chars)}}
            names = f"entity_{field}"  # the names of annotated entities
            named = {"term": {names: chars}} if len(chars) == 1 else {"match_phrase": {names: " ".join(chars)}}
            crossing = [{"match_phrase": {f"bridge_{field}": " ".join([*a, BRIDGE_MARK, *b])}}
                        for a, b in crossing_splits(chars, HEAD_CHARS)]
            notes = []
            if commentary:  # inside interlinear commentary too
                nf = f"note_{field}"
                notes = [{"term": {nf: chars}} if len(chars) == 1 else {"match_phrase": {nf: " ".join(chars)}}]
            return {"bool": {"should": [main, named, *notes, *crossing], "minimum_should_match": 1}}
        if isinstance(node, And):
            must = [self._compile(i, exact, commentary) for i in node.items if not isinstance(i, Not)]
            must_not = [self._compile(i.item, exact, commentary) for i in node.items if isinstance(i, Not)]
            return {"bool": {"must": must or [{"match_all": {}}], "must_not": must_not}}
        if isinstance(node, Or):
            return {"bool": {"should": [self._compile(i, exact, commentary) for i in node.items], "minimum_should_match": 1}}
        if isinstance(node, Not):
            return {"bool": {"must": [{"match_all": {}}], "must_not": [self._compile(node.item, exact, commentary)]}}
        raise TypeError(f"not a query node: {node!r}")

    def search(self, q: EngineQuery) -> EngineResult:
        query = self._compile(q.root, q.exact, q.commentary)
        filters: list[dict[str, Any]] = [{"terms": {f: list(v)}} for f, v in q.filters.items()]
        if q.days is not None:  # the passage's days overlap the asked ones (undated passages have no day_from)
            first, last = q.days
            filters.append({"range": {"day_from": {"lte": last if last is not None else 99_999_999}}})
            filters.append({"range": {"day_to": {"gte": first if first is not None else -99_999_999}}})
        if filters:
            query = {"bool": {"must": [query], "filter": filters}}
        body: dict[str, Any] = {
            "query": query, "from": q.offset, "size": q.limit, "track_total_hits": True, "_source": ["doc"],
        }
        if q.sort == "work":
            body["sort"] = [{"order": "asc"}]
        else:  # equal scores in the work order, as TantivyIndex breaks them: page 1 is the same on both
            body["sort"] = [{"_score": "desc"}, {"order": "asc"}]
        if q.facets:
            body["aggs"] = {f: {"terms": {"field": f, "size": q.facet_size}} for f in q.facets}
        r = self._call("search", self.client.search, index=self.alias, **body)
        hits = [EngineHit(h["_source"]["doc"]["id"], h.get("_score"), h["_source"]["doc"]) for h in r["hits"]["hits"]]
        facets = {f: [(b["key"], int(b["doc_count"])) for b in r.get("aggregations", {}).get(f, {}).get("buckets", [])]
                  for f in q.facets}
        return EngineResult(int(r["hits"]["total"]["value"]), hits, facets)
