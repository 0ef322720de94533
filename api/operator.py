"""The CLI beside a running server (ADR 0009).

Only one process may open the embedded store for writing, and ``guji serve`` holds it while it
runs. So ``guji serve`` publishes where it listens and a fresh random operator token under
``$GUJI_HOME/run/`` (directory 0700, token 0600: whoever can read it can read the store anyway),
and a CLI command that finds the store locked by that server sends its operation to
``/api/operator/...`` instead. Without a server the command runs in its own process as before.

- :func:`publish` / :func:`withdraw`: the server's side (called from the app's lifespan).
- :func:`find_server`: the run files of a live server, or why there is none.
- :func:`connect`: the CLI's side: a :class:`LocalOperator` over the opened store, or a
  :class:`RemoteOperator` talking to the server; both return the same dicts (api/operations.py).
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from api import operations
from api.context import Context
from api.settings import Settings
from kg.errors import GujiError, StoreError

SERVER_FILE = "server.json"
TOKEN_FILE = "operator.token"


# -- the server's side ------------------------------------------------------------------------------

def server_url(host: str, port: int) -> str:
    """The URL a local client reaches a server listening on ``host`` by (a wildcard → loopback)."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def _write_private(path: Path, text: str) -> None:
    """Write a file readable by its owner only, atomically (never a moment with wider rights)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, text.encode())
    finally:
        os.close(fd)
    os.replace(tmp, path)


def publish(settings: Settings, url: str) -> str:
    """Write ``server.json`` and a new operator token; returns the token."""
    run = settings.run_path
    run.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(run, 0o700)
    token = secrets.token_urlsafe(32)
    _write_private(run / TOKEN_FILE, token + "\n")
    info = {"url": url, "pid": os.getpid(), "started": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    _write_private(run / SERVER_FILE, json.dumps(info) + "\n")
    return token


def withdraw(settings: Settings) -> None:
    """Remove the run files on a clean shutdown (only ours: they name this process)."""
    run = settings.run_path
    try:
        if json.loads((run / SERVER_FILE).read_text()).get("pid") != os.getpid():
            return
    except (OSError, ValueError):
        return
    for name in (SERVER_FILE, TOKEN_FILE):
        try:
            (run / name).unlink()
        except FileNotFoundError:
            pass


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host == "localhost"


# -- finding the server -----------------------------------------------------------------------------

def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped) is not running
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def command_of(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip() or None
    except OSError:
        return None


def lock_holder(store_path: Path) -> int | None:
    """The process holding the RocksDB LOCK of the store (Linux ``/proc/locks``), when known."""
    try:
        inode = (store_path / "LOCK").stat().st_ino
        for line in Path("/proc/locks").read_text().splitlines():
            fields = line.split()
            # "1: POSIX  ADVISORY  WRITE 12345 08:01:67890 0 EOF" (a "->" marks a blocked waiter)
            if "->" in fields:
                continue
            if len(fields) >= 6 and fields[5].rsplit(":", 1)[-1] == str(inode):
                pid = int(fields[4])
                return pid if pid > 0 else None  # an OFD lock shows no owner (-1)
    except (OSError, ValueError):
        pass
    return None


@dataclass
class ServerInfo:
    url: str
    pid: int
    started: str
    token: str


def find_server(settings: Settings) -> tuple[ServerInfo | None, str]:
    """The live server of this home, or None and the reason (for the error message)."""
    run = settings.run_path
    try:
        info = json.loads((run / SERVER_FILE).read_text())
        url, pid = str(info["url"]), int(info["pid"])
    except FileNotFoundError:
        return None, f"no guji server has published itself in {run}"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return None, f"{run / SERVER_FILE} can not be read: {exc}"
    if not pid_alive(pid):
        return None, f"{run / SERVER_FILE} is stale: the server it names (pid {pid}) is not running"
    try:
        token = (run / TOKEN_FILE).read_text().strip()
    except OSError as exc:
        return None, (f"a guji server runs at {url} (pid {pid}) but its operator token can not be read ({exc}); "
                      "run the command as the user that runs the server")
    return ServerInfo(url, pid, str(info.get("started", "")), token), ""


# -- the CLI's side ---------------------------------------------------------------------------------

class RemoteError(GujiError):
    """An error the server answered with: its code, message and details, as if raised here."""

    def __init__(self, code: str, message: str, details: dict | None = None, status: int | None = None) -> None:
        super().__init__(message, **(details or {}))
        self.code = code
        self.status = status


class OperatorClient:
    def __init__(self, server: ServerInfo, *, timeout: float) -> None:
        self.server = server
        self.timeout = timeout

    def request(self, method: str, path: str, body: dict | None = None) -> dict[str, Any]:
        import httpx

        timeout = httpx.Timeout(self.timeout, connect=5.0)
        headers = {"Authorization": f"Bearer {self.server.token}"}
        deadline = time.monotonic() + 30  # a server that just published itself may not listen yet
        while True:
            try:
                r = httpx.request(method, self.server.url + path, json=body, headers=headers, timeout=timeout, trust_env=False)
                break
            except httpx.ConnectError as exc:
                if time.monotonic() > deadline:
                    raise StoreError(f"the guji server at {self.server.url} (pid {self.server.pid}) holds the store "
                                     f"but does not answer: {exc}", url=self.server.url) from None
                time.sleep(0.5)
            except KeyboardInterrupt:
                raise StoreError(f"interrupted: the guji server at {self.server.url} goes on with the operation it was "
                                 "given to its end; see /healthz") from None
            except httpx.TimeoutException:
                raise StoreError(f"the guji server at {self.server.url} did not answer within {self.timeout:.0f} s "
                                 "(GUJI_OPERATOR_TIMEOUT_SECONDS); the operation may still be running there: see /healthz",
                                 url=self.server.url) from None
            except httpx.HTTPError as exc:  # the connection broke mid-answer: the server stopped or was killed
                raise StoreError(f"the guji server at {self.server.url} (pid {self.server.pid}) closed the connection before "
                                 f"answering ({type(exc).__name__}: {exc}); it may have stopped. Whatever it committed is in "
                                 "the store; run the command again (ingest and load are idempotent)", url=self.server.url) from None
        try:
            data = r.json()
        except ValueError:
            raise StoreError(f"the guji server at {self.server.url} answered {r.status_code} without JSON: {r.text[:200]}") from None
        if r.status_code >= 400:
            e = data.get("error", {}) if isinstance(data, dict) else {}
            raise RemoteError(e.get("code", "http_error"), e.get("message", f"HTTP {r.status_code}"), e.get("details"), r.status_code)
        return data


class LocalOperator:
    """No server holds the store: this process opened it and does the work itself."""

    remote = False

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def ingest(self, paths: list[Path], format: str | None, *, sync: bool = True, **progress) -> dict[str, Any]:
        result = operations.ingest(self.ctx, paths, format, **progress)
        if any(not s.get("unchanged", True) or s.get("changes") for s in result["sources"]):
            self.ctx.store.optimize()
        if sync:
            result["projections"] = operations.sync(self.ctx)
        return result

    def load(self, files: list[Path], graph: str | None, *, sync: bool = True) -> dict[str, Any]:
        result = operations.load(self.ctx, files, graph)
        if sync:
            result["projections"] = operations.sync(self.ctx)
        return result

    def import_annotations(self, file: Path) -> dict[str, Any]:
        result = operations.import_annotations(self.ctx, file)
        result["projections"] = operations.sync(self.ctx)
        return result

    def check_anchors(self, text: str | None) -> dict[str, Any]:
        result = operations.check_anchors(self.ctx, text)
        result["projections"] = operations.sync(self.ctx)
        return result

    def sync(self, rebuild: bool) -> dict[str, Any]:
        return operations.sync(self.ctx, rebuild=rebuild)

    def check(self) -> dict[str, Any]:
        return operations.check(self.ctx)

    def close(self) -> None:
        self.ctx.close()


def _absolute(paths: list[Path]) -> list[str]:
    return [str(p.expanduser().absolute()) for p in paths]  # the server's working directory is not ours


class RemoteOperator:
    """The running server holds the store: it does the work (its projector keeps projections live)."""

    remote = True

    def __init__(self, client: OperatorClient) -> None:
        self.client = client

    def ingest(self, paths: list[Path], format: str | None, *, sync: bool = True, **_progress) -> dict[str, Any]:
        return self.client.request("POST", "/api/operator/ingest", {"paths": _absolute(paths), "format": format})

    def load(self, files: list[Path], graph: str | None, *, sync: bool = True) -> dict[str, Any]:
        return self.client.request("POST", "/api/operator/load", {"files": _absolute(files), "graph": graph})

    def import_annotations(self, file: Path) -> dict[str, Any]:
        return self.client.request("POST", "/api/operator/annotations/import", {"file": _absolute([file])[0]})

    def check_anchors(self, text: str | None) -> dict[str, Any]:
        return self.client.request("POST", "/api/operator/annotations/check-anchors", {"text": text})

    def sync(self, rebuild: bool) -> dict[str, Any]:
        return self.client.request("POST", "/api/operator/sync", {"rebuild": rebuild})

    def check(self) -> dict[str, Any]:
        return self.client.request("GET", "/api/operator/sync/check")

    def close(self) -> None:
        pass


def connect(settings: Settings) -> LocalOperator | RemoteOperator:
    """Open the store here; when a running ``guji serve`` holds it, work through that server."""
    ctx = Context(settings)
    try:
        ctx.store
        return LocalOperator(ctx)
    except StoreError as exc:
        ctx.close()
        if "lock" not in exc.message.lower():
            raise
    path = settings.oxigraph_path
    holder = lock_holder(path)
    server, why = find_server(settings)
    if server is not None and holder not in (None, server.pid):  # the pid was reused by another process
        server, why = None, f"{settings.run_path / SERVER_FILE} is stale: it names pid {server.pid}, not the holder"
    if server is not None:
        return RemoteOperator(OperatorClient(server, timeout=settings.operator_timeout_seconds))
    command = command_of(holder) if holder else None
    if command and " serve" in f" {command}":
        raise StoreError(f"the guji server (process {holder}) is starting and holds the RDF store at {path}; it says where "
                         f"it listens in {settings.run_path} once it is ready: run this command again in a moment",
                         path=str(path), holder_pid=holder)
    who = f"process {holder}" + (f" ({command})" if command else "") if holder else "another process"
    raise StoreError(f"the RDF store at {path} is in use by {who}, and it is not a guji server this command can work "
                     f"through: {why}. Wait for that command to finish, then run this one again.",
                     path=str(path), holder_pid=holder)
