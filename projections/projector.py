"""The projector: applies the change log to every projection, live, inside ``guji serve``.

Each projection has its own background thread, woken when the store commits (the store calls
:meth:`Projector.notify` after every transaction) and otherwise every ``poll_interval`` seconds (a
safety net, and how a projection that was down is retried): a long job of one projection (Neo4j
working through a 600,000-quad ingest, a rebuild) does not hold the others back, so an approval
reaches search and the public SPARQL dataset while Neo4j is still busy. Each thread reads the
changes after its projection's checkpoint, in batches, and applies them; the checkpoint moves only
after a batch is applied, so delivery is at least once and ordered by the change log, and since
``apply`` re-projects whole graphs from the store's current state, applying twice is harmless.

**The express lane.** A long step (a 10,000-book package, a Kanripo ingest) would hold every change
after it back, so an annotator's approval made meanwhile would wait for the whole ingest to be
projected. A projection that offers it (``express`` and ``expressable``; search and the public
SPARQL dataset) is handed a callback, ``between``, that its ``apply`` calls at safe points (after a
graph, after a slice of a new graph: nothing half-written is exposed). Once the step has run
``express_after`` seconds, the callback applies the small changes committed after the step
(annotation graphs) there and then, in log order, *without* moving the checkpoint: the step and
the express changes run in the one projection thread, so nothing is written concurrently, and
since ``apply`` re-reads current state, the in-order pass that follows re-applies them harmlessly.
:meth:`wait_until` with ``since`` (a write's answer) counts an express-applied change as shown
(ADR 0011, amendment 3).

A projection that fails (Neo4j or Elasticsearch down) is retried with exponential backoff
(1 s, 2 s, 4 s … ``max_backoff``); the others go on. Nothing is lost meanwhile: the change log
is the queue. ``status()`` reports, per projection, the checkpoint, the pending changes, the lag
in seconds (age of the oldest change not yet applied) and the last error; ``/healthz`` and
``/metrics`` show it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from kg.errors import GujiError
from kg.store import Store
from projections.base import Projection

log = logging.getLogger("guji.projector")

LONG_JOB = 1.0  # seconds: a step that has taken this long is a bulk job (an ingest, a rebuild)
EXPRESS_AFTER = 0.5  # seconds into a step before small changes after it are applied at its safe points
EXPRESS_LIMIT = 500  # change-log entries looked at per safe point
BATCH = 500  # change-log entries applied per step (a step re-projects each named graph once)
# A projection may take larger steps (its ``batch`` attribute): the search index coalesces every
# annotation change of a step into one re-index per juan, so a backlog of approvals costs one
# re-index of each juan touched per step instead of one per 250 approvals (ADR 0018).


@dataclass
class ProjectionStatus:
    name: str
    checkpoint: int | None = None
    last_sequence: int = 0
    pending: int = 0
    lag_seconds: float = 0.0
    state: str = "starting"  # ok | catching-up | rebuilding | failing | starting
    last_error: str | None = None
    last_error_at: float | None = None
    last_applied_at: float | None = None
    applied_changes: int = 0
    failures: int = 0
    retry_in: float = 0.0
    _next_try: float = field(default=0.0, repr=False)
    _busy_since: float | None = field(default=None, repr=False)  # monotonic start of the step in hand
    _busy_to: int = field(default=0, repr=False)  # the last change of that step (0: a rebuild)
    express_changes: int = 0  # changes applied ahead of their turn by the express lane (since start)
    _express: set[int] = field(default_factory=set, repr=False)  # their sequences, until the checkpoint passes them

    def public(self) -> dict[str, Any]:
        # the public fields only, read as they are: copying the express set (asdict) while the
        # projection thread adds to it could fail
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}

    @contextmanager
    def busy(self, to: int) -> Iterator[None]:
        """Mark a step in hand (``to``: its last change; 0 for a rebuild) for :meth:`behind_long_job`."""
        self._busy_since, self._busy_to = time.monotonic(), to
        try:
            yield
        finally:
            self._busy_since = None

    def shows(self, sequence: int, since: int | None = None) -> bool:
        """Whether this projection holds every change up to ``sequence`` (its checkpoint is there),
        or, with ``since``, every change in ``(since, sequence]`` (a write's own changes), in order
        or by the express lane."""
        checkpoint = self.checkpoint or 0
        if checkpoint >= sequence:
            return True
        first = max(checkpoint, since if since is not None else sequence) + 1
        return since is not None and sequence - first < EXPRESS_LIMIT and all(
            s in self._express for s in range(first, sequence + 1))

    def behind_long_job(self, sequence: int, long_job: float) -> bool:
        """Busy for ``long_job`` seconds or more with a step that does not hold ``sequence``."""
        since = self._busy_since
        return since is not None and self._busy_to < sequence and time.monotonic() - since >= long_job


class Projector:
    def __init__(self, store: Store, projections: list[Projection], *, poll_interval: float = 2.0,
                 max_backoff: float = 30.0, batch: int = BATCH, long_job: float = LONG_JOB,
                 express_after: float = EXPRESS_AFTER) -> None:
        self.store = store
        self.projections = {p.name: p for p in projections}
        self.poll_interval = poll_interval
        self.max_backoff = max_backoff
        self.batch = batch
        self.long_job = long_job
        self.express_after = express_after
        self._status = {p.name: ProjectionStatus(p.name) for p in projections}
        self._locks = {p.name: threading.Lock() for p in projections}
        self._wakes = {p.name: threading.Event() for p in projections}
        self._stop = threading.Event()
        self._progress = threading.Condition()
        self._threads: dict[str, threading.Thread] = {}

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        if self._threads or not self.projections:
            return
        self._stop.clear()
        for name in self.projections:
            t = threading.Thread(target=self._run, args=(name,), name=f"guji-projector-{name}", daemon=True)
            self._threads[name] = t
            t.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self.notify()
        deadline = time.monotonic() + timeout
        for t in self._threads.values():
            t.join(max(0.0, deadline - time.monotonic()))
        self._threads = {}

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads.values())

    def notify(self, *_changes: object) -> None:
        """Called by the store after every commit: wake every projection's thread now."""
        for wake in self._wakes.values():
            wake.set()

    def _run(self, name: str) -> None:
        wake, st = self._wakes[name], self._status[name]
        while not self._stop.is_set():
            wake.clear()
            if st._next_try <= time.monotonic():
                try:
                    self.catch_up(name)
                except Exception:  # noqa: BLE001 - recorded in the status, retried with backoff
                    log.exception("projection %s failed", name)
            timeout = self.poll_interval
            if st.failures:
                timeout = min(timeout, max(0.0, st._next_try - time.monotonic()))
            wake.wait(max(0.05, timeout))

    # -- applying --------------------------------------------------------------------------------
    def catch_up(self, name: str | None = None, *, rebuild: bool = False) -> dict[str, Any]:
        """Bring one projection (or all) up to the end of the change log now; returns what was done
        per projection, or the error text of a projection that failed (it is retried later)."""
        names = [name] if name else list(self.projections)
        out: dict[str, Any] = {}
        for n in names:
            p = self.projections[n]
            st = self._status[n]
            with self._locks[n]:
                try:
                    out[n] = self._catch_up(p, st, rebuild=rebuild)
                except Exception as exc:  # noqa: BLE001 - any failure of a projection is retried
                    message = exc.message if isinstance(exc, GujiError) else f"{type(exc).__name__}: {exc}"
                    st.failures += 1
                    st.last_error, st.last_error_at = message, time.time()
                    st.retry_in = min(self.max_backoff, 2.0 ** (st.failures - 1))
                    st._next_try = time.monotonic() + st.retry_in
                    st.state = "failing"
                    out[n] = f"not synced: {message}"
                    if name is not None:
                        raise
                finally:
                    self._refresh(p, st)
            with self._progress:
                self._progress.notify_all()
        return out

    def _catch_up(self, p: Projection, st: ProjectionStatus, *, rebuild: bool) -> dict[str, Any]:
        checkpoint = None if rebuild else p.checkpoint(self.store)
        done: dict[str, Any] = {"from": checkpoint}
        if checkpoint is None:
            st.state = "rebuilding"
            with st.busy(0):
                done.update(p.rebuild(self.store))
            checkpoint = p.checkpoint(self.store) or 0
            done["rebuilt"] = True
        applied = 0
        batch = max(self.batch, int(getattr(p, "batch", 0) or 0))
        while True:
            changes = self.store.changes_since(checkpoint, limit=batch)
            if not changes:
                break
            st.state = "catching-up"
            with st.busy(changes[-1].sequence):
                if hasattr(p, "express"):
                    result = p.apply(self.store, changes, between=self._between(p, st, changes[-1].sequence))
                else:
                    result = p.apply(self.store, changes)
            for k, v in result.items():
                if isinstance(v, (int, float)):
                    done[k] = done.get(k, 0) + v
            checkpoint = changes[-1].sequence
            applied += len(changes)
            st.checkpoint, st.applied_changes = checkpoint, st.applied_changes + len(changes)
            st._express = {s for s in st._express if s > checkpoint}
            st.last_applied_at = time.time()
            with self._progress:
                self._progress.notify_all()
        st.failures, st.retry_in, st._next_try, st.state = 0, 0.0, 0.0, "ok"
        done.update({"to": checkpoint, "changes": applied})
        return done

    def _between(self, p: Any, st: ProjectionStatus, step_end: int) -> Callable[[], None]:
        """The express lane of one step of ``p`` (the module docstring): called by ``p.apply`` at
        its safe points, in the projection's own thread."""
        started = time.monotonic()
        seen = step_end  # the last change looked at

        def between() -> None:
            nonlocal seen
            end = self.store.last_sequence()
            if time.monotonic() - started < self.express_after or end <= seen:
                return
            while seen < end:  # what was committed when the safe point came, EXPRESS_LIMIT entries at a time
                news = self.store.changes_since(seen, limit=min(EXPRESS_LIMIT, end - seen))
                if not news:
                    return
                seen = news[-1].sequence
                small = [c for c in news if c.sequence not in st._express and p.expressable(c)]
                if small:
                    p.express(self.store, small)
                    log.info("projection %s: %d change(s) up to %d applied ahead of the step ending at %d, %.1f s into it",
                             p.name, len(small), small[-1].sequence, step_end, time.monotonic() - started)
                    st._express.update(c.sequence for c in small)
                    st.express_changes += len(small)
                    with self._progress:
                        self._progress.notify_all()

        return between

    def _refresh(self, p: Projection, st: ProjectionStatus) -> None:
        last = self.store.last_sequence()
        st.last_sequence = last
        if st.state != "failing":
            try:
                st.checkpoint = p.checkpoint(self.store)
            except Exception as exc:  # noqa: BLE001
                st.last_error = f"{type(exc).__name__}: {exc}"
        cp = st.checkpoint or 0
        st.pending = max(0, last - cp)
        st.lag_seconds = self._lag(cp) if st.pending else 0.0

    def _lag(self, checkpoint: int) -> float:
        first = self.store.change(checkpoint + 1)
        if first is None:
            return 0.0
        try:
            at = datetime.fromisoformat(first.at.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return 0.0
        return max(0.0, round(time.time() - at, 3))

    # -- reading ---------------------------------------------------------------------------------
    def status(self) -> list[ProjectionStatus]:
        last = self.store.last_sequence()
        for st in self._status.values():
            st.last_sequence = last
            cp = st.checkpoint or 0
            st.pending = max(0, last - cp)
            st.lag_seconds = self._lag(cp) if st.pending else 0.0
        return list(self._status.values())

    def wait_until(self, sequence: int | None = None, timeout: float = 10.0, *,
                   not_behind_long_jobs: bool = False, since: int | None = None) -> bool:
        """Block until every projection has applied ``sequence`` (default: the last change now), or
        with ``since`` (a write request: its changes are those after ``since``) every change in
        ``(since, sequence]``, counting those the express lane applied ahead of a long step.

        ``not_behind_long_jobs`` (a write request's answer): a projection busy for
        ``long_job`` seconds or more with a step that does not hold ``sequence`` (working through
        a large ingest made before, or rebuilding) is not waited for either: it shows the write
        when it is through, and waiting would only add the whole bound to every click of an
        annotator while a librarian's ingest is projected. Returns False when it did not wait
        for everything."""
        target = self.store.last_sequence() if sequence is None else sequence
        if not self.running:
            return all(st.shows(target, since) for st in self._status.values())
        deadline = time.monotonic() + timeout
        self.notify()
        with self._progress:
            while True:
                # a failing projection is not waited for: it catches up when it is back
                waiting = [st for st in self._status.values() if not st.shows(target, since) and st.state != "failing"]
                if not waiting:
                    return True
                if not_behind_long_jobs and all(st.behind_long_job(target, self.long_job) for st in waiting):
                    return False
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._progress.wait(min(left, 0.1))

    def check(self) -> dict[str, Any]:
        """Content check of every projection; one that cannot be reached is reported, not skipped."""
        out: dict[str, Any] = {}
        for name, p in self.projections.items():
            try:
                out[name] = p.check(self.store)
            except Exception as exc:  # noqa: BLE001
                message = exc.message if isinstance(exc, GujiError) else f"{type(exc).__name__}: {exc}"
                out[name] = {"in_sync": False, "reachable": False, "error": message, "drift": []}
        return out

    def close(self) -> None:
        self.stop()
        for p in self.projections.values():
            try:
                p.close()
            except Exception:  # noqa: BLE001
                log.exception("closing projection %s", p.name)
