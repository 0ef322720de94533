"""POST /auth/token under abuse: rate limits per client and per user name, the lockout, and a bound
on concurrent password hashing. Every refusal is the one JSON error shape with Retry-After."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings

PASSWORD = "白日依山盡黃河入海流"


@pytest.fixture
def server(tmp_path):
    """A TestClient factory over a fresh home with user li; settings as given."""
    clients = []

    def make(**settings) -> TestClient:
        home = tmp_path / f"home{len(clients)}"
        client = TestClient(create_app(Settings(home=home, environment="test", **settings)))
        client.__enter__()
        clients.append(client)
        client.app.state.context.users.add("li", "annotator", password=PASSWORD)
        return client

    yield make
    for c in clients:
        c.__exit__(None, None, None)


def login(client, name="li", password=PASSWORD):
    return client.post("/auth/token", data={"username": name, "password": password})


class CountingHashes:
    """Stands in for the Argon2 hasher of a running server: counts verifies and the most at once."""

    def __init__(self, client, seconds=0.0):
        hashing = client.app.state.context.users.hashing
        self.inner, self.seconds = hashing._hasher, seconds
        self.calls = self.running = self.peak = 0
        self.lock = threading.Lock()
        hashing._hasher = self

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def verify(self, stored, password):
        with self.lock:
            self.calls += 1
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            time.sleep(self.seconds)
            return self.inner.verify(stored, password)
        finally:
            with self.lock:
                self.running -= 1


def assert_throttled(r, code, message_start):
    assert r.status_code == 429, r.text
    retry = int(r.headers["retry-after"])
    assert r.json() == {"error": {"code": code, "message": r.json()["error"]["message"], "details": {**r.json()["error"]["details"]}}}
    assert r.json()["error"]["message"].startswith(message_start)
    assert r.json()["error"]["details"]["retry_after"] == retry
    return retry


def test_a_client_gets_429_with_retry_after_over_its_limit(server):
    client = server(login_limit_per_client="5/minute")
    statuses = [login(client, f"guess{i}", "wrong password").status_code for i in range(5)]
    assert statuses == [401] * 5
    hashes = CountingHashes(client)
    r = login(client)  # even the right password: the client is over its limit
    retry = assert_throttled(r, "too_many_requests", "too many requests to login from testclient: at most 5/minute; try again in")
    assert 1 <= retry <= 60 and hashes.calls == 0
    assert r.json()["error"]["details"]["limit"] == "5/minute"


def test_a_user_name_gets_429_over_its_limit(server):
    client = server(login_limit_per_user="2/minute")
    assert login(client).status_code == 200
    assert login(client, password="wrong password").status_code == 401
    assert_throttled(login(client), "too_many_requests", "too many logins as this user name: at most 2/minute")
    assert login(client, "someone-else", "wrong password").status_code == 401


def test_a_locked_user_name_is_refused_without_hashing(server):
    client = server(lockout_failures=3, lockout_seconds=900)
    hashes = CountingHashes(client)
    for _ in range(3):
        assert login(client, password="wrong password").status_code == 401
    assert hashes.calls == 3
    for password in ("wrong password", PASSWORD):
        retry = assert_throttled(login(client, password=password), "login_locked",
                                 "too many wrong passwords in a row for this user name")
        assert 890 <= retry <= 900
    assert hashes.calls == 3  # no Argon2 for a locked name
    # a success before the lock resets the streak
    other = server(lockout_failures=3)
    for _ in range(2):
        login(other, password="wrong password")
    assert login(other).status_code == 200
    for _ in range(2):
        login(other, password="wrong password")
    assert login(other).status_code == 200


def test_concurrent_logins_hash_a_bounded_number_at_once(server):
    client = server(password_hashing_slots=1, password_hashing_wait=0.1, login_limit_per_client="100/minute",
                    login_limit_per_user="100/minute")
    hashes = CountingHashes(client, seconds=1.0)  # long enough that the others give up waiting
    responses = []

    def one():
        responses.append(login(client))

    threads = [threading.Thread(target=one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status_code for r in responses)
    assert hashes.peak == 1, statuses
    assert 200 in statuses and 503 in statuses and set(statuses) <= {200, 503}
    busy = next(r for r in responses if r.status_code == 503)
    assert busy.headers["retry-after"] == "1"
    assert busy.json() == {"error": {"code": "busy", "message": "the server is busy checking other passwords; try again in 1 s",
                                     "details": {"retry_after": 1}}}
