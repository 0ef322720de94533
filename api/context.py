"""The composition root: builds the stores and services from the one Settings object.

Both the CLI and the FastAPI app get their collaborators here, so there is exactly one place that
knows which backend is configured. Everything is opened lazily: a command that only reads the
store never starts a SPARQL worker, and an unused backend costs nothing.
"""

from __future__ import annotations

import threading
import time
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from api.settings import Settings
from kg.errors import StoreError
from kg.sparql import QueryRunner
from kg.store import OxigraphStore

if TYPE_CHECKING:
    from accounts.secrets import SigningKey
    from accounts.service import AuthService
    from accounts.throttle import RateLimiter
    from accounts.users import UserStore
    from annotation.service import AnnotationService
    from kg.sparql_remote import RemoteQueryRunner

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "samples"


class Context:
    def __init__(self, settings: Settings, *, read_only: bool = False) -> None:
        self.settings = settings
        self.read_only = read_only
        self._size_lock = threading.Lock()
        self._size: tuple[int, float, tuple[int, int]] | None = None

    def store_size(self, max_age: float = 60.0) -> tuple[int, int]:
        """(quads, graphs) of the canonical store for /healthz. Counting walks the whole store (75 ms
        at 627k quads, more with every annotation graph), so it is counted again only after a write
        and at most every ``max_age`` seconds; callers meanwhile share one count instead of each
        starting their own (an unauthenticated /healthz flood must not occupy the cores)."""
        with self._size_lock:
            sequence, now = self.store.last_sequence(), time.monotonic()
            if self._size is not None:
                seen, at, size = self._size
                if seen == sequence or now - at < max_age:
                    return size
            size = (self.store.count(), len(self.store.graphs()))
            self._size = (sequence, now, size)
            return size

    @cached_property
    def store(self) -> OxigraphStore:
        path = self.settings.oxigraph_path
        if self.read_only and (path / "CURRENT").exists():
            return OxigraphStore.open_read_only(path)
        store = OxigraphStore(path)
        if self.read_only:  # a fresh home: create the store once, then read it
            store.close()
            return OxigraphStore.open_read_only(path)
        return store

    @cached_property
    def public_sparql(self):
        """The public SPARQL dataset as a projection: embedded Oxigraph (default) or a remote
        SPARQL 1.1 server (GUJI_SPARQL_BACKEND, GUJI_SPARQL_URL; its checkpoint in $GUJI_HOME/sparql-remote)."""
        s = self.settings
        if s.sparql_backend != "embedded":
            from kg.sparql_remote import Endpoints
            from projections.remote_sparql import RemoteSparqlDataset, ReplicatedSparqlDataset

            auth = (s.sparql_user, s.sparql_password or "") if s.sparql_user else None
            servers = [RemoteSparqlDataset(Endpoints.of(s.sparql_backend, url), s.home / "sparql-remote", auth=auth)
                       for url in [s.sparql_url, *s.sparql_replica_urls]]
            return servers[0] if len(servers) == 1 else ReplicatedSparqlDataset(servers)
        from projections.public_sparql import OxigraphPublicDataset

        return OxigraphPublicDataset(self.settings.public_store_path)

    @cached_property
    def sparql(self) -> "QueryRunner | RemoteQueryRunner":
        """Public SPARQL queries: over the public dataset, union default graph, in killable workers
        (embedded), or sent to the SPARQL server that holds it (the same limits, checked here too)."""
        s = self.settings
        if s.sparql_backend != "embedded":
            from kg.sparql_remote import Endpoints, RemoteQueryRunner

            return RemoteQueryRunner(
                [Endpoints.of(s.sparql_backend, url) for url in [s.sparql_url, *s.sparql_replica_urls]],
                timeout=s.sparql_timeout,
                max_results=s.sparql_max_results,
                allow_service=s.sparql_allow_service,
                concurrency=s.sparql_workers,
                per_client=s.sparql_per_client,
                max_query_bytes=s.sparql_max_query_bytes,
                max_query_depth=s.sparql_max_query_depth,
                auth=(s.sparql_user, s.sparql_password or "") if s.sparql_user else None,
            )
        path = s.public_store_path
        if not (path / "CURRENT").exists():  # never built: build it once (a read-only command on an old home)
            if self.read_only:
                raise StoreError(
                    f"the public SPARQL dataset at {path} has not been built yet: start `guji serve` or run `guji sync` once",
                    path=str(path))
            self.sync_projections()
        if not self.read_only and "public_sparql" in self.__dict__:
            self.public_sparql._store.flush()
        return QueryRunner(
            path,
            workers=s.sparql_workers,
            timeout=s.sparql_timeout,
            max_results=s.sparql_max_results,
            allow_service=s.sparql_allow_service,
            union_default_graph=True,
            generation=s.public_store_path.parent / (s.public_store_path.name + ".state.json"),
            memory_mb=s.sparql_worker_memory_mb,
            per_client=s.sparql_per_client,
            max_query_bytes=s.sparql_max_query_bytes,
            max_query_depth=s.sparql_max_query_depth,
            cache_bytes=s.sparql_cache_mb * 1024 * 1024,
        )

    def archive_limits(self):
        """What a package may unpack to and what its images may be (checked before any parser runs)."""
        from kg.package import ArchiveLimits

        s = self.settings
        return ArchiveLimits(max_bytes=s.max_unpacked_bytes, max_members=s.max_package_files,
                             max_ratio=s.max_compression_ratio, max_image_pixels=s.max_image_pixels,
                             max_image_side=s.max_image_side)

    @cached_property
    def pyramids(self):
        from images.store import PyramidStore

        return PyramidStore(self.settings.images_path)

    @cached_property
    def images(self):
        """The IIIF Image API and the Presentation manifests over the public graphs."""
        from images.service import ImageService

        return ImageService(self.store, self.pyramids, base_url=self.settings.base_url,
                            cache_bytes=self.settings.image_cache_bytes)

    @cached_property
    def search(self):
        from search.backends import index_from_settings
        from search.service import SearchService

        return SearchService(index_from_settings(self.settings), store=self.store)

    @cached_property
    def neo4j(self):
        """The Neo4j projection, or None when GUJI_NEO4J_URI is not set."""
        if not self.settings.neo4j_uri:
            return None
        from projections.neo4j import Neo4jProjection

        s = self.settings
        return Neo4jProjection(s.neo4j_uri, user=s.neo4j_user, password=s.neo4j_password, database=s.neo4j_database)

    @cached_property
    def projector(self):
        """Every configured projection behind one projector (started by ``guji serve``)."""
        from projections import Projector
        from projections.search import SearchProjection

        enabled = set(self.settings.projections)
        projections = []
        if "search" in enabled:
            projections.append(SearchProjection(self.search))
        if "sparql" in enabled:
            projections.append(self.public_sparql)
        if "neo4j" in enabled and self.neo4j is not None:
            projections.append(self.neo4j)
        if "editions" in enabled and not self.read_only:
            from editions.projection import EditionProposalProjection

            projections.append(EditionProposalProjection(self.editions, self.settings.home / "editions-projection.json"))
        s = self.settings
        return Projector(self.store, projections, poll_interval=s.projector_poll_seconds,
                         max_backoff=s.projector_max_backoff_seconds)

    def start_projector(self) -> None:
        """Live projections: wake on every commit of this process's store, catch up now."""
        self.store.subscribe(self.projector.notify)
        self.projector.start()

    def sync_projections(self, *, rebuild: bool = False) -> dict[str, dict | str]:
        """Catch every configured projection up with the change log now. A projection that is
        down loses nothing: it is reported here and catches up later (the running server's
        projector retries it by itself)."""
        return self.projector.catch_up(rebuild=rebuild)

    def check_projections(self) -> dict[str, dict]:
        return self.projector.check()

    @cached_property
    def users(self) -> "UserStore":
        from accounts.users import UserStore

        from accounts.passwords import PasswordHashing

        s = self.settings
        hashing = PasswordHashing(fast=s.environment == "test", slots=s.password_hashing_slots, wait=s.password_hashing_wait)
        return UserStore(s.users_path, hashing=hashing)

    @cached_property
    def rate_limiter(self) -> "RateLimiter":
        """Request counters of this process (api.limits.per_client, logins per user name)."""
        from accounts.throttle import RateLimiter

        return RateLimiter()

    @cached_property
    def signing_key(self) -> "SigningKey":
        """The token key; SecretKeyError when production has none or it is weak."""
        from accounts.secrets import signing_key

        return signing_key(self.settings.secret_key, self.settings.environment, self.settings.home)

    @cached_property
    def auth(self) -> "AuthService":
        from accounts.service import AuthService
        from accounts.tokens import TokenSigner

        from accounts.throttle import Lockout

        s = self.settings
        return AuthService(self.users, TokenSigner(self.signing_key.value, s.token_ttl_seconds),
                           lockout=Lockout(s.lockout_failures, s.lockout_seconds),
                           limiter=self.rate_limiter, per_user=s.login_limit_per_user)

    @cached_property
    def annotations(self) -> "AnnotationService":
        from annotation.service import AnnotationService

        # the project and organisation of a new annotation (organisations/), resolved lazily
        return AnnotationService(self.store, delegation=lambda *args: self.organisations.delegation(*args))

    @cached_property
    def organisations(self):
        """Organisations and annotation projects; memberships in $GUJI_HOME/organisations.sqlite3."""
        from organisations.members import MemberStore
        from organisations.service import OrganisationService

        return OrganisationService(self.store, MemberStore(self.settings.home / "organisations.sqlite3"),
                                   users=self.users, annotations=self.annotations)

    @cached_property
    def editions(self):
        """Cross-edition proposals (editions/): the review queue and accepting/rejecting."""
        from editions.service import EditionService

        return EditionService(self.store, self.annotations)

    @cached_property
    def acceptance(self):
        from acceptance.service import AcceptanceService

        return AcceptanceService(self.store, users=self.users, outbox=self.settings.outbox_path, usage=self.usage)

    @cached_property
    def usage(self):
        """Per-unit use counts (views, searches, downloads) under $GUJI_HOME/usage.sqlite3."""
        from acceptance.usage import UsageCounter

        return UsageCounter(self.settings.home / "usage.sqlite3")

    @cached_property
    def attribution(self):
        from acceptance.usage import Attribution

        return Attribution(self.store)

    def count_use(self, iris, kind: str) -> None:
        """Credit the units whose resources a public request showed; never fails the request."""
        import logging

        try:
            self.usage.add(self.attribution.units_of(i for i in iris if i), kind)
        except Exception:  # noqa: BLE001 - statistics must not break reading
            logging.getLogger("guji.usage").exception("counting %s failed", kind)

    def replace_texts(self, graph: str, triples: list, *, agent: str, also: dict | None = None):
        """Write a source graph that holds juan texts (with ``also``, more graphs in the same
        transaction), then re-anchor the annotations of every juan whose text changed (moved when
        the quote is found once, flagged for review otherwise; never a silent move). Returns
        (change of ``graph`` or None, re-anchor reports)."""
        import pyoxigraph as ox

        from accounts.identity import Identity
        from kg.namespaces import GUJI

        text_p = ox.NamedNode(GUJI + "text")
        old = {q.subject.value: q.object.value for q in self.store.oxigraph.quads_for_pattern(None, text_p, None, ox.NamedNode(graph))}
        changes = self.store.replace_graphs({graph: triples, **(also or {})}, agent=agent)
        change = next((c for c in changes if c.graph == graph), None)
        reports = []
        if change is not None and old:
            new = {t.subject.value: t.object.value for t in triples if t.predicate == text_p}
            for juan, before in old.items():
                after = new.get(juan, "")
                if after != before:
                    reports.append(self.annotations.reanchor(Identity.system(), juan, before, after))
        return change, [r for r in reports if r.checked]

    def close(self) -> None:
        if "sparql" in self.__dict__:
            self.sparql.close()
        if "projector" in self.__dict__:
            self.projector.close()  # closes every projection it holds
        else:
            if self.__dict__.get("neo4j") is not None:
                self.neo4j.close()
            if "public_sparql" in self.__dict__:
                self.public_sparql.close()
        if "store" in self.__dict__:
            self.store.close()
