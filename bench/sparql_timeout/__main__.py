"""Measurement: does a query past the time limit stop consuming CPU on the SPARQL server?

    python -m bench.sparql_timeout oxigraph-server http://127.0.0.1:7878 [SERVER_PID]
    python -m bench.sparql_timeout fuseki http://127.0.0.1:3030/guji [SERVER_PID]

Loads 3,000 triples into a scratch graph of the server (a test server: ``scripts/services up``),
sends ``SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }`` (2.7e10 rows, never
finishes) through :class:`kg.sparql_remote.RemoteQueryRunner` with a 2 s limit, then samples the
server process's CPU time (``/proc/PID/stat``, utime + stime) every second for 15 s. The PID is
found from the listening port when not given. Prints a table; asserts nothing. Removes the graph.
"""

from __future__ import annotations

import os
import sys
import time
from urllib.parse import urlsplit

import httpx

from kg.sparql_remote import Endpoints, RemoteQueryRunner

GRAPH = "urn:x-guji:bench:timeout"
QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def pid_listening(port: int) -> int:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in open(table).read().splitlines()[1:]:
            parts = line.split()
            if int(parts[1].rsplit(":", 1)[1], 16) == port and parts[3] == "0A":
                inodes.add(parts[9])
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                link = os.readlink(f"/proc/{pid}/fd/{fd}")
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(pid)
        except OSError:
            continue
    raise SystemExit(f"no process listens on port {port}; give the server's pid")


def main() -> None:
    engine, url = sys.argv[1], sys.argv[2]
    endpoints = Endpoints.of(engine, url)
    pid = int(sys.argv[3]) if len(sys.argv) > 3 else pid_listening(urlsplit(url).port or 80)
    nt = "".join(f"<urn:x:s{i}> <urn:x:p{i % 7}> \"v{i}\" .\n" for i in range(3000))
    httpx.put(endpoints.gsp, params={"graph": GRAPH}, content=nt.encode(),
              headers={"Content-Type": "application/n-triples"}, timeout=60).raise_for_status()
    runner = RemoteQueryRunner(endpoints, timeout=2)
    try:
        start_cpu, t0 = cpu_seconds(pid), time.monotonic()
        try:
            runner.run(QUERY)
            outcome = "answered (!)"
        except Exception as exc:  # noqa: BLE001 - the outcome is what we print
            outcome = f"{type(exc).__name__}"
        print(f"{engine} pid {pid}: {outcome} after {time.monotonic() - t0:.2f} s (limit 2 s)")
        print(f"{'s after the query was sent':>28} {'server CPU s since':>20}")
        for _ in range(15):
            print(f"{time.monotonic() - t0:>28.1f} {cpu_seconds(pid) - start_cpu:>20.2f}")
            time.sleep(1)
    finally:
        runner.close()
        httpx.delete(endpoints.gsp, params={"graph": GRAPH}, timeout=60)


if __name__ == "__main__":
    main()
