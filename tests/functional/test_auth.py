"""Users, API keys, the OAuth2 password flow and bearer tokens, over HTTP and the CLI."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest

from accounts.tokens import TokenSigner
from tests.functional._annotations import PASSWORD, annotation, created, error_code, make_users, path, post


@pytest.fixture(scope="module")
def h(client):
    return make_users(client)


def guji(home, *args, input=None):
    env = {**os.environ, "GUJI_HOME": str(home), "GUJI_ENVIRONMENT": "test"}
    return subprocess.run([sys.executable, "-m", "api", *args], env=env, input=input, capture_output=True, text=True, timeout=120)


def test_guji_users_add_prints_a_working_api_key(client, sample_home):
    r = guji(sample_home, "users", "add", "zhang", "--role", "reviewer", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["name"] == "zhang" and out["role"] == "reviewer" and out["api_key"].startswith("gk_")
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {out['api_key']}"})
    assert me.status_code == 200
    assert me.json() == {"name": "zhang", "role": "reviewer", "agent": "https://w3id.org/guji/id/agent/zhang", "projects": []}
    # plain output: the key alone on stdout, for scripts
    r = guji(sample_home, "users", "add", "li", "--role", "annotator")
    assert r.returncode == 0 and r.stdout.strip().startswith("gk_") and len(r.stdout.split()) == 1
    # mistakes are reported, not stack traces
    r = guji(sample_home, "users", "add", "zhang", "--role", "annotator")
    assert r.returncode == 1 and "exists already" in r.stderr
    r = guji(sample_home, "users", "add", "wang", "--role", "emperor")
    assert r.returncode == 1 and "role must be one of annotator, reviewer, admin, submitter" in r.stderr
    r = guji(sample_home, "users", "list", "--json")
    assert {u["name"]: u["role"] for u in json.loads(r.stdout)}["zhang"] == "reviewer"


def test_password_flow_from_the_cli_to_a_token(client, sample_home):
    r = guji(sample_home, "users", "add", "zhao", "--role", "annotator", "--password-stdin", input="春眠不覺曉處處聞啼鳥\n")
    assert r.returncode == 0, r.stderr
    r = client.post("/auth/token", data={"username": "zhao", "password": "春眠不覺曉處處聞啼鳥"})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert client.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}).json()["name"] == "zhao"


def test_wrong_password_and_unknown_user_look_the_same(client, h):
    wrong = client.post("/auth/token", data={"username": "alice", "password": "nope nope"})
    unknown = client.post("/auth/token", data={"username": "nobody", "password": "nope nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "invalid_credentials"
    assert wrong.headers["www-authenticate"].startswith("Bearer")
    ok = client.post("/auth/token", data={"username": "alice", "password": PASSWORD})
    assert ok.status_code == 200


def test_bad_tokens_are_refused(client, h):
    ctx = client.app.state.context
    signer = ctx.auth.signer
    expired = signer.issue("alice", now=1_000_000)
    r = client.get("/auth/me", headers={"Authorization": f"Bearer {expired}"})
    assert r.status_code == 401 and "expired" in r.json()["error"]["message"]
    forged = TokenSigner("another-secret-of-forty-characters-00000", 3600).issue("root")
    r = client.get("/auth/me", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401 and "signature" in r.json()["error"]["message"]
    good = signer.issue("alice")
    header, payload, sig = good.split(".")
    r = client.get("/auth/me", headers={"Authorization": f"Bearer {header}.{payload[:-2]}xx.{sig}"})
    assert r.status_code == 401
    # alg=none, or another algorithm with the right claims: refused (only HS256 is accepted)
    unsigned = f"{header}.{payload}."
    none_header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0"  # {"alg":"none","typ":"JWT"}
    for token in (unsigned, f"{none_header}.{payload}."):
        r = client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"
    r = client.get("/auth/me", headers={"Authorization": "Bearer gk_not-a-key"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    # a bad credential is refused even where the public may read: never silently anonymous
    assert client.get("/annotations/", headers={"Authorization": "Bearer gk_not-a-key"}).status_code == 401


def test_role_changes_and_removal_take_effect_at_once(client):
    users = client.app.state.context.users
    _, key = users.add("temp", "annotator", password=PASSWORD)
    token = client.post("/auth/token", data={"username": "temp", "password": PASSWORD}).json()["access_token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/auth/me", headers=auth).json()["role"] == "annotator"
    users.set_role("temp", "reviewer")
    assert client.get("/auth/me", headers=auth).json()["role"] == "reviewer"
    users.remove("temp")
    r = client.get("/auth/me", headers=auth)
    assert r.status_code == 401 and "no longer exists" in r.json()["error"]["message"]
    assert client.get("/auth/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401


def test_anonymous_and_submitters_can_not_write(client, h):
    r = post(client, {}, annotation())
    assert r.status_code == 401 and error_code(r) == "unauthorized" and r.headers["www-authenticate"] == "Bearer"
    r = post(client, h["lib"], annotation())
    assert r.status_code == 403 and error_code(r) == "forbidden"
    assert "annotator, reviewer or admin" in r.json()["error"]["message"]
    assert client.get("/auth/me").status_code == 401


def test_every_write_is_attributed(client, h):
    store = client.app.state.context.store
    before = store.last_sequence()
    url, _, _ = created(client, h["alice"])
    client.post(path(url) + "/submit", headers=h["alice"]).raise_for_status()
    client.post(path(url) + "/review", json={"decision": "approve"}, headers={**h["rita"], "If-Match": "*"}).raise_for_status()
    from kg.graphs import EDITION_PROPOSALS

    changes = store.changes_since(before)
    # the editions projection may record (as the service) what the approval proposes on other editions
    assert all(c.graph.startswith(EDITION_PROPOSALS) for c in changes if c.agent.rsplit("/", 1)[1] == "guji")
    agents = [c.agent.rsplit("/", 1)[1] for c in changes if not c.graph.startswith(EDITION_PROPOSALS)]
    # approval writes the public graph, the private history graph and empties the private one (one transaction)
    assert agents == ["alice", "alice", "rita", "rita", "rita"]


def test_secrets_are_not_stored_in_clear(client, h, sample_home):
    key = h["alice"]["Authorization"].split()[1]
    raw = (sample_home / "users.sqlite3").read_bytes()
    assert key.encode() not in raw and PASSWORD.encode() not in raw
    with sqlite3.connect(sample_home / "users.sqlite3") as db:
        (hashed,) = db.execute("SELECT password_hash FROM users WHERE name = 'alice'").fetchone()
    assert hashed.startswith("$argon2id$")
