"""api.limits.per_client: the rate-limit dependency any expensive route can add."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import errors
from api.context import Context
from api.limits import per_client
from api.settings import Settings


def app_with(tmp_path, **settings) -> FastAPI:
    app = FastAPI()
    app.state.context = Context(Settings(home=tmp_path, environment="test", **settings))
    errors.install(app)

    @app.get("/report", dependencies=[per_client("report")])
    def report() -> dict:
        return {"ok": True}

    @app.get("/export", dependencies=[per_client("export", "login_limit_per_client")])
    def export() -> dict:
        return {"ok": True}

    return app


def test_per_client_uses_the_default_limit_and_answers_429(tmp_path):
    client = TestClient(app_with(tmp_path, client_rate_limit="2/minute", login_limit_per_client="1/minute"))
    assert [client.get("/report").status_code for _ in range(2)] == [200, 200]
    r = client.get("/report")
    assert r.status_code == 429 and 1 <= int(r.headers["retry-after"]) <= 60
    assert r.json()["error"]["code"] == "too_many_requests"
    assert r.json()["error"]["message"].startswith("too many requests to report from testclient: at most 2/minute")
    # another scope has its own budget, from the setting it names
    assert client.get("/export").status_code == 200
    assert client.get("/export").status_code == 429


def test_a_rate_that_does_not_parse_is_refused_with_the_settings(tmp_path):
    with pytest.raises(ValueError, match="couldn't parse rate limit string"):
        Settings(home=tmp_path, client_rate_limit="lots")
