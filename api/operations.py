"""Operator operations that write the canonical store: ingest, load, annotation import and anchor
checks, projection sync and check.

One implementation, two callers: the CLI runs them in its own process when no server holds the
store, and ``guji serve`` runs them for the CLI (``/api/operator/...``) when it does. Each returns
plain JSON-shaped dicts, so the CLI prints the same lines whichever process did the work.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Optional

from api.context import Context
from kg.errors import ValidationError

FORMATS = ("kanripo", "package")


def detect_format(path: Path) -> str:
    if path.suffix.lower() == ".zip" or (path / "bagit.txt").is_file():
        return "package"
    return "kanripo"


def ingest_format(paths: list[Path], format: str | None) -> str:
    """The one format of this ingest (given, or detected from every path)."""
    formats = {format} if format else {detect_format(p) for p in paths}
    if not formats <= set(FORMATS) or len(formats) > 1:
        raise ValidationError(f"give one format at a time: kanripo or package (got {', '.join(sorted(formats))})",
                              field="format")
    return formats.pop()


def _change(change) -> dict[str, Any]:
    if change is None:
        return {"added": 0, "removed": 0, "unchanged": True}
    return {"added": change.added, "removed": change.removed, "unchanged": False}


def ingest(ctx: Context, paths: list[Path], format: str | None = None, *, agent: str = "guji ingest",
           on_read: Optional[Callable[[str, int, int], None]] = None,
           on_source: Optional[Callable[[dict], None]] = None,
           on_progress: Optional[Callable[[str, int, int], None]] = None) -> dict[str, Any]:
    """Ingest Kanripo works or submission packages (one named graph per source, idempotent).

    Kanripo: a work whose files, reader and work identities have the digest of its last ingest is
    skipped unparsed (``skipped``); every other work is read and checked first (a broken one raises
    and nothing is written), then each work's graph is written in one transaction with its digest
    and the annotations of changed juan are re-anchored. Packages: each is validated, then written; the first invalid one stops the run
    (``valid`` false, its report in ``sources``). ``on_read(name, i, n)`` and ``on_source(source)``
    report progress to a caller that shows it; ``on_progress(phase, done, total)`` the phases of
    a package ingest (reading bytes, checking and loading books: kg.package.stream).
    """
    fmt = ingest_format(paths, format)
    sources: list[dict[str, Any]] = []
    valid = True
    if fmt == "kanripo":
        from kg import ingest_kanripo as kr
        from kg.ingest_kanripo import digest_graph, digest_triples, find_works, graph_iri, source_digest, unchanged
        from kg.works import confirmed, rewrite

        works = find_works(paths)
        kr.clear_interrupted_load(ctx.store, agent=agent)
        graphs, new, digests = [], [], {}
        for i, w in enumerate(works):
            if on_read:
                on_read(w.name, i, len(works))
            digest = source_digest(ctx.store, w)
            digests[w.name] = digest
            if unchanged(ctx.store, w.name, digest):
                # the same files, reader and work identities as the last ingest: not even parsed
                graphs.append((w, digest, None))
            elif ctx.store.is_empty(graph_iri(w.name)):
                graphs.append((w, digest, "new"))  # a first ingest: read in worker processes, bulk loaded below
                new.append(w)
            else:
                graphs.append((w, digest, kr.read_work(w)))  # raises on the first broken work: nothing written yet
        # first ingests: read in worker processes and bulk loaded out of sight, published together
        # (a broken work raises before anything is visible; ADR 0025)
        done, loaded = kr.bulk_ingest(ctx.store, new, digests, agent=agent, processes=ctx.settings.ingest_processes)
        reads = {r.text_id: r for r in done}
        loaded = {c.graph: c for c in loaded}
        for w, digest, wg in graphs:
            if wg is None:
                source = {"source": w.name, "graph": graph_iri(w.name), "skipped": True, "triples": 0, **_change(None),
                          "warnings": [], "reanchored": []}
            elif wg == "new":
                r = reads[w.name]
                source = {"source": r.text_id, "graph": graph_iri(r.text_id), "juan": r.juans, "folio_sides": r.folios,
                          "characters": r.chars, "triples": r.triples, **_change(loaded.get(graph_iri(r.text_id))),
                          "warnings": list(r.warnings), "reanchored": []}
            else:
                # curator-confirmed work identities hold across re-ingest (kg.works); the digest is
                # written with the graph, in its transaction
                change, reanchored = ctx.replace_texts(graph_iri(wg.text_id), rewrite(wg.triples, confirmed(ctx.store)), agent=agent,
                                                       also={digest_graph(wg.text_id): digest_triples(wg.text_id, digest)})
                source = {"source": wg.text_id, "graph": graph_iri(wg.text_id), "juan": wg.juan_count,
                          "folio_sides": wg.folio_count, "characters": wg.char_count, "triples": len(wg.triples),
                          **_change(change), "warnings": list(wg.warnings),
                          "reanchored": [{"source": r.source, "checked": r.checked, "outcomes": r.outcomes} for r in reanchored]}
            sources.append(source)
            if on_source:
                on_source(source)
    else:
        from kg.package import ingest_package

        for path in paths:
            result = ingest_package(ctx.store, path, agent=agent, limits=ctx.archive_limits(), pyramids=ctx.pyramids,
                                    progress=on_progress, batch_books=ctx.settings.package_batch_books,
                                    load_bytes=ctx.settings.package_load_bytes, workers=ctx.settings.package_workers)
            source = {"source": str(path), "valid": result.report.valid, "report": result.report.to_json(),
                      "report_text": result.report.to_text(),
                      "changes": [{"graph": c.graph, "added": c.added, "removed": c.removed} for c in result.changes],
                      "triples": result.report.counts.get("triples", 0)}
            sources.append(source)
            if on_source:
                on_source(source)
            if not result.report.valid:
                valid = False
                break
    return {"format": fmt, "valid": valid, "sources": sources,
            "triples": sum(s["triples"] for s in sources), "quads": ctx.store.count()}


def load(ctx: Context, files: list[Path], graph: str | None = None, *, agent: str = "guji load") -> dict[str, Any]:
    """Load RDF files into named graphs; every file is parsed before anything is written."""
    from kg.load import load_files

    return {"files": [{"file": r.file, "graph": r.graph, "triples": r.triples, **_change(r.change)}
                      for r in load_files(ctx.store, files, graph=graph, agent=agent)]}


def import_annotations(ctx: Context, file: Path) -> dict[str, Any]:
    """Restore an annotation export exactly (ids, creators, status, history), as the operator."""
    from annotation.policies import Identity
    from annotation.schemas import parse_collection

    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValidationError(f"can not read {file}: {exc}", file=str(file)) from None
    return {"counts": ctx.annotations.restore(Identity.system(), parse_collection(doc))}


def check_anchors(ctx: Context, text: str | None = None) -> dict[str, Any]:
    from annotation.policies import Identity

    reports = ctx.annotations.check_anchors(Identity.system(), text)
    return {"reports": [{"source": r.source, "checked": r.checked, "outcomes": r.outcomes} for r in reports]}


def sync(ctx: Context, *, rebuild: bool = False) -> dict[str, Any]:
    """Catch every projection up (or rebuild it): {name: what was done | "not synced: <error>"}."""
    return ctx.sync_projections(rebuild=rebuild)


def check(ctx: Context) -> dict[str, Any]:
    """Every projection compared with the store: {"in_sync": bool, name: report, ...}."""
    reports = ctx.check_projections()
    return {"in_sync": all(r.get("in_sync") for r in reports.values()), **reports}


def projections_after_write(ctx: Context, timeout: float) -> dict[str, Any]:
    """In the server, where the projector applies writes live: wait (bounded) until every
    projection shows the last write, then say where each stands."""
    ctx.projector.wait_until(ctx.store.last_sequence(), timeout)
    out: dict[str, Any] = {}
    for st in ctx.projector.status():
        if st.state == "failing":
            out[st.name] = f"not synced: {st.last_error}"
        else:
            out[st.name] = {"state": st.state, "checkpoint": st.checkpoint, "pending": st.pending}
    return out

