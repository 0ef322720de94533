"""Projections: read models derived from the canonical store and kept live from its change log.

Each projection (the search index, Neo4j, the public SPARQL dataset) implements the small
:class:`~projections.base.Projection` protocol; the :class:`~projections.projector.Projector`
applies the change log to every configured projection inside ``guji serve``, continuously,
at least once and idempotently, retrying a projection that is down until it catches up.
"""

from projections.base import Projection, ProjectionError
from projections.projector import Projector, ProjectionStatus

__all__ = ["Projection", "ProjectionError", "Projector", "ProjectionStatus"]
