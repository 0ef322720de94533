"""Fixtures for the real Neo4j, Elasticsearch, Oxigraph and Fuseki servers that ``scripts/services`` runs.

Session fixtures, all connecting lazily to what ``scripts/services up`` (or ``scripts/test``) started:

- ``neo4j_uri`` / ``es_url``: the server addresses, checked to answer. From ``GUJI_TEST_NEO4J_URI`` /
  ``GUJI_TEST_ES_URL``; otherwise the local defaults (``GUJI_NEO4J_BOLT_PORT``, ``GUJI_ES_PORT``).
- ``neo4j_driver`` / ``es_client``: the official Python drivers on those addresses.
- ``oxigraph_url`` / ``fuseki_url``: the SPARQL servers that may hold the public dataset, checked to
  answer a query. From ``GUJI_TEST_OXIGRAPH_URL`` / ``GUJI_TEST_FUSEKI_URL`` (Fuseki: the dataset's
  URL, ``…/guji``); otherwise the local defaults (``GUJI_OXIGRAPH_PORT``, ``GUJI_FUSEKI_PORT``).
  Tests write to them: they are test servers, never a production dataset.
- ``neo4j_control``: stop and start the Neo4j server from a test (a projection that is down and
  catches up later). Only for a Neo4j that ``scripts/services`` started from this checkout; the
  fixture restarts it when the test leaves it stopped.

A server that does not answer skips the test with a message saying how to start it; under
``CI=true`` it fails instead (``require`` in tests/conftest.py), so CI never passes green on skips.

The versions the servers must have are pinned once, in ``scripts/services.d/versions.env``
(``pinned_versions()``); the smoke tests and the compose-file test compare against it.
"""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVICES_SCRIPT = ROOT / "scripts" / "services"
VERSIONS_FILE = ROOT / "scripts" / "services.d" / "versions.env"

HOW_TO_START = (
    "start the servers with `scripts/services up` (needs java and mvn; downloads from Maven Central, "
    "see docs/services.md) or run the suite with `scripts/test`, or point GUJI_TEST_NEO4J_URI / "
    "GUJI_TEST_ES_URL / GUJI_TEST_OXIGRAPH_URL / GUJI_TEST_FUSEKI_URL at running servers"
)

# what the fixtures found, shown at the end of the run (pytest_terminal_summary below)
SERVER_INFO: dict[str, str] = {}


def pinned_versions() -> dict[str, str]:
    """The KEY=VALUE pairs of scripts/services.d/versions.env (NEO4J_VERSION, ELASTICSEARCH_VERSION)."""
    pins: dict[str, str] = {}
    for line in VERSIONS_FILE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            pins[key.strip()] = value.strip().strip("\"'")
    return pins


def major_minor(version: str) -> tuple[int, int]:
    """'5.26.30' -> (5, 26); 'Neo4j/5.26.30' -> (5, 26)."""
    numbers = version.rsplit("/", 1)[-1].split(".")
    return int(numbers[0]), int(numbers[1])


def default_neo4j_uri() -> str:
    return os.environ.get("GUJI_TEST_NEO4J_URI") or f"bolt://127.0.0.1:{os.environ.get('GUJI_NEO4J_BOLT_PORT', '7687')}"


def default_es_url() -> str:
    return os.environ.get("GUJI_TEST_ES_URL") or f"http://127.0.0.1:{os.environ.get('GUJI_ES_PORT', '9200')}"


def default_oxigraph_url() -> str:
    return os.environ.get("GUJI_TEST_OXIGRAPH_URL") or f"http://127.0.0.1:{os.environ.get('GUJI_OXIGRAPH_PORT', '7878')}"


def default_fuseki_url() -> str:
    return os.environ.get("GUJI_TEST_FUSEKI_URL") or f"http://127.0.0.1:{os.environ.get('GUJI_FUSEKI_PORT', '3030')}/guji"


def _short(exc: BaseException) -> str:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first[:160]}"


def _require(condition: bool, reason: str) -> None:
    from tests.conftest import require

    require(condition, reason)


def _neo4j_answers(uri: str, timeout: float = 5.0) -> str | None:
    """None when a Bolt server answers at ``uri``, else why not."""
    from neo4j import GraphDatabase

    try:
        with GraphDatabase.driver(uri, connection_timeout=timeout, max_connection_lifetime=60) as driver:
            driver.verify_connectivity()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable", reported below
        return _short(exc)
    return None


@pytest.fixture(scope="session")
def neo4j_uri() -> str:
    uri = default_neo4j_uri()
    error = _neo4j_answers(uri)
    _require(error is None, f"Neo4j not reachable at {uri} ({error}); {HOW_TO_START}")
    return uri


@pytest.fixture(scope="session")
def neo4j_driver(neo4j_uri: str):
    from neo4j import GraphDatabase

    driver = GraphDatabase.driver(neo4j_uri, connection_timeout=10)
    info = driver.get_server_info()
    SERVER_INFO["neo4j"] = f"{info.agent} (Bolt {'.'.join(map(str, info.protocol_version))}) at {neo4j_uri}"
    yield driver
    driver.close()


