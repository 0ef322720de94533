"""The one interface every projection implements, and what they share."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from kg.errors import GujiError
from kg.store import Change, Store


class ProjectionError(GujiError):
    """A projection could not be applied, checked or rebuilt (its server is down, ...)."""

    code = "projection_failed"


@runtime_checkable
class Projection(Protocol):
    """A read model of the public part of the canonical store.

    - ``checkpoint(store)``: the last change-log sequence this projection holds, or ``None``
      when it must be rebuilt (never built, built from another store, a rebuild that was
      interrupted).
    - ``apply(store, changes)``: re-project the graphs these changes name from the store's
      *current* state (so re-applying is harmless and order within a batch does not matter),
      then move the checkpoint to the last change. Returns counts of what was written.
    - ``rebuild(store)``: from scratch; marks itself as rebuilding first, so an interrupted
      rebuild is seen by ``checkpoint`` as "rebuild again".
    - ``check(store)``: compare *content* with the store (counts per source graph and per
      type/label, sampled fingerprints). ``{"in_sync": bool, "drift": [...], ...}``.

    Optionally, the express lane (``projections.projector``): ``expressable(change)`` says whether
    a change is small enough to go ahead of a long step, ``express(store, changes)`` applies such
    changes *without* moving the checkpoint, and ``apply`` then takes ``between``, a callback it
    calls at safe points of a long step (nothing half-written exposed).
    """

    name: str

    def checkpoint(self, store: Store) -> int | None: ...

    def apply(self, store: Store, changes: Sequence[Change]) -> dict[str, Any]: ...

    def rebuild(self, store: Store) -> dict[str, Any]: ...

    def check(self, store: Store) -> dict[str, Any]: ...

    def close(self) -> None: ...
