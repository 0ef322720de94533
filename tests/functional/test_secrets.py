"""The token key at startup: `guji serve` and create_app refuse a missing, short or published key,
and no token signed with a published placeholder is ever accepted."""

from __future__ import annotations

import os
import time
import warnings

import jwt
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from accounts.errors import SecretKeyError
from api.app import create_app
from api.cli import app as cli
from api.settings import Settings

PLACEHOLDER = "change-me-in-production"  # the value the docs and settings used to print


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no stray .env
    for key in list(os.environ):
        if key.startswith("GUJI_"):
            monkeypatch.delenv(key)
    served = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kw: served.append((app, kw)))
    return served


def serve(home, *args, **env):
    return CliRunner().invoke(cli, ["serve", *args], env={"GUJI_HOME": str(home), **env})


@pytest.mark.parametrize("env, message", [
    ({}, "GUJI_SECRET_KEY is not set"),
    ({"GUJI_SECRET_KEY": PLACEHOLDER}, "placeholder published in the documentation"),
    ({"GUJI_SECRET_KEY": "short-but-not-a-placeholder"}, "it needs at least 32"),
    ({"GUJI_SECRET_KEY": PLACEHOLDER, "GUJI_ENVIRONMENT": "development"}, "placeholder published"),
])
def test_serve_refuses_to_start_without_a_usable_key(clean_env, sample_home, env, message):
    result = serve(sample_home, **env)
    assert result.exit_code == 2, result.output
    assert "configuration error" in result.output and message in " ".join(result.output.split())
    assert clean_env == []  # never listened


def test_serve_with_a_real_key_starts_in_production(clean_env, sample_home):
    result = serve(sample_home, GUJI_SECRET_KEY="p" * 40)
    assert result.exit_code == 0, result.output
    assert "DEVELOPMENT" not in result.output and len(clean_env) == 1
    assert clean_env[0][0].state.context.settings.environment == "production"


def test_serve_sample_is_development_with_a_key_of_its_own(clean_env, sample_home):
    result = serve(sample_home, "--sample")
    assert result.exit_code == 0, result.output
    assert "DEVELOPMENT MODE" in result.output and len(clean_env) == 1
    assert (sample_home / "secret_key").stat().st_mode & 0o077 == 0
    # ... but an explicit production environment still needs the key
    result = serve(sample_home, "--sample", GUJI_ENVIRONMENT="production")
    assert result.exit_code == 2 and "GUJI_SECRET_KEY is not set" in result.output


@pytest.mark.parametrize("overrides", [{"environment": "production"}, {"environment": "production", "secret_key": PLACEHOLDER},
                                       {"environment": "development", "secret_key": PLACEHOLDER}])
def test_create_app_refuses_to_start_without_a_usable_key(tmp_path, overrides):
    with pytest.raises(SecretKeyError):
        create_app(Settings(home=tmp_path, **overrides))


@pytest.mark.parametrize("environment", ["development", "test"])
def test_a_token_forged_with_the_placeholder_is_refused(clean_env, sample_home, environment):
    app = create_app(Settings(home=sample_home, environment=environment))
    with TestClient(app) as client:
        client.app.state.context.users.add("admin-" + environment, "admin")
        now = int(time.time())
        with warnings.catch_warnings():  # PyJWT warns about the short key: that is the attacker's business
            warnings.simplefilter("ignore")
            forged = jwt.encode({"iss": "guji", "sub": "admin-" + environment, "iat": now, "exp": now + 600},
                                PLACEHOLDER, algorithm="HS256")
        r = client.get("/auth/me", headers={"Authorization": f"Bearer {forged}"})
        assert r.status_code == 401 and "signature" in r.json()["error"]["message"]