@pytest.fixture(scope="session")
def es_url() -> str:
    from elasticsearch import Elasticsearch

    url = default_es_url()
    error = None
    try:
        # GET / is missing from the integ-test-zip distribution (no rest-root module): use cluster health
        with Elasticsearch(url, request_timeout=10) as client:
            health = client.cluster.health(wait_for_status="yellow", timeout="5s")
            if health["timed_out"]:
                error = f"cluster health is {health['status']}"
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable", reported below
        error = _short(exc)
    _require(error is None, f"Elasticsearch not reachable at {url} ({error}); {HOW_TO_START}")
    return url


@pytest.fixture(scope="session")
def es_client(es_url: str):
    from elasticsearch import Elasticsearch

    client = Elasticsearch(es_url, request_timeout=30)
    nodes = client.nodes.info(node_id="_local", metric="jvm")["nodes"]
    node = next(iter(nodes.values()))
    SERVER_INFO["elasticsearch"] = f"Elasticsearch {node['version']} (JVM {node['jvm']['version']}) at {es_url}"
    yield client
    client.close()


def _sparql_server(name: str, url: str, query_url: str, version_of) -> str:
    import httpx

    error = None
    try:
        r = httpx.post(query_url, data={"query": "ASK {}"}, headers={"Accept": "application/sparql-results+json"}, timeout=10)
        if r.status_code != 200 or "boolean" not in r.text:
            error = f"ASK {{}} answered {r.status_code}: {r.text[:120]}"
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable", reported below
        error = _short(exc)
    _require(error is None, f"{name} not reachable at {url} ({error}); {HOW_TO_START}")
    SERVER_INFO[name.lower()] = f"{name} {version_of()} at {url}"
    return url


@pytest.fixture(scope="session")
def oxigraph_url() -> str:
    url = default_oxigraph_url()

    def version() -> str:
        import httpx

        return httpx.get(url, timeout=5).headers.get("server", "(version not reported)")

    return _sparql_server("Oxigraph", url, url + "/query", version)


@pytest.fixture(scope="session")
def fuseki_url() -> str:
    url = default_fuseki_url()

    def version() -> str:
        import httpx

        base = url.rsplit("/", 1)[0]
        try:
            return httpx.get(base + "/$/server", timeout=5).json().get("version", "?")
        except Exception:  # noqa: BLE001 - the admin endpoint may be off on a server started elsewhere
            return "(version not reported)"

    return _sparql_server("Fuseki", url, url + "/query", version)


@dataclass
class Neo4jControl:
    """Stops and starts the local Neo4j through ``scripts/services stop-neo4j`` / ``start-neo4j``.

    Use it for "projection down, then catches up" tests::

        def test_catches_up(neo4j_control, neo4j_driver):
            neo4j_control.stop()      # Neo4j is gone: writes to the RDF store must still succeed
            ...
            neo4j_control.start()     # back (same data directory); `guji sync` catches up
    """

    uri: str
    env: dict[str, str]

    def _run(self, command: str) -> str:
        proc = subprocess.run(
            [str(SERVICES_SCRIPT), command],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"scripts/services {command} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
        return proc.stdout

    def stop(self) -> None:
        self._run("stop-neo4j")

    def start(self) -> None:
        self._run("start-neo4j")

    def is_running(self) -> bool:
        return _neo4j_answers(self.uri, timeout=2.0) is None

    def managed(self) -> bool:
        """True when the Neo4j at ``uri`` was started by scripts/services from this checkout."""
        proc = subprocess.run(
            [str(SERVICES_SCRIPT), "status", "neo4j"], env=self.env, capture_output=True, text=True, timeout=60, check=False
        )
        return proc.returncode == 0 and "neo4j: running pid=" in proc.stdout


@pytest.fixture(scope="session")
def neo4j_control(neo4j_uri: str):
    parts = urlsplit(neo4j_uri)
    env = dict(os.environ)
    env["GUJI_NEO4J_BOLT_PORT"] = str(parts.port or 7687)
    control = Neo4jControl(uri=neo4j_uri, env=env)
    local = parts.hostname in ("127.0.0.1", "localhost", "::1")
    _require(
        local and SERVICES_SCRIPT.exists() and control.managed(),
        f"the Neo4j at {neo4j_uri} was not started by scripts/services from {ROOT}, so a test cannot stop "
        "and restart it; run the suite with `scripts/test` or start it with `scripts/services up neo4j`",
    )
    yield control
    if not control.is_running():
        control.start()
        deadline = time.monotonic() + 60
        while not control.is_running() and time.monotonic() < deadline:
            time.sleep(0.5)


def pytest_terminal_summary(terminalreporter, exitstatus, config):  # noqa: ARG001 - pytest hook signature
    if SERVER_INFO:
        terminalreporter.section("real servers used")
        for name in sorted(SERVER_INFO):
            terminalreporter.write_line(f"{name}: {SERVER_INFO[name]}")
