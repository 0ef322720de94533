"""docker-compose.yml: the production wiring stays consistent with the settings object and with the
server versions the test suite runs against (scripts/services.d/versions.env).

No Docker engine is needed: the file is parsed with PyYAML and ``${...}`` is interpolated the way
Compose does it (``${VAR}``, ``${VAR:-default}``, ``${VAR:?error}``, ``$$``).
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from api.settings import Settings
from tests._services import pinned_versions

ROOT = Path(__file__).resolve().parents[3]
COMPOSE = ROOT / "docker-compose.yml"
SECRETS = {"NEO4J_PASSWORD": "neo4j-secret-1", "ELASTIC_PASSWORD": "es-secret-1", "GUJI_SECRET_KEY": "k" * 40}
_VAR = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def interpolate(value: str, env: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group(1), match.group(2), match.group(3)
        have = env.get(name)
        if op == ":-":
            return have if have else arg
        if op == ":?":
            if not have:
                raise KeyError(f"{name}: {arg}")
            return have
        return have or ""

    return _VAR.sub(one, value)


def env_of(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def guji_env(services) -> dict[str, str]:
    return {k: interpolate(v, SECRETS) for k, v in env_of(services["guji"]).items()}


def test_services_are_the_api_neo4j_and_elasticsearch(services):
    assert set(services) == {"guji", "neo4j", "elasticsearch"}


def test_images_are_pinned_to_the_tested_versions(services):
    pins = pinned_versions()
    assert services["neo4j"]["image"] == f"neo4j:{pins['NEO4J_VERSION']}-community"
    assert services["elasticsearch"]["image"] == f"docker.elastic.co/elasticsearch/elasticsearch:{pins['ELASTICSEARCH_VERSION']}"
    assert pins["NEO4J_VERSION"].startswith("5."), "docker-compose.yml runs the official Neo4j 5 image"
    assert pins["ELASTICSEARCH_VERSION"].startswith("9."), "docker-compose.yml runs Elasticsearch 9"


def test_api_is_built_from_the_dockerfile_and_serves_on_all_interfaces(services):
    guji = services["guji"]
    build = guji["build"] if isinstance(guji["build"], dict) else {"context": guji["build"]}
    dockerfile = ROOT / build.get("context", ".") / build.get("dockerfile", "Dockerfile")
    assert dockerfile.is_file()
    command = guji["command"] if isinstance(guji["command"], list) else shlex.split(guji["command"])
    assert command == ["guji", "serve", "--host", "0.0.0.0"]
    assert 'CMD ["guji", "serve", "--host", "0.0.0.0"]' in dockerfile.read_text(encoding="utf-8")
    published = [str(p) for p in guji.get("ports", [])]
    assert any(p.endswith(":8000") for p in published), published


@pytest.mark.parametrize("name", ["guji", "neo4j", "elasticsearch"])
def test_every_service_has_a_healthcheck_and_restarts(services, name):
    service = services[name]
    check = service["healthcheck"]
    assert check["test"][0] in ("CMD", "CMD-SHELL") and len(check["test"]) > 1
    for key in ("interval", "timeout", "retries", "start_period"):
        assert key in check, f"{name} healthcheck lacks {key}"
    assert service["restart"] == "unless-stopped"


def test_api_waits_for_healthy_servers(services):
    depends = services["guji"]["depends_on"]
    assert depends == {
        "neo4j": {"condition": "service_healthy"},
        "elasticsearch": {"condition": "service_healthy"},
    }


def test_elasticsearch_readiness_is_cluster_health(services):
    # GET / is not a readiness signal (and is absent from the integ-test-zip the tests run on)
    assert "_cluster/health" in " ".join(services["elasticsearch"]["healthcheck"]["test"])


def test_state_lives_in_named_volumes(compose, services):
    declared = set(compose["volumes"])
    mounts = {name: {str(v).split(":")[1]: str(v).split(":")[0] for v in s.get("volumes", [])} for name, s in services.items()}
    assert "/data" in mounts["neo4j"]
    assert "/usr/share/elasticsearch/data" in mounts["elasticsearch"]
    guji_home = env_of(services["guji"])["GUJI_HOME"]
    assert guji_home in mounts["guji"], "GUJI_HOME (the embedded store) must be on a volume"
    used = {source for m in mounts.values() for source in m.values()}
    assert used <= declared, used - declared
    assert all(not source.startswith((".", "/")) for source in used), "bind mounts are not for production state"


def test_guji_environment_names_are_fields_of_the_settings_object(services):
    prefix = Settings.model_config["env_prefix"]
    known = {prefix + field.upper() for field in Settings.model_fields}
    used = {key for s in services.values() for key in env_of(s) if key.startswith(prefix)}
    # ${GUJI_...} interpolations anywhere in the file count too
    used |= {m.group(1) for m in _VAR.finditer(COMPOSE.read_text(encoding="utf-8")) if (m.group(1) or "").startswith(prefix)}
    assert used, "the api service is configured through GUJI_* variables"
    assert used <= known, f"not fields of api.settings.Settings: {sorted(used - known)}"
    for key in ("GUJI_NEO4J_URI", "GUJI_ES_URL", "GUJI_SECRET_KEY", "GUJI_ENVIRONMENT", "GUJI_HOME"):
        assert key in used


def test_secrets_are_required_not_defaulted(compose):
    text = COMPOSE.read_text(encoding="utf-8")
    for name in SECRETS:
        assert re.search(r"\$\{" + name + r":\?", text), f"{name} must use ${{{name}:?...}} so compose refuses to start without it"
        assert not re.search(r"\$\{" + name + r":-", text), f"{name} must not have a default"
    with pytest.raises(KeyError):
        interpolate(env_of(compose["services"]["guji"])["GUJI_SECRET_KEY"], {})


def test_compose_environment_builds_a_valid_production_settings_object(guji_env, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no stray .env file
    for key in list(os.environ):
        if key.startswith("GUJI_"):
            monkeypatch.delenv(key)
    for key, value in guji_env.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert settings.environment == "production"
    assert settings.secret_key == SECRETS["GUJI_SECRET_KEY"]
    assert settings.effective_search_backend == "elasticsearch"
    assert str(settings.home) == guji_env["GUJI_HOME"]


def test_api_reaches_the_servers_by_service_name_with_their_credentials(services, guji_env):
    neo4j = urlsplit(guji_env["GUJI_NEO4J_URI"])
    assert (neo4j.scheme, neo4j.hostname, neo4j.port) == ("bolt", "neo4j", 7687)
    neo4j_auth = interpolate(env_of(services["neo4j"])["NEO4J_AUTH"], SECRETS)
    assert neo4j_auth == f"{guji_env['GUJI_NEO4J_USER']}/{guji_env['GUJI_NEO4J_PASSWORD']}"

    es = urlsplit(guji_env["GUJI_ES_URL"])
    assert (es.scheme, es.hostname, es.port) == ("http", "elasticsearch", 9200)
    es_env = env_of(services["elasticsearch"])
    if es_env.get("xpack.security.enabled") == "true":
        assert (es.username, es.password) == ("elastic", interpolate(es_env["ELASTIC_PASSWORD"], SECRETS))
    assert es_env["discovery.type"] == "single-node"


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image():
    ignored = set((ROOT / ".dockerignore").read_text(encoding="utf-8").split())
    assert {".git", ".env", ".services", "var"} <= ignored
    # what the image needs must not be ignored
    assert not {"kg", "search", "annotation", "api", "ontologies", "samples", "pyproject.toml", "README.md"} & ignored
