"""A real ``guji serve`` in a subprocess on 127.0.0.1, for tests of what only a running server does
(connections handed to direct SPARQL workers, ADR 0026)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, home: Path, *, sample: bool = False, **env: str) -> None:
        self.home, self.port = home, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "GUJI_HOME": str(home), "GUJI_ENVIRONMENT": "test", "PYTHONPATH": str(ROOT),
                    "GUJI_SUGGEST_AUTO_TRAIN": "false", **env}
        for k in ("GUJI_NEO4J_URI", "GUJI_ES_URL"):
            self.env.pop(k, None)
        self._log = open(home / "server.log", "wb")
        args = [sys.executable, "-m", "api", "serve", "--port", str(self.port)] + (["--sample"] if sample else [])
        self.proc = subprocess.Popen(args, env=self.env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(self.log()[-3000:])
            try:
                if httpx.get(self.base + "/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        self.stop()
        raise AssertionError("the server did not come up: " + self.log()[-3000:])

    def log(self) -> str:
        return (self.home / "server.log").read_text(errors="replace")

    def fresh(self, **kwargs) -> httpx.Client:
        """A client that opens a new connection for every request (so each one's first bytes are its own)."""
        return httpx.Client(base_url=self.base, limits=httpx.Limits(max_keepalive_connections=0), **kwargs)

    def metric(self, name: str) -> float:
        text = httpx.get(self.base + "/metrics", timeout=10).text
        m = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", text, re.M)
        assert m, f"{name} not in /metrics"
        return float(m.group(1))

    def wait_direct_ready(self, n: int = 2, timeout: float = 60) -> None:
        """Until ``n`` direct SPARQL workers are ready (they start after the server answers)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if f'guji_sparql_direct_workers{{state="ready"}} {float(n)}' in httpx.get(self.base + "/metrics", timeout=10).text:
                return
            time.sleep(0.2)
        raise AssertionError(f"{n} direct SPARQL workers were not ready in {timeout} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._log.close()
