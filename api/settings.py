"""The one settings object. Built once (``get_settings()`` / ``create_app()``), never at import time.

Every field is read from the environment with the prefix ``GUJI_`` (``GUJI_HOME``,
``GUJI_NEO4J_URI``, ``GUJI_ES_URL`` ...) or from a ``.env`` file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me-in-production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GUJI_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    home: Path = Field(default=Path("var"), description="Directory of the embedded stores")
    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str = PLACEHOLDER_SECRET

    # canonical RDF store
    store_path: Path | None = Field(default=None, description="Oxigraph directory; default $GUJI_HOME/oxigraph")

    # SPARQL endpoint
    sparql_timeout: float = Field(default=10.0, gt=0, description="Seconds a public SPARQL query may run")
    sparql_max_results: int = Field(default=10_000, gt=0, description="Rows (or triples) a query may return")
    sparql_allow_service: bool = Field(default=False, description="Allow SERVICE (federated) queries")
    sparql_workers: int = Field(default=2, gt=0, description="Worker processes answering SPARQL queries")

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
    max_upload_bytes: int = Field(default=512 * 1024 * 1024, gt=0)
    max_json_bytes: int = Field(default=1024 * 1024, gt=0, description="Any request body but uploads and SPARQL")
    max_sparql_bytes: int = Field(default=64 * 1024, gt=0, description="A SPARQL request body")
    max_json_depth: int = Field(default=64, gt=0, description="Nesting of arrays and objects in a JSON body")
    max_unpacked_bytes: int = Field(default=8 * 1024**3, gt=0, description="What a package .zip may unpack to")
    max_package_files: int = Field(default=100_000, gt=0)
    max_compression_ratio: float = Field(default=200.0, gt=1)

    # users and annotations
    token_ttl_seconds: int = Field(default=3600, gt=0, description="Lifetime of a token from POST /auth/token")
    annotation_page_size: int = Field(default=100, gt=0, le=1000, description="Annotations per container page")

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> "Settings":
        if self.environment == "production" and self.secret_key == PLACEHOLDER_SECRET:
            raise ValueError("GUJI_SECRET_KEY must be set to a real secret when GUJI_ENVIRONMENT=production")
        return self

    @property
    def oxigraph_path(self) -> Path:
        return self.store_path or self.home / "oxigraph"

    @property
    def users_path(self) -> Path:
        return self.home / "users.sqlite3"

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
