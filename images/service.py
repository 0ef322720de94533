"""The image service: resolves IIIF image ids through the store's public graphs, renders Image API
requests from the pyramids (with an in-memory LRU of answers and ETags), and builds the
Presentation 3 manifests and collections (images.presentation).

An image id is ``<batch>~<file id>`` (the tail of the file's IRI ``id:file/<batch>/<file id>``).
Only a service-level file of a public graph that has a pyramid resolves; a preservation master is
in no public graph, so it is "not found" like anything else that does not exist.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

import pyoxigraph as ox

from images import iiif
from images.errors import ImageNotFoundError
from images.store import PyramidStore
from kg.catalog import catalogue_graphs
from kg.namespaces import GUJIV, ID, sparql_prefixes
from kg.sparql import public_dataset

PREFIXES = sparql_prefixes()
_ID = re.compile(r"^([A-Za-z0-9_.-]+)~([A-Za-z0-9_.-]+)$")


@dataclass(frozen=True)
class ImageRecord:
    image_id: str
    file_iri: str
    sha256: str
    width: int
    height: int


def image_id_of(file_iri: str) -> str:
    batch, file_id = file_iri.removeprefix(f"{ID}file/").split("/", 1)
    return f"{batch}~{file_id}"


class _LRU:
    def __init__(self, budget: int) -> None:
        self.budget, self.used, self.items = budget, 0, OrderedDict()
        self.lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key):
        with self.lock:
            value = self.items.get(key)
            if value is None:
                self.misses += 1
                return None
            self.items.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key, value: bytes) -> None:
        if len(value) > self.budget // 4:
            return
        with self.lock:
            if key in self.items:
                return
            self.items[key] = value
            self.used += len(value)
            while self.used > self.budget and self.items:
                _, old = self.items.popitem(last=False)
                self.used -= len(old)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()
            self.used = 0


class ImageService:
    def __init__(self, store, pyramids: PyramidStore, *, base_url: str, cache_bytes: int = 64 * 1024 * 1024,
                 render_slots: int = 4) -> None:
        self.store = store
        self.pyramids = pyramids
        self.base_url = base_url.rstrip("/") + "/"
        self.cache = _LRU(cache_bytes)
        self._records: dict[str, tuple[int, ImageRecord | None]] = {}
        self._docs: OrderedDict = OrderedDict()
        self._docs_lock = threading.Lock()
        self._renders = threading.BoundedSemaphore(render_slots)

    # -- the store, public graphs only ---------------------------------------------------------

    def select(self, query: str, **bindings) -> list[dict]:
        graphs, _ = public_dataset(catalogue_graphs(self.store.graphs()))
        if bindings:
            names = " ".join(f"?{k}" for k in bindings)
            values = " ".join(str(v) for v in bindings.values())
            at = query.index("{", query.upper().index("WHERE")) + 1
            query = f"{query[:at]} VALUES ({names}) {{ ({values}) }} {query[at:]}"
        rows = self.store.query(PREFIXES + query, default_graph=[ox.NamedNode(g) for g in graphs] or [ox.DefaultGraph()])
        return [{v.value: (None if r[v] is None else r[v].value) for v in rows.variables} for r in rows]

    def record(self, image_id: str) -> ImageRecord:
        m = _ID.match(image_id)
        if not m:
            raise ImageNotFoundError(f"no image {image_id!r} (ids look like <batch>~<file id>)", image=image_id)
        seq = self.store.last_sequence()
        cached = self._records.get(image_id)
        if cached is None or cached[0] != seq:
            rows = self.select("""
                SELECT ?sha ?w ?h WHERE {
                  ?file guji:accessLevel ?level ; premis:fixity/rdf:value ?sha ; guji:pixelWidth ?w ; guji:pixelHeight ?h .
                }""", file=ox.NamedNode(f"{ID}file/{m.group(1)}/{m.group(2)}"),
                level=ox.NamedNode(f"{GUJIV}access-level/service"))
            rec = None
            if rows:
                r = rows[0]
                rec = ImageRecord(image_id, f"{ID}file/{m.group(1)}/{m.group(2)}", r["sha"], int(r["w"]), int(r["h"]))
                if len(self._records) > 100_000:  # ids that exist only; a flood of made-up ids caches nothing
                    self._records.clear()
                self._records[image_id] = (seq, rec)
            cached = (seq, rec)
        rec = cached[1]
        if rec is None or not self.pyramids.has(rec.sha256):
            raise ImageNotFoundError(f"no public image {image_id!r}", image=image_id)
        return rec

    # -- Image API ------------------------------------------------------------------------------

    def service_id(self, image_id: str) -> str:
        return f"{self.base_url}iiif/image/{image_id}"

    def info(self, image_id: str) -> tuple[dict, str]:
        rec = self.record(image_id)
        levels = self.pyramids.levels(rec.sha256)
        body = iiif.info(self.service_id(image_id), rec.width, rec.height, levels)
        return body, _etag(rec.sha256, "info", self.base_url)

    def etag(self, image_id: str, region: str, size: str, rotation: str, quality_format: str) -> tuple[iiif.ImageRequest, ImageRecord, str]:
        rec = self.record(image_id)
        req = iiif.parse(region, size, rotation, quality_format, rec.width, rec.height)
        return req, rec, _etag(rec.sha256, req.key)

    def image(self, image_id: str, region: str, size: str, rotation: str, quality_format: str) -> tuple[bytes, str, str]:
        """(bytes, media type, ETag) of one Image API request."""
        req, rec, tag = self.etag(image_id, region, size, rotation, quality_format)
        key = (rec.sha256, req.key)
        data = self.cache.get(key)
        if data is None:
            with self._renders:  # at most a few renders at once: a large answer holds tens of MB while it is made
                data = iiif.render(str(self.pyramids.path(rec.sha256)), req, rec.width)
            self.cache.put(key, data)
        return data, iiif.FORMATS[req.format], tag

    # -- Presentation API -----------------------------------------------------------------------

    def _document(self, kind: str, key: str) -> dict:
        """A manifest or collection, built once per state of the store: any write (an ingest, an
        approval) moves the change log on and the next request builds it anew."""
        from images import presentation

        seq = self.store.last_sequence()
        with self._docs_lock:
            hit = self._docs.get((kind, key))
            if hit is not None and hit[0] == seq:
                self._docs.move_to_end((kind, key))
                return hit[1]
        doc = getattr(presentation, kind)(self, key)
        with self._docs_lock:
            self._docs[(kind, key)] = (seq, doc)
            while len(self._docs) > 64:
                self._docs.popitem(last=False)
        return doc

    def book_manifest(self, census_no: str) -> dict:
        return self._document("book_manifest", census_no)

    def reel_manifest(self, reel_id: str) -> dict:
        return self._document("reel_manifest", reel_id)

    def book_collection(self, census_no: str) -> dict:
        return self._document("book_collection", census_no)

    def work_collection(self, work: str) -> dict:
        return self._document("work_collection", work)


def _etag(*parts: str) -> str:
    return '"' + hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32] + '"'
