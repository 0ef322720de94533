"""Submission packages (BagIt bags of tables, texts and images): validate, then ingest.

``validate_package(path)`` reads everything, checks it and returns the report (样例数据审核);
nothing is written. ``ingest_package(store, path)`` writes a valid package's public and
preservation graphs in one transaction, and writes nothing at all when the package is invalid.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import rdflib

from kg.errors import InvalidPackageError
from kg.package.rdf import PackageGraphs, build
from kg.package.reader import ArchiveLimits, Package, Unpacked, check_references, read_package, sweep_stale_temp
from kg.package.report import Report, Severity
from kg.store import Change, OxigraphStore

if TYPE_CHECKING:
    from images.store import PyramidStore

__all__ = ["ArchiveLimits", "PackageResult", "ingest_package", "require_valid", "sweep_stale_temp", "validate_package"]


@dataclass
class PackageResult:
    report: Report
    graphs: PackageGraphs | None
    changes: list[Change]


def _to_rdflib(triples) -> rdflib.Graph:
    """pyoxigraph terms → an rdflib graph for pyshacl (term by term: 4x faster than re-parsing N-Triples)."""
    import pyoxigraph as ox

    cache: dict = {}

    def term(t):
        r = cache.get(t)
        if r is None:
            if isinstance(t, ox.NamedNode):
                r = rdflib.URIRef(t.value)
            elif isinstance(t, ox.BlankNode):
                r = rdflib.BNode(t.value)
            elif t.language:
                r = rdflib.Literal(t.value, lang=t.language)
            else:
                r = rdflib.Literal(t.value, datatype=rdflib.URIRef(t.datatype.value))
            cache[t] = r
        return r

    g = rdflib.Graph()
    for t in triples:
        g.add((term(t.subject), term(t.predicate), term(t.object)))
    return g


def _shacl(pg: PackageGraphs, report: Report) -> None:
    from kg.ontology import validate

    result = validate(_to_rdflib(pg.public + pg.preservation))
    for r in result.results:
        focus = str(r.focus_node)
        file, row = pg.origin.get(focus, (None, None))
        path = str(r.path) if isinstance(r.path, rdflib.URIRef) else None
        column = pg.columns.get((file, path)) if file and path else None
        severity = Severity.VIOLATION if r.severity.value == "Violation" else Severity.WARNING
        report.add(
            severity, "shacl", file or "(graph)",
            r.message_in("zh-Hans"), r.message,
            row=row, field=column or (path.rsplit("/", 1)[-1].rsplit("#", 1)[-1] if path else None),
            value=None if r.value is None else str(r.value),
        )


def validate_package(path: Path | str, *, shacl: bool = True, limits: ArchiveLimits | None = None,
                     when_valid: Callable[[Package], None] | None = None) -> PackageResult:
    """Raises :class:`kg.errors.ArchiveError` for a .zip that can not be unpacked within ``limits``.
    ``when_valid(package)`` runs on a valid package while its files are still unpacked."""
    path = Path(path)
    report = Report(path.name)
    with Unpacked(path, limits) as root:
        pkg = read_package(root, report, limits)
        if pkg is None:
            return PackageResult(report, None, [])
        check_references(pkg, report)
        report.counts = {name: len(rows) for name, rows in pkg.tables.items()} | {"texts": len(pkg.texts)}
        if not report.valid:
            return PackageResult(report, None, [])  # graph checks on broken rows would only repeat the errors
        graphs = build(pkg)
        if shacl:
            _shacl(graphs, report)
        report.counts["triples"] = len(graphs.public) + len(graphs.preservation)
        if when_valid is not None and report.valid:
            when_valid(pkg)
        return PackageResult(report, graphs, [])


def ingest_package(store: OxigraphStore, path: Path | str, *, agent: str, limits: ArchiveLimits | None = None,
                   pyramids: "PyramidStore | None" = None) -> PackageResult:
    """Validate; when valid, make the tiled pyramid of every service-level image (``pyramids``,
    content-addressed, so before the graphs: once the change log shows the files, their images can
    be served), then write the public and the preservation graph in one transaction."""

    def derive(pkg: Package) -> None:
        for info, sha in pkg.images.values():
            pyramids.add(info.path, sha)

    result = validate_package(path, limits=limits, when_valid=derive if pyramids is not None else None)
    if not result.report.valid or result.graphs is None:
        return result
    from kg.works import confirmed

    result.graphs.apply_identity(confirmed(store))  # curator-confirmed merges hold across re-ingest
    result.changes = store.replace_graphs(result.graphs.graphs, agent=agent)
    return result


def require_valid(result: PackageResult) -> None:
    if not result.report.valid:
        first = result.report.violations[0]
        raise InvalidPackageError(
            f"the package is invalid: {len(result.report.violations)} violation(s); first: {first.where()}: {first.message_en}",
            file=first.file, line=first.row, field=first.field, report=result.report.to_json(),
        )
