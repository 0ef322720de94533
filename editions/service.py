"""Cross-edition proposals: an approved annotation carried to the other editions of its work.

When an annotation on one edition's juan is approved, :meth:`EditionService.refresh` aligns that
juan with the other editions of the work (:mod:`editions.align`) and proposes the annotation at
every place its span is aligned to, as a *proposal* "from edition X". Proposals are data in the
canonical store, one private graph per origin annotation (``gg:private/edition-proposals/<ULID>``,
never public), written through ``Store.replace_graphs`` like every write, so they are in the change
log and the review queue is what the store holds.

A reviewer accepts proposals (one or in bulk) or rejects them. An accepted proposal becomes a normal
approved annotation on the other edition, created by the origin's annotator, reviewed by the
accepting reviewer, with ``prov:wasDerivedFrom`` the origin; the proposal and the new annotation
are written in one transaction. From then on:

- the copy's own text changing re-anchors it like any annotation (``Context.replace_texts``);
- the origin changing (its text corrected and the origin re-anchored, or the origin retracted or
  deleted) runs :meth:`refresh` again through the projection: a pending proposal moves to the new
  aligned place (re-proposed), an accepted copy that no longer stands where the origin is aligned
  is *flagged* (anchor ``needs_review`` with the reason), never moved silently.

Proposal ids are ``<origin ULID>.<edition code>`` (one proposal per origin and edition).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import pyoxigraph as ox

from accounts.identity import Identity, Role
from annotation import anchors
from annotation.errors import AnnotationGoneError, AnnotationNotFoundError, TargetMismatchError
from annotation.model import (
    ID_PATTERN,
    Anchor,
    AnchorState,
    Annotation,
    HistoryEntry,
    Review,
    Status,
    TextSelection,
    agent_name,
    annotation_iri,
    new_id,
    now_iso,
)
from annotation.service import AnnotationService, graphs_of
from editions.align import EditionAlignment
from editions.errors import InvalidProposalRequestError, ProposalConflictError, ProposalNotFoundError
from kg.graphs import ANNOTATION, EDITION_PROPOSALS
from kg.namespaces import BF, DCTERMS, GUJI, OA, PROV, RDF, XSD

PROPOSALS_BASE = EDITION_PROPOSALS
PROPOSAL_STATUSES = ("proposed", "accepted", "rejected")
MAX_BULK = 500
_FLAGGED = (AnchorState.NEEDS_REVIEW, AnchorState.ORPHANED)  # an origin in this state proposes nothing

N = ox.NamedNode
_PREFIXES = (f"PREFIX oa: <{OA}> PREFIX guji: <{GUJI}> PREFIX dcterms: <{DCTERMS}> PREFIX bf: <{BF}> "
             f"PREFIX prov: <{PROV}>\n")
_TYPE = N(RDF + "type")
_INT = N(XSD + "integer")
_DT = N(XSD + "dateTime")


def _g(local: str) -> ox.NamedNode:
    return N(GUJI + local)


def _o(local: str) -> ox.NamedNode:
    return N(OA + local)


@dataclass
class Proposal:
    """One annotation proposed on one other edition."""

    origin: str  # origin annotation id (ULID)
    work: str
    from_edition: str
    to_edition: str
    source: str  # the juan of the other edition
    start: int
    end: int
    exact: str
    prefix: str
    suffix: str
    alignment: str  # identical | variant | substituted (editions.align.Mapped.kind)
    origin_revision: int
    status: str = "proposed"
    copy: str | None = None  # the accepted copy's annotation id
    decided_by: str | None = None
    decided_at: str | None = None
    reason: str | None = None

    @property
    def id(self) -> str:
        return f"{self.origin}.{self.to_edition}"

    @property
    def iri(self) -> str:
        return f"{annotation_iri(self.origin)}/edition-proposal/{self.to_edition}"

    def same_place(self, other: "Proposal") -> bool:
        return (self.source, self.start, self.end) == (other.source, other.start, other.end)

    def triples(self) -> list[ox.Triple]:
        P = N(self.iri)
        out = [ox.Triple(P, _TYPE, _g("EditionProposal")),
               ox.Triple(P, N(PROV + "wasDerivedFrom"), N(annotation_iri(self.origin))),
               ox.Triple(P, _g("work"), N(self.work)),
               ox.Triple(P, _g("fromEdition"), ox.Literal(self.from_edition)),
               ox.Triple(P, _g("toEdition"), ox.Literal(self.to_edition)),
               ox.Triple(P, _o("hasSource"), N(self.source)),
               ox.Triple(P, _o("start"), ox.Literal(str(self.start), datatype=_INT)),
               ox.Triple(P, _o("end"), ox.Literal(str(self.end), datatype=_INT)),
               ox.Triple(P, _o("exact"), ox.Literal(self.exact)),
               ox.Triple(P, _o("prefix"), ox.Literal(self.prefix)),
               ox.Triple(P, _o("suffix"), ox.Literal(self.suffix)),
               ox.Triple(P, _g("alignment"), ox.Literal(self.alignment)),
               ox.Triple(P, _g("originRevision"), ox.Literal(str(self.origin_revision), datatype=_INT)),
               ox.Triple(P, _g("proposalStatus"), ox.Literal(self.status))]
        if self.copy:
            out.append(ox.Triple(P, _g("copy"), N(annotation_iri(self.copy))))
        if self.decided_by:
            out.append(ox.Triple(P, _g("decidedBy"), N(self.decided_by)))
        if self.decided_at:
            out.append(ox.Triple(P, N(PROV + "atTime"), ox.Literal(self.decided_at, datatype=_DT)))
        if self.reason:
            out.append(ox.Triple(P, _g("reason"), ox.Literal(self.reason)))
        return out

    def public(self) -> dict[str, Any]:
        d = asdict(self)
        d["id"] = self.id
        d["origin_iri"] = annotation_iri(self.origin)
        if self.decided_by:
            d["decided_by_name"] = agent_name(self.decided_by)
        return d


def _read_proposals(triples: Iterable[ox.Triple]) -> dict[str, Proposal]:
    """Proposals of one graph, by target edition."""
    props: dict[str, dict[str, ox.Term]] = {}
    for t in triples:
        props.setdefault(t.subject.value, {})[t.predicate.value] = t.object
    out = {}
    for node in props.values():
        if node.get(RDF + "type") != _g("EditionProposal"):
            continue
        v = lambda ns, local, default=None: node[ns + local].value if ns + local in node else default  # noqa: E731
        copy = v(GUJI, "copy")
        p = Proposal(origin=v(PROV, "wasDerivedFrom").rsplit("/", 1)[1], work=v(GUJI, "work"),
                     from_edition=v(GUJI, "fromEdition"), to_edition=v(GUJI, "toEdition"), source=v(OA, "hasSource"),
                     start=int(v(OA, "start")), end=int(v(OA, "end")), exact=v(OA, "exact"), prefix=v(OA, "prefix", ""),
                     suffix=v(OA, "suffix", ""), alignment=v(GUJI, "alignment"), origin_revision=int(v(GUJI, "originRevision", 0)),
                     status=v(GUJI, "proposalStatus"), copy=copy.rsplit("/", 1)[1] if copy else None,
                     decided_by=v(GUJI, "decidedBy"), decided_at=v(PROV, "atTime"), reason=v(GUJI, "reason"))
        out[p.to_edition] = p
    return out


@dataclass
class Copy:
    """A digital copy (one edition's text) of a work: its juans in order."""

    item: str
    edition: str
    juans: list[tuple[str, str]]  # (juan IRI, text)

    def digest(self) -> str:
        h = hashlib.sha256()
        for iri, text in self.juans:
            h.update(iri.encode())
            h.update(b"\0")
            h.update(text.encode())
            h.update(b"\1")
        return h.hexdigest()


class EditionService:
    def __init__(self, store, annotations: AnnotationService) -> None:
        self.store = store
        self.annotations = annotations
        self._lock = threading.RLock()
        self._alignments: dict[tuple[str, str], tuple[str, str, EditionAlignment]] = {}
        self._memo: dict | None = None  # within one refresh: juan places and copies read once per work

    def _memoised(self, key: tuple, compute):
        if self._memo is None:
            return compute()
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    # -- the work's editions -------------------------------------------------------------------

    def _juan_place(self, juan: str) -> tuple[str, str, str] | None:
        """(work, digital copy, edition code) of a juan, or None."""
        return self._memoised(("place", juan), lambda: self._read_juan_place(juan))

    def _read_juan_place(self, juan: str) -> tuple[str, str, str] | None:
        rows = list(self.store.query(f"""{_PREFIXES}SELECT ?work ?item ?code WHERE {{ GRAPH ?g {{
            <{juan}> dcterms:isPartOf ?item . ?item a guji:DigitalCopy ; guji:editionCode ?code ; bf:itemOf ?inst .
            ?inst bf:instanceOf ?work }} }} LIMIT 1"""))
        if not rows:
            return None
        return rows[0]["work"].value, rows[0]["item"].value, rows[0]["code"].value

    def copies_of(self, work: str) -> list[Copy]:
        """Every digital copy of a work with its juans' texts, in juan order."""
        return self._memoised(("copies", work), lambda: self._read_copies(work))

    def _read_copies(self, work: str) -> list[Copy]:
        rows = self.store.query(f"""{_PREFIXES}SELECT ?item ?code ?j ?seq ?t WHERE {{ GRAPH ?g {{
            ?item a guji:DigitalCopy ; guji:editionCode ?code ; bf:itemOf ?inst . ?inst bf:instanceOf <{work}> .
            ?j dcterms:isPartOf ?item ; guji:text ?t ; guji:sequence ?seq }} }}""")
        by_item: dict[str, tuple[str, list[tuple[int, str, str]]]] = {}
        for r in rows:
            by_item.setdefault(r["item"].value, (r["code"].value, []))[1].append((int(r["seq"].value), r["j"].value, r["t"].value))
        return [Copy(item, code, [(j, t) for _, j, t in sorted(juans)]) for item, (code, juans) in sorted(by_item.items())]

    def alignment(self, a: Copy, b: Copy) -> EditionAlignment:
        """The alignment of two copies, cached while neither text changes (juans aligned lazily)."""
        key = (a.item, b.item)
        da = self._memoised(("digest", a.item), a.digest)
        db = self._memoised(("digest", b.item), b.digest)
        with self._lock:
            hit = self._alignments.get(key)
            if hit is not None and hit[0] == da and hit[1] == db:
                return hit[2]
            ea = EditionAlignment(a.juans, b.juans, lazy=True)
            self._alignments[key] = (da, db, ea)
            return ea

    # -- proposing ---------------------------------------------------------------------------

    def proposals_of(self, origin_id: str) -> dict[str, Proposal]:
        return _read_proposals(self.store.triples(PROPOSALS_BASE + origin_id))

    def _origin(self, origin_id: str) -> Annotation | None:
        try:
            return self.annotations.get(Identity.system(), origin_id).annotation
        except (AnnotationNotFoundError, AnnotationGoneError):
            return None

    def candidates(self, origin: Annotation) -> list[Proposal]:
        """Where an annotation's span is aligned in every other edition of its work (not stored)."""
        place = self._juan_place(origin.target.source)
        if place is None:
            return []
        work, item, code = place
        copies = self.copies_of(work)
        mine = next((c for c in copies if c.item == item), None)
        if mine is None:
            return []
        out = []
        for other in copies:
            if other.item == item:
                continue
            mapped = self.alignment(mine, other).map_span(origin.target.source, origin.target.start, origin.target.end)
            if mapped is None:
                continue
            juan, m = mapped
            text = next(t for j, t in other.juans if j == juan)
            prefix, suffix = anchors.context(text, m.start, m.end, self.annotations.context_chars)
            out.append(Proposal(origin=origin.id, work=work, from_edition=code, to_edition=other.edition, source=juan,
                                start=m.start, end=m.end, exact=text[m.start:m.end], prefix=prefix, suffix=suffix,
                                alignment=m.kind, origin_revision=origin.revision))
        return out

    def refresh(self, origin_ids: Iterable[str], *, agent: str | None = None) -> dict[str, int]:
        """Bring the proposals of these origin annotations in line with the store now (idempotent):
        propose an approved annotation on every aligned edition, move pending proposals where the
        alignment now says, drop pending ones of an origin no longer approved, and flag accepted
        copies that no longer stand where their origin is aligned. One transaction per call."""
        agent = agent or Identity.system().agent
        counts = {"proposed": 0, "withdrawn": 0, "flagged": 0}
        writes: dict[str, list[ox.Triple]] = {}
        with self._lock, self.annotations._lock:  # no annotation write between reading a copy and flagging it
            self._memo = {}
            try:
                for origin_id in dict.fromkeys(origin_ids):
                    if not ID_PATTERN.match(origin_id):
                        continue
                    self._refresh_one(origin_id, writes, counts)
                if writes:
                    self.store.replace_graphs(writes, agent=agent)
            finally:
                self._memo = None
        return counts

    def _refresh_one(self, origin_id: str, writes: dict[str, list[ox.Triple]], counts: dict[str, int]) -> None:
        existing = self.proposals_of(origin_id)
        origin = self._origin(origin_id)
        live = (origin is not None and origin.status is Status.APPROVED and not origin.derived_from
                and origin.anchor.state not in _FLAGGED
                and origin.relation is None and bool(origin.readings))  # relations link two annotations: not carried
        fresh = {p.to_edition: p for p in self.candidates(origin)} if live else {}
        kept: dict[str, Proposal] = {}
        for edition in sorted(set(existing) | set(fresh)):
            old, new = existing.get(edition), fresh.get(edition)
            if old is not None and old.status == "accepted":
                kept[edition] = old
                self._check_copy(origin, old, new, writes, counts)
            elif old is not None and old.status == "rejected" and (new is None or new.same_place(old)):
                kept[edition] = old  # a reviewer said no to this very place: not proposed again
            elif new is not None and self._annotated_already(new, origin):
                counts["withdrawn"] += old is not None  # someone annotated that place there meanwhile
            elif new is not None:
                kept[edition] = new
                counts["proposed"] += old is None or not new.same_place(old) or old.status != "proposed"
            elif old is not None:
                counts["withdrawn"] += 1  # pending, and the origin is no longer approved or aligned
        triples = [t for p in kept.values() for t in p.triples()]
        if sorted(map(str, triples)) != sorted(map(str, (t for p in existing.values() for t in p.triples()))):
            writes[PROPOSALS_BASE + origin_id] = triples

    def _annotated_already(self, p: Proposal, origin: Annotation) -> bool:
        """Whether the other edition already has an annotation (submitted or approved, not derived
        from this origin) on exactly this span with the origin's preferred category: proposing it
        again would only make the reviewer reject a duplicate."""
        spans = self._memoised(("spans", p.source), lambda: self._read_spans(p.source))
        return (p.start, p.end, origin.readings[0].category.iri) in {
            (s, e, c) for s, e, c, derived in spans if derived != annotation_iri(origin.id)}

    def _read_spans(self, juan: str) -> list[tuple[int, int, str, str | None]]:
        rows = self.store.query(f"""{_PREFIXES}SELECT ?s ?e ?cat ?from WHERE {{ GRAPH ?g {{
            ?a a oa:Annotation ; guji:reviewStatus ?st ; oa:hasTarget ?t . ?t oa:hasSource <{juan}> ; oa:hasSelector ?p .
            ?p oa:start ?s ; oa:end ?e . ?r guji:category ?cat ; guji:readingRank 1 .
            OPTIONAL {{ ?a prov:wasDerivedFrom ?from }}
            FILTER(STRSTARTS(STR(?r), STR(?a)) && ?st IN ("approved", "submitted")) }} }}""")
        return [(int(r["s"].value), int(r["e"].value), r["cat"].value, r["from"].value if r["from"] else None) for r in rows]

    def _check_copy(self, origin: Annotation | None, accepted: Proposal, now: Proposal | None,
                    writes: dict[str, list[ox.Triple]], counts: dict[str, int]) -> None:
        """Flag an accepted copy that no longer stands where its origin is aligned (never move it)."""
        if accepted.copy is None:
            return
        try:
            stored = self.annotations.get(Identity.system(), accepted.copy)
        except (AnnotationNotFoundError, AnnotationGoneError):
            return
        copy = stored.annotation
        if copy.status is Status.DELETED:
            return
        if origin is None or origin.status is not Status.APPROVED:
            reason = (f"the annotation it was carried from ({accepted.from_edition}, {annotation_iri(accepted.origin)}) "
                      "is no longer approved")
        elif origin.anchor.state in _FLAGGED:
            reason = (f"the annotation it was carried from ({accepted.from_edition}, {annotation_iri(accepted.origin)}) "
                      f"lost its place after its text was corrected ({origin.anchor.state.value}): {origin.anchor.reason}")
        elif now is None:
            reason = (f"the annotation it was carried from ({accepted.from_edition}, {annotation_iri(accepted.origin)}) "
                      "changed and its span is no longer aligned with this edition")
        elif (now.source, now.start, now.end) != (copy.target.source, copy.target.start, copy.target.end):
            reason = (f"the annotation it was carried from ({accepted.from_edition}, {annotation_iri(accepted.origin)}) "
                      f"changed: its span is now aligned with [{now.start}, {now.end}) {now.exact!r} of <{now.source}>, "
                      f"this annotation stands at [{copy.target.start}, {copy.target.end})")
        else:
            return
        if copy.anchor.state is AnchorState.NEEDS_REVIEW and copy.anchor.reason == reason:
            return
        at = now_iso()
        new = copy.model_copy(deep=True)
        new.anchor = Anchor(state=AnchorState.NEEDS_REVIEW, reason=reason, at=at)
        new.revision, new.modified = copy.revision + 1, at
        new.history = [*copy.history, HistoryEntry(
            sequence=len(copy.history) + 1, at=at, agent=Identity.system().agent, action="reanchor",
            before={"anchor": copy.anchor.model_dump(exclude_none=True)}, after={"anchor": new.anchor.model_dump(exclude_none=True)},
            reason=reason)]
        writes.update(graphs_of(new))
        counts["flagged"] += 1

    def refresh_work(self, work: str, *, agent: str | None = None) -> dict[str, int]:
        """Refresh every approved annotation on any juan of a work (after one of its texts changed)."""
        return self.refresh(self.approved_on_work(work), agent=agent)

    def approved_on_work(self, work: str) -> list[str]:
        rows = self.store.query(f"""{_PREFIXES}SELECT DISTINCT ?a WHERE {{
            GRAPH ?k {{ ?item a guji:DigitalCopy ; bf:itemOf ?inst . ?inst bf:instanceOf <{work}> . ?j dcterms:isPartOf ?item }}
            GRAPH ?g {{ ?a a oa:Annotation ; guji:reviewStatus "approved" ; oa:hasTarget ?t . ?t oa:hasSource ?j }} }}""")
        return sorted(r["a"].value.rsplit("/", 1)[1] for r in rows)

    def all_origins(self) -> list[str]:
        """Every approved annotation on a work with another digital copy, and every origin that has
        proposals (for a rebuild): annotations of single-edition works are not even read."""
        rows = self.store.query(f"""{_PREFIXES}SELECT DISTINCT ?a WHERE {{
            GRAPH ?g {{ ?a a oa:Annotation ; guji:reviewStatus "approved" ; oa:hasTarget ?t . ?t oa:hasSource ?j }}
            FILTER(STRSTARTS(STR(?g), "{ANNOTATION}"))
            {{ SELECT DISTINCT ?j WHERE {{ GRAPH ?k {{ ?j dcterms:isPartOf ?item . ?item a guji:DigitalCopy ; bf:itemOf ?inst .
                ?inst bf:instanceOf ?work . ?other a guji:DigitalCopy ; bf:itemOf ?inst2 . ?inst2 bf:instanceOf ?work .
                FILTER(?other != ?item) }} }} }} }}""")
        ids = {r["a"].value.rsplit("/", 1)[1] for r in rows}
        ids |= {g[len(PROPOSALS_BASE):] for g in self.store.graphs() if g.startswith(PROPOSALS_BASE)}
        return sorted(ids)

    # -- the review queue --------------------------------------------------------------------

    def queue(self, identity: Identity, *, work: str | None = None, edition: str | None = None,
              from_edition: str | None = None, status: Sequence[str] = ("proposed",), offset: int = 0,
              limit: int = 100) -> tuple[int, list[dict[str, Any]]]:
        """Proposals for reviewers, oldest origin first, each with what the origin says."""
        self._require_reviewer(identity)
        bad = [s for s in status if s not in PROPOSAL_STATUSES]
        if bad:
            raise InvalidProposalRequestError(f"status must be one of {', '.join(PROPOSAL_STATUSES)}, got {bad[0]!r}",
                                              field="status")
        found: list[Proposal] = []
        rows = self.store.query(f"""{_PREFIXES}SELECT ?p ?prop ?o WHERE {{ GRAPH ?g {{ ?p a guji:EditionProposal ; ?prop ?o }}
            FILTER(STRSTARTS(STR(?g), "{PROPOSALS_BASE}")) }}""")
        everything = [ox.Triple(r["p"], r["prop"], r["o"]) for r in rows]  # one query, not one read per graph
        by_node: dict[str, list[ox.Triple]] = {}
        for t in everything:
            by_node.setdefault(t.subject.value, []).append(t)
        for triples in by_node.values():
            for p in _read_proposals(triples).values():
                if status and p.status not in status:
                    continue
                if work and p.work != work and not p.work.endswith("/" + work):
                    continue
                if edition and p.to_edition != edition:
                    continue
                if from_edition and p.from_edition != from_edition:
                    continue
                found.append(p)
        found.sort(key=lambda p: (p.origin, p.to_edition))
        if not identity.at_least(Role.REVIEWER):  # a project's reviewer: the proposals of that project's annotations
            from annotation.policies import AnnotationPolicy

            origins = {o: self._origin(o) for o in {p.origin for p in found}}
            found = [p for p in found if origins[p.origin] is not None
                     and AnnotationPolicy.allows("review", identity, origins[p.origin])]
        page = found[offset:offset + limit]
        out = []
        for p in page:
            d = p.public()
            origin = self._origin(p.origin)
            if origin is not None:
                d["origin_annotation"] = {"source": origin.target.source, "start": origin.target.start, "end": origin.target.end,
                                          "exact": origin.target.exact, "status": origin.status.value,
                                          "creator": agent_name(origin.creator),
                                          "readings": [r.model_dump(mode="json", exclude_none=True) for r in origin.readings]}
            out.append(d)
        return len(found), out

    def get(self, identity: Identity, proposal_id: str) -> Proposal:
        self._require_reviewer(identity)
        origin_id, edition = _split_id(proposal_id)
        p = self.proposals_of(origin_id).get(edition)
        if p is None:
            raise ProposalNotFoundError(f"no proposal {proposal_id}", id=proposal_id)
        return p

    @staticmethod
    def _require_reviewer(identity: Identity) -> None:
        from annotation.policies import AnnotationPolicy

        AnnotationPolicy.require_role("review", identity)

    # -- deciding ----------------------------------------------------------------------------

    def accept(self, identity: Identity, proposal_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Accept proposals: each becomes an approved annotation on its edition, derived from its
        origin. All or nothing: every id is checked first, then everything is written in ONE
        transaction."""
        ids = _ids(proposal_ids)
        self._require_reviewer(identity)
        from annotation.policies import AnnotationPolicy

        with self._lock, self.annotations._lock:
            graphs: dict[str, list[ox.Triple]] = {}
            by_origin: dict[str, dict[str, Proposal]] = {}
            done = []
            at = now_iso()
            for pid in ids:
                origin_id, edition = _split_id(pid)
                props = by_origin.setdefault(origin_id, self.proposals_of(origin_id))
                p = props.get(edition)
                if p is None:
                    raise ProposalNotFoundError(f"no proposal {pid}", id=pid)
                if p.status != "proposed":
                    raise ProposalConflictError(f"proposal {pid} was {p.status} already", id=pid, status=p.status)
                origin = self._origin(origin_id)
                if origin is None or origin.status is not Status.APPROVED:
                    raise ProposalConflictError(f"proposal {pid}: the annotation it comes from is no longer approved", id=pid)
                if origin.revision != p.origin_revision:
                    raise ProposalConflictError(
                        f"proposal {pid}: the annotation it comes from changed since it was proposed (revision "
                        f"{p.origin_revision} → {origin.revision}); the proposal is being refreshed, load the queue again", id=pid)
                AnnotationPolicy.require("review", identity, origin)  # four eyes: not on one's own annotation
                try:
                    target = anchors.resolve(self.annotations.text_of(p.source),
                                             TextSelection(source=p.source, start=p.start, end=p.end, exact=p.exact),
                                             n=self.annotations.context_chars)
                except TargetMismatchError as exc:
                    raise ProposalConflictError(f"proposal {pid}: the text of {p.to_edition} "
                                                f"changed since it was proposed ({exc.message})", id=pid) from None
                copy = self._copy(identity, origin, p, target, at)
                graphs.update(graphs_of(copy))
                p.status, p.copy, p.decided_by, p.decided_at = "accepted", copy.id, identity.agent, at
                done.append({"id": pid, "annotation": copy.id, "source": p.source, "start": p.start, "end": p.end,
                             "exact": p.exact})
            for origin_id, props in by_origin.items():
                graphs[PROPOSALS_BASE + origin_id] = [t for p in props.values() for t in p.triples()]
            self.store.replace_graphs(graphs, agent=identity.agent)
        return done

    def _copy(self, identity: Identity, origin: Annotation, p: Proposal, target, at: str) -> Annotation:
        copy_id = new_id()
        reason = (f"carried from edition {p.from_edition} ({annotation_iri(origin.id)}), aligned "
                  f"{p.alignment}; accepted by {identity.name}")
        readings = [r.model_copy(update={"provisional": False}) for r in origin.readings]  # the record lives with the origin
        a = Annotation(id=copy_id, canonical=annotation_iri(copy_id), creator=origin.creator, created=at, modified=at,
                       status=Status.APPROVED, revision=1, target=target, image=None, readings=readings, note=origin.note,
                       certainty=origin.certainty, review=Review(reviewer=identity.agent, at=at, decision="approved", reason=reason),
                       derived_from=annotation_iri(origin.id),
                       # the origin's work, done in its project for its organisation: credited on the copy too
                       project=origin.project, organisation=origin.organisation)
        a.history = [HistoryEntry(sequence=1, at=at, agent=identity.agent, action="copy",
                                  after={**a.content(), "status": Status.APPROVED.value, "derived_from": annotation_iri(origin.id)},
                                  reason=reason)]
        return a

    def reject(self, identity: Identity, proposal_ids: Sequence[str], reason: str | None = None) -> list[dict[str, Any]]:
        """Reject proposals (not proposed there again unless the alignment moves). One transaction."""
        ids = _ids(proposal_ids)
        self._require_reviewer(identity)
        reason = (reason or "").strip() or None
        with self._lock, self.annotations._lock:
            by_origin: dict[str, dict[str, Proposal]] = {}
            at = now_iso()
            done = []
            for pid in ids:
                origin_id, edition = _split_id(pid)
                props = by_origin.setdefault(origin_id, self.proposals_of(origin_id))
                p = props.get(edition)
                if p is None:
                    raise ProposalNotFoundError(f"no proposal {pid}", id=pid)
                if p.status != "proposed":
                    raise ProposalConflictError(f"proposal {pid} was {p.status} already", id=pid, status=p.status)
                p.status, p.decided_by, p.decided_at, p.reason = "rejected", identity.agent, at, reason
                done.append({"id": pid})
            self.store.replace_graphs({PROPOSALS_BASE + o: [t for p in props.values() for t in p.triples()]
                                       for o, props in by_origin.items()}, agent=identity.agent)
        return done

    # -- coverage ----------------------------------------------------------------------------

    def coverage(self, identity: Identity, work: str) -> list[dict[str, Any]]:
        """Alignment coverage of every pair (first edition, other) of a work in the store."""
        self._require_reviewer(identity)
        copies = self.copies_of(_checked_iri(work))
        if not copies:
            raise ProposalNotFoundError(f"no digital copies with text for work <{work}>", work=work)
        copies.sort(key=lambda c: (c.edition != "master", c.edition))
        first = copies[0]
        out = []
        for other in copies[1:]:
            c = EditionAlignment(first.juans, other.juans).coverage
            out.append({"a": first.edition, "b": other.edition, "chars_a": c.chars_a, "chars_b": c.chars_b,
                        "identical": c.identical, "substituted": c.substituted,
                        "share_a": round(c.share_a(), 4), "share_b": round(c.share_b(), 4)})
        return out


def _checked_iri(value: str) -> str:
    """An IRI the store's parser takes (so it is safe between <> in SPARQL), else a 422."""
    try:
        ox.NamedNode(value)
    except ValueError:
        raise InvalidProposalRequestError(f"not a valid IRI: {value!r}", field="work") from None
    return value


def _split_id(proposal_id: str) -> tuple[str, str]:
    origin, dot, edition = proposal_id.partition(".")
    if not (dot and ID_PATTERN.match(origin) and edition and all(ch.isalnum() or ch in "._-" for ch in edition)):
        raise InvalidProposalRequestError(
            f"not a proposal id: {proposal_id!r} (expected <annotation id>.<edition code>, e.g. 01J…Z.SBCK)", field="ids")
    return origin, edition


def _ids(proposal_ids: Sequence[str]) -> list[str]:
    ids = list(dict.fromkeys(proposal_ids))
    if not ids:
        raise InvalidProposalRequestError("name at least one proposal id", field="ids")
    if len(ids) > MAX_BULK:
        raise InvalidProposalRequestError(f"at most {MAX_BULK} proposals at once, got {len(ids)}", field="ids")
    return ids
