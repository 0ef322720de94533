"""The one settings object. Built once (``get_settings()`` / ``create_app()``), never at import time.

Every field is read from the environment with the prefix ``GUJI_`` (``GUJI_HOME``,
``GUJI_NEO4J_URI``, ``GUJI_ES_URL`` ...) or from a ``.env`` file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_home() -> Path:
    """Where guji keeps its stores when GUJI_HOME is not set: a per-user data directory, the same
    whatever directory a command runs in (XDG_DATA_HOME/guji, else ~/.local/share/guji; on macOS
    ~/Library/Application Support/guji; on Windows %LOCALAPPDATA%\\guji)."""
    import os
    import sys

    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "guji"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "guji"
    xdg = os.environ.get("XDG_DATA_HOME")
    return (Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share") / "guji"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GUJI_", env_file=".env", extra="ignore")

    # production unless said otherwise: tokens need GUJI_SECRET_KEY (accounts/secrets.py);
    # development (or `guji serve --sample`) makes a key per home, test a key per process
    environment: Literal["development", "test", "production"] = "production"
    home: Path = Field(default_factory=default_home,
                       description="Directory of the embedded stores; default a per-user data directory (~/.local/share/guji)")
    host: str = "127.0.0.1"
    port: int = 8000
    # uvicorn's per-request access log line costs ~0.5 ms of a 1 ms SPARQL answer (docs/sparql-benchmark.md);
    # a deployment logs requests at its reverse proxy, or turns this on
    access_log: bool = False
    secret_key: str | None = Field(default=None, description="Signs bearer tokens: 32+ characters, required in production")
    # `guji serve --sample` on a home without a suggestion model builds one in the background (nice'd
    # process, ≈1–3 min on 2 cores) so that a new user's suggestions find persons (docs/suggest.md)
    suggest_auto_train: bool = True

    # canonical RDF store
    store_path: Path | None = Field(default=None, description="Oxigraph directory; default $GUJI_HOME/oxigraph")

    # SPARQL endpoint
    sparql_timeout: float = Field(default=10.0, gt=0, description="Seconds a public SPARQL query may run")
    sparql_max_results: int = Field(default=10_000, gt=0, description="Rows (or triples) a query may return")
    sparql_allow_service: bool = Field(default=False, description="Allow SERVICE (federated) queries")
    sparql_workers: int = Field(default=4, gt=0, description="Worker processes answering SPARQL queries (idle ones cost ~50 MB each)")
    sparql_direct_workers: int = Field(default=2, ge=0, description="Worker processes that answer a /sparql connection themselves, "
                                       "in process (ADR 0026; `guji serve` only; 0 = every query goes through the server)")
    sparql_worker_memory_mb: int = Field(default=2048, ge=0, description="Heap limit of one SPARQL worker (0 = none)")
    sparql_per_client: int = Field(default=1, gt=0, description="Queries one client may run at the same time (429 beyond); keep it below sparql_workers")
    sparql_max_query_bytes: int = Field(default=64 * 1024, gt=0, description="Longest query text accepted (413 beyond)")
    sparql_max_query_depth: int = Field(default=64, gt=0, description="Deepest nesting of {, ( and [ accepted")
    sparql_cache_mb: int = Field(default=64, ge=0, description="Memory for answers of the public dataset as it is now (emptied by every write; 0 = no cache)")
    public_store: Path | None = Field(default=None, description="The public SPARQL dataset; default $GUJI_HOME/public")
    sparql_backend: Literal["embedded", "oxigraph-server", "fuseki"] = Field(
        default="embedded", description="Where the public SPARQL dataset lives: embedded (GUJI_PUBLIC_STORE) or a SPARQL 1.1 server at GUJI_SPARQL_URL")
    sparql_url: str | None = Field(default=None, description="The dataset's base URL on the server: http://host:7878 (Oxigraph), http://host:3030/guji (Fuseki)")
    sparql_replica_urls: list[str] = Field(default_factory=list, description='More servers of the same engine fed the same dataset (read replicas); queries go to each in turn. JSON: ["http://h2:7878"]')
    sparql_user: str | None = Field(default=None, description="HTTP basic auth for the SPARQL server, if it asks for it")
    sparql_password: str | None = None

    # the projector (search index, Neo4j, public SPARQL dataset kept live from the change log)
    projections: list[Literal["search", "sparql", "neo4j", "editions"]] = Field(
        default=["search", "sparql", "neo4j", "editions"],
        description="Projections this server keeps live (neo4j only when GUJI_NEO4J_URI is set; editions: approved annotations "
                    "proposed on the other editions of their work); e.g. a query-only node runs sparql alone")
    projector_enabled: bool = Field(default=True, description="Run the projector inside the server (off only for tests that drive it by hand)")
    write_visibility_seconds: float = Field(default=5.0, ge=0, description="How long a write waits for the projections to show it before answering")
    projector_poll_seconds: float = Field(default=2.0, gt=0, description="How often the projector looks even without a commit")
    projector_max_backoff_seconds: float = Field(default=30.0, gt=0, description="Longest wait between retries of a failing projection")

    # projections (off unless configured)
    neo4j_uri: str | None = None
    neo4j_user: str = "neo4j"
    neo4j_password: str | None = None
    neo4j_database: str = "neo4j"
    es_url: str | None = None
    es_index_prefix: str = "guji"
    search_backend: Literal["tantivy", "elasticsearch"] | None = Field(
        default=None, description="Default: elasticsearch when GUJI_ES_URL is set, tantivy otherwise"
    )

    public_base_url: str | None = Field(default=None, description="The site's address in annotation ids and links; default http://HOST:PORT/")

    # request limits (413 beyond them) and package .zip limits (422, checked before unpacking)
    operator_timeout_seconds: float = Field(default=6 * 3600.0, gt=0, description="How long a CLI command waits for the server doing its work (a large ingest)")

    max_upload_bytes: int = Field(default=512 * 1024 * 1024, gt=0)
    max_json_bytes: int = Field(default=1024 * 1024, gt=0, description="Any request body but uploads and SPARQL")
    max_table_bytes: int = Field(default=16 * 1024 * 1024, gt=0,
                                 description="Plans, unit lists and monthly catalogues (CSV/XLSX) sent to /api/acceptance/")
    max_sparql_bytes: int = Field(default=64 * 1024, gt=0, description="A SPARQL request body")
    max_json_depth: int = Field(default=64, gt=0, description="Nesting of arrays and objects in a JSON body")
    max_unpacked_bytes: int = Field(default=8 * 1024**3, gt=0, description="What a package .zip may unpack to")
    max_package_files: int = Field(default=500_000, gt=0, description="Members of a package .zip (a 100,000-book delivery with a service image per book has ~100,000; the zip directory costs ~0.7 KB of memory per member while checked: ~340 MB at the limit)")
    max_compression_ratio: float = Field(default=200.0, gt=1)
    max_image_pixels: int = Field(default=150_000_000, gt=0, description="A package image's width × height, read from its header before any pixel is decoded")
    max_image_side: int = Field(default=20_000, gt=0, description="A package image's longer side in pixels")
    ingest_processes: int = Field(default_factory=lambda: min(4, os.cpu_count() or 1), gt=0,
                                  description="Worker processes reading Kanripo works on a first ingest (ADR 0025); 1 reads in-process")
    package_batch_books: int = Field(default=500, gt=0, description="Books of a package checked, built and loaded together: memory follows this, not the package (ADR 0017)")
    package_workers: int | None = Field(default=None, gt=0, description="Worker processes checking a large package's batches; default: one per core, at most 4 (ADR 0024)")
    package_load_bytes: int = Field(default=32 * 1024**2, gt=0, description="Bytes of N-Quads per bulk load of a large package into its hidden staged graphs (whole batches; the loader needs ~4x this in memory; ADR 0024)")
    image_cache_bytes: int = Field(default=64 * 1024 * 1024, ge=0, description="Rendered IIIF images kept in memory (LRU)")

    # users and annotations
    token_ttl_seconds: int = Field(default=3600, gt=0, description="Lifetime of a token from POST /auth/token")
    annotation_page_size: int = Field(default=100, gt=0, le=1000, description="Annotations per container page")

    # throttling (accounts/throttle.py, api/limits.py); rates in the `limits` notation: "20/minute"
    login_limit_per_client: str = Field(default="20/minute", description="POST /auth/token calls one client address may make")
    login_limit_per_user: str = Field(default="10/minute", description="Logins one user name may try")
    lockout_failures: int = Field(default=10, gt=0, description="Wrong passwords in a row that lock a user name")
    lockout_seconds: int = Field(default=900, gt=0, description="How long a locked user name stays locked")
    password_hashing_slots: int = Field(default=2, gt=0, description="Argon2 hashes at a time (64 MiB each)")
    password_hashing_wait: float = Field(default=2.0, gt=0, description="Seconds a login waits for a hashing slot, then 503")
    client_rate_limit: str = Field(default="60/minute", description="Default limit of api.limits.per_client() per client address")

    @field_validator("home", mode="before")
    @classmethod
    def _home(cls, value):
        # GUJI_HOME="" (a variable set but empty, as `GUJI_HOME=$UNSET` makes it) is not the current
        # directory: stores would land wherever a command happens to run
        return default_home() if value is None or not str(value).strip() else value

    @field_validator("login_limit_per_client", "login_limit_per_user", "client_rate_limit")
    @classmethod
    def _rate(cls, value: str) -> str:
        import limits

        limits.parse(value)  # ValueError: "couldn't parse rate limit string ..."
        return value

    @model_validator(mode="after")
    def _sparql_server_needs_its_url(self) -> "Settings":
        if self.sparql_backend != "embedded" and not self.sparql_url:
            raise ValueError(f"GUJI_SPARQL_BACKEND={self.sparql_backend} needs GUJI_SPARQL_URL, the dataset's base URL on that server")
        if self.sparql_backend == "embedded" and (self.sparql_url or self.sparql_replica_urls):
            raise ValueError("GUJI_SPARQL_URL is set but GUJI_SPARQL_BACKEND is embedded: set it to oxigraph-server or fuseki")
        return self

    @property
    def oxigraph_path(self) -> Path:
        return self.store_path or self.home / "oxigraph"

    @property
    def public_store_path(self) -> Path:
        return self.public_store or self.home / "public"

    @property
    def run_path(self) -> Path:
        """Where a running ``guji serve`` says where it listens, with its operator token (ADR 0009)."""
        return self.home / "run"

    @property
    def outbox_path(self) -> Path:
        """Reminder e-mails of the acceptance workflow (mbox files; no mail server needed)."""
        return self.home / "outbox"

    @property
    def users_path(self) -> Path:
        return self.home / "users.sqlite3"

    @property
    def images_path(self) -> Path:
        """Tiled pyramids of the service-level images, by SHA-256 (images.store)."""
        return self.home / "images"

    @property
    def search_path(self) -> Path:
        return self.home / "search"

    @property
    def base_url(self) -> str:
        return (self.public_base_url or f"http://{self.host}:{self.port}").rstrip("/") + "/"

    @property
    def effective_search_backend(self) -> str:
        return self.search_backend or ("elasticsearch" if self.es_url else "tantivy")


def get_settings(**overrides: object) -> Settings:
    return Settings(**overrides)
