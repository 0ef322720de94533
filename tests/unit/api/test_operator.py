"""api/operator.py: the run files guji serve leaves for the CLI, and how the CLI reads them."""

import json
import os
import stat
import subprocess
import sys

import pytest

from api import operator
from api.settings import Settings
from kg.errors import StoreError
from kg.store import OxigraphStore


@pytest.fixture
def settings(tmp_path):
    return Settings(home=tmp_path / "home", environment="test")


@pytest.mark.parametrize("host, url", [("127.0.0.1", "http://127.0.0.1:8000"), ("0.0.0.0", "http://127.0.0.1:8000"),
                                       ("::", "http://[::1]:8000"), ("::1", "http://[::1]:8000"), ("localhost", "http://localhost:8000")])
def test_server_url_reaches_a_wildcard_bind_on_loopback(host, url):
    assert operator.server_url(host, 8000) == url


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("127.8.9.1", True), ("::1", True), ("localhost", True),
                                            ("10.0.0.1", False), ("testclient", False), (None, False), ("", False)])
def test_is_loopback(host, loopback):
    assert operator.is_loopback(host) is loopback


def test_publish_writes_private_files_and_withdraw_removes_them(settings):
    token = operator.publish(settings, "http://127.0.0.1:8123")
    run = settings.run_path
    assert stat.S_IMODE(run.stat().st_mode) == 0o700
    for name in ("server.json", "operator.token"):
        assert stat.S_IMODE((run / name).stat().st_mode) == 0o600
    assert (run / "operator.token").read_text().strip() == token
    assert operator.publish(settings, "http://127.0.0.1:8123") != token  # a new token each start
    server, why = operator.find_server(settings)
    assert (server.url, server.pid, why) == ("http://127.0.0.1:8123", os.getpid(), "")
    operator.withdraw(settings)
    assert sorted(p.name for p in run.iterdir()) == []
    assert operator.find_server(settings) == (None, f"no guji server has published itself in {run}")


def test_withdraw_leaves_another_servers_files(settings):
    operator.publish(settings, "http://127.0.0.1:8123")
    info = json.loads((settings.run_path / "server.json").read_text())
    (settings.run_path / "server.json").write_text(json.dumps({**info, "pid": info["pid"] + 1}))
    operator.withdraw(settings)
    assert (settings.run_path / "operator.token").exists()


def test_a_dead_pid_makes_the_server_file_stale(settings):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    operator.publish(settings, "http://127.0.0.1:8123")
    (settings.run_path / "server.json").write_text(json.dumps({"url": "http://127.0.0.1:8123", "pid": dead.pid}))
    server, why = operator.find_server(settings)
    assert server is None and why.endswith(f"is stale: the server it names (pid {dead.pid}) is not running")


def test_connect_opens_the_store_here_when_no_one_holds_it(settings):
    op = operator.connect(settings)
    try:
        assert op.remote is False and op.ctx.store.count() == 0
    finally:
        op.close()


def test_the_lock_holder_is_named(settings):
    store = OxigraphStore(settings.oxigraph_path)  # this process holds it
    try:
        assert operator.lock_holder(settings.oxigraph_path) == os.getpid()
        with pytest.raises(StoreError) as caught:
            operator.connect(settings)
        assert f"is in use by process {os.getpid()}" in caught.value.message
        assert "no guji server has published itself" in caught.value.message
    finally:
        store.close()


def test_a_server_that_drops_the_connection_mid_answer_gives_a_clear_error():
    """A server killed while the CLI waits (seen: `guji ingest` beside a server that died printed an
    httpx RemoteProtocolError traceback). A real socket that reads the request and closes."""
    import socket
    import threading

    import pytest

    from api.operator import OperatorClient, ServerInfo
    from kg.errors import StoreError

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]

    def drop_once():
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.close()

    threading.Thread(target=drop_once, daemon=True).start()
    client = OperatorClient(ServerInfo(f"http://127.0.0.1:{port}", 4242, "", "token"), timeout=10)
    try:
        with pytest.raises(StoreError, match=r"closed the connection before answering .*run the command again"):
            client.request("POST", "/operator/ingest", {"paths": []})
    finally:
        listener.close()
