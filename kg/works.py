"""Work identity: one ``bf:Work`` per work across sources.

A package book, its microfilm and digital copies and the Kanripo editions of the same text are
one work. Two ways lead there (ADR 0016):

- **explicit**: a package row names the work (``books.csv`` column ``work_id``: a Kanripo id such
  as ``KR2a0001``, or a guji work IRI). The package's own work IRI (``id:work/census/<no>``) is
  then folded into that work when the package is turned into RDF;
- **proposed, then confirmed**: works whose normalised title, responsibility and juan count agree
  are *proposed* as one (:func:`proposals`); nothing is merged until a curator confirms a proposal
  (:meth:`WorkIdentity.confirm`). A confirmation is data — a ``guji:WorkIdentityDecision`` in the
  public graph ``gg:identity/works`` — and every graph that described the merged work is
  rewritten in the same transaction, through the store's one write path.

Either way the merged IRI keeps resolving: its graph says ``<old> owl:sameAs <canonical>`` and
the catalogue reads redirect. A split (:meth:`WorkIdentity.split`) removes the decision and gives
the graphs their own work back. Ingest applies the confirmed decisions too, so re-ingesting a
package after a merge gives the same triples (a no-op).
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

import pyoxigraph as ox

from kg.errors import ConflictError, NotFoundError, ValidationError
from kg.graphs import is_public, public_filter
from kg.namespaces import DCTERMS, GG, GUJI, ID, PROV, RDF, RDFS, XSD, sparql_prefixes
from kg.store import AGENT, OxigraphStore

OWL = "http://www.w3.org/2002/07/owl#"
SAME_AS = ox.NamedNode(OWL + "sameAs")
IDENTITY_GRAPH = GG + "identity/works"
WORK = ID + "work/"
_A = ox.NamedNode(RDF + "type")
KANRIPO_ID = re.compile(r"^[A-Z]{2}\d[a-z]\d{4}$")
WORK_IRI = re.compile(r"^" + re.escape(WORK) + r"[A-Za-z0-9_.%-]+(/[A-Za-z0-9_.%-]+)*$")
# the package column: a Kanripo id, or the IRI of a guji work
WORK_ID_PATTERN = r"^([A-Z]{2}\d[a-z]\d{4}|https://w3id\.org/guji/id/work/[A-Za-z0-9_.%-]+(/[A-Za-z0-9_.%-]+)*)$"


def work_iri_for(value: str) -> str | None:
    """The work IRI a ``work_id`` cell names (a Kanripo id or a guji work IRI), else None."""
    v = value.strip()
    if KANRIPO_ID.match(v):
        return WORK + v
    if WORK_IRI.match(v):
        return v
    return None


def resolve(mapping: Mapping[str, str]) -> dict[str, str]:
    """Follow chains (a → b → c gives a → c); a cycle is refused."""
    out = {}
    for start in mapping:
        seen, cur = {start}, mapping[start]
        while cur in mapping:
            if cur in seen:
                raise ValidationError(f"work identities form a cycle through {cur}", field="work_id")
            seen.add(cur)
            cur = mapping[cur]
        out[start] = cur
    return out


def rewrite(triples: Iterable[ox.Triple], mapping: Mapping[str, str]) -> list[ox.Triple]:
    """Fold every merged work IRI of ``mapping`` into its canonical work, subject and object, and
    say ``<old> owl:sameAs <canonical>`` for each one that occurred."""
    mapping = resolve(mapping)
    if not mapping:
        return list(triples)
    nodes = {k: ox.NamedNode(v) for k, v in mapping.items()}
    out, met = [], set()
    for t in triples:
        s, o = t.subject, t.object
        if t.predicate == SAME_AS:
            out.append(t)
            continue
        if isinstance(s, ox.NamedNode) and s.value in nodes:
            met.add(s.value)
            s = nodes[s.value]
        if isinstance(o, ox.NamedNode) and o.value in nodes:
            met.add(o.value)
            o = nodes[o.value]
        out.append(ox.Triple(s, t.predicate, o))
    out.extend(ox.Triple(ox.NamedNode(old), SAME_AS, nodes[old]) for old in sorted(met))
    return out


def unrewrite(triples: Iterable[ox.Triple], old: str, canonical: str) -> list[ox.Triple]:
    """Undo :func:`rewrite` of ``old`` into ``canonical`` in a graph that described ``old``."""
    old_n, can_n = ox.NamedNode(old), ox.NamedNode(canonical)
    out = []
    for t in triples:
        if t.subject == old_n and t.predicate == SAME_AS and t.object == can_n:
            continue
        s = old_n if t.subject == can_n else t.subject
        o = old_n if t.object == can_n and t.predicate != SAME_AS else t.object
        out.append(ox.Triple(s, t.predicate, o))
    return out


def decision_id(old: str, canonical: str) -> str:
    return hashlib.sha256(f"{old} {canonical}".encode()).hexdigest()[:16]


def confirmed(store: OxigraphStore) -> dict[str, str]:
    """old work IRI → canonical work IRI, for every confirmed decision."""
    rows = store.query(f"""PREFIX guji: <{GUJI}> SELECT ?old ?new WHERE {{ GRAPH <{IDENTITY_GRAPH}> {{
        ?d a guji:WorkIdentityDecision ; guji:mergedWork ?old ; guji:canonicalWork ?new }} }}""")
    return {r["old"].value: r["new"].value for r in rows}


@dataclass
class Proposal:
    id: str
    works: list[dict]  # [{"iri", "id", "title", "persons", "juans", "graph"}], the canonical one first
    reasons: list[str]

    def to_json(self) -> dict:
        return {"id": self.id, "canonical": self.works[0]["iri"], "merge": [w["iri"] for w in self.works[1:]],
                "works": self.works, "reasons": self.reasons}


class WorkIdentity:
    """Proposals, confirmations and splits of work identity (the service behind the HTTP routes)."""

    def __init__(self, store: OxigraphStore, fold: Callable[[str], str] = lambda s: s) -> None:
        self.store = store
        self.fold = fold

    # -- reading --------------------------------------------------------------------------------

    def _rows(self, query: str) -> list[dict]:
        result = self.store.query(sparql_prefixes() + f"PREFIX owl: <{OWL}>\n" + query)
        return [{v.value: (None if r[v] is None else r[v].value) for v in result.variables} for r in result]

    def works(self) -> list[dict]:
        """Every public work with what matching looks at: titles, persons responsible, juan count."""
        rows = self._rows("""SELECT ?work ?g ?title ?id ?person WHERE {
            GRAPH ?g { ?work a bf:Work ; rdfs:label ?title . OPTIONAL { ?work dcterms:identifier ?id } }
            OPTIONAL { GRAPH ?h { ?work bf:contribution/bf:agent ?a } GRAPH ?k { ?a rdfs:label ?person } """
                          + public_filter("?h") + " " + public_filter("?k") + " } }")
        juans = self._rows("""SELECT ?work (MAX(?n) AS ?juans) WHERE {
            { SELECT ?work ?item (COUNT(DISTINCT ?j) AS ?n) WHERE { GRAPH ?g { ?item bf:itemOf/bf:instanceOf ?work .
              ?j a guji:Juan ; dcterms:isPartOf ?item ; guji:juanNumber ?no FILTER(?no != "000") } } GROUP BY ?work ?item } }
            GROUP BY ?work""")
        declared = self._rows("""SELECT ?work (MAX(?c) AS ?juans) WHERE { GRAPH ?g { ?i bf:instanceOf ?work ; guji:juanCount ?c } }
            GROUP BY ?work""")
        out: dict[str, dict] = {}
        for r in rows:
            if not is_public(r["g"]):
                continue
            w = out.setdefault(r["work"], {"iri": r["work"], "id": None, "title": r["title"], "titles": set(), "persons": set(),
                                           "juans": None, "graphs": set()})
            w["titles"].add(r["title"])
            w["graphs"].add(r["g"])
            w["id"] = w["id"] or r["id"]
            if r["person"]:
                w["persons"].add(r["person"])
        for r in declared + juans:
            if r["work"] in out and r["juans"] is not None:
                out[r["work"]]["juans"] = out[r["work"]]["juans"] or int(r["juans"])
        return sorted(out.values(), key=lambda w: w["iri"])

    def proposals(self) -> list[Proposal]:
        """Works that look like one: same normalised title; persons responsible and juan counts
        agree wherever both works give them. Never merged here."""
        groups: dict[str, list[dict]] = defaultdict(list)
        for w in self.works():
            for key in {self._norm(t) for t in w["titles"]}:
                groups[key].append(w)
        out: dict[str, Proposal] = {}
        for key, ws in sorted(groups.items()):
            ws = sorted({w["iri"]: w for w in ws}.values(), key=_canonical_order)
            if len(ws) < 2:
                continue
            first = ws[0]
            for other in ws[1:]:
                reasons = [f"title {key}"]
                pa, pb = {self._norm(p) for p in first["persons"]}, {self._norm(p) for p in other["persons"]}
                if pa and pb:
                    if not pa & pb:
                        continue
                    reasons.append("responsibility " + "、".join(sorted(pa & pb)))
                if first["juans"] and other["juans"]:
                    if first["juans"] != other["juans"]:
                        continue
                    reasons.append(f"juan {first['juans']}")
                pid = decision_id(other["iri"], first["iri"])
                out[pid] = Proposal(pid, [_public(first), _public(other)], reasons)
        return list(out.values())

    def _norm(self, text: str) -> str:
        return self.fold(re.sub(r"[\s　・·《》〈〉「」()（）]", "", text))

    def decisions(self) -> list[dict]:
        return self._rows(f"""SELECT ?decision ?old ?new ?agent ?at WHERE {{ GRAPH <{IDENTITY_GRAPH}> {{
            ?decision a guji:WorkIdentityDecision ; guji:mergedWork ?old ; guji:canonicalWork ?new .
            OPTIONAL {{ ?decision prov:wasAttributedTo ?agent }} OPTIONAL {{ ?decision dcterms:created ?at }} }} }} ORDER BY ?decision""")

    # -- writing (one transaction each, through the store's write path) ---------------------------

    def confirm(self, proposal_id: str, *, agent: str) -> dict:
        """Merge the works of a current proposal: write the decision and rewrite every public graph
        that describes the merged work, in one transaction."""
        _check_id(proposal_id, "proposal")
        found = next((p for p in self.proposals() if p.id == proposal_id), None)
        if found is None:
            if any(d["decision"].endswith("/" + proposal_id) for d in self.decisions()):
                raise ConflictError(f"work identity {proposal_id} is already confirmed", proposal=proposal_id)
            raise NotFoundError(f"no proposed work identity {proposal_id} (proposals change as the catalogue changes)",
                                proposal=proposal_id)
        canonical, old = found.works[0]["iri"], found.works[1]["iri"]
        return self.merge(old, canonical, agent=agent, reasons=found.reasons)

    def merge(self, old: str, canonical: str, *, agent: str, reasons: Iterable[str] = ()) -> dict:
        if old == canonical:
            raise ValidationError("a work can not be merged into itself", field="work")
        graphs = self._graphs_describing(old)
        if not graphs:
            raise NotFoundError(f"no work {old}", work=old)
        did = decision_id(old, canonical)
        identity = list(self.store.triples(IDENTITY_GRAPH)) + _decision_triples(did, old, canonical, agent, reasons, graphs)
        writes = {IDENTITY_GRAPH: identity}
        for g in graphs:
            writes[g] = rewrite(self.store.triples(g), {old: canonical})
        changes = self.store.replace_graphs(writes, agent=agent)
        return {"decision": f"{ID}work-identity/{did}", "id": did, "merged": old, "canonical": canonical,
                "graphs": graphs, "changes": [c.sequence for c in changes]}

    def split(self, decision: str, *, agent: str) -> dict:
        """Undo a confirmed merge: the merged work is its own work again, in every graph rewritten."""
        _check_id(decision, "decision")
        node = ox.NamedNode(f"{ID}work-identity/{decision}")
        mine = [t for t in self.store.triples(IDENTITY_GRAPH) if t.subject == node]
        if not mine:
            raise NotFoundError(f"no work identity decision {decision}", decision=decision)
        old = next(t.object.value for t in mine if t.predicate.value == GUJI + "mergedWork")
        canonical = next(t.object.value for t in mine if t.predicate.value == GUJI + "canonicalWork")
        graphs = sorted(t.object.value for t in mine if t.predicate.value == GUJI + "rewroteGraph")
        keep = [t for t in self.store.triples(IDENTITY_GRAPH)
                if t.subject != node and not (t.subject.value == old and t.predicate == SAME_AS)]
        writes: dict[str, list] = {IDENTITY_GRAPH: keep}
        for g in graphs:
            writes[g] = unrewrite(self.store.triples(g), old, canonical)
        changes = self.store.replace_graphs(writes, agent=agent)
        return {"decision": node.value, "id": decision, "restored": old, "canonical": canonical, "graphs": graphs,
                "changes": [c.sequence for c in changes]}

    def _graphs_describing(self, work: str) -> list[str]:
        rows = self._rows(f"""SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ <{work}> a bf:Work }} }}""")
        return sorted(r["g"] for r in rows if is_public(r["g"]) and r["g"] != IDENTITY_GRAPH)


ID_FORM = re.compile(r"^[0-9a-f]{16}$")


def _check_id(value: str, what: str) -> None:
    if not ID_FORM.match(value):
        raise ValidationError(f"a {what} id is 16 hexadecimal digits (as GET /api/works/identity lists them), not {value[:40]!r}",
                              field=what)


def _canonical_order(w: dict) -> tuple:
    """Which work of a group survives: a Kanripo work (stable public id) before a package's."""
    return (0 if w["id"] and KANRIPO_ID.match(w["id"]) else 1, w["iri"])


def _public(w: dict) -> dict:
    return {"iri": w["iri"], "id": w["id"], "title": w["title"], "persons": sorted(w["persons"]), "juans": w["juans"],
            "graphs": sorted(w["graphs"])}


def _decision_triples(did: str, old: str, canonical: str, agent: str, reasons: Iterable[str], graphs: list[str]) -> list[ox.Triple]:
    from urllib.parse import quote

    n = ox.NamedNode(f"{ID}work-identity/{did}")
    lit, node = ox.Literal, ox.NamedNode
    at = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    out = [
        ox.Triple(n, _A, node(GUJI + "WorkIdentityDecision")),
        ox.Triple(n, _A, node(PROV + "Activity")),
        ox.Triple(n, node(GUJI + "mergedWork"), node(old)),
        ox.Triple(n, node(GUJI + "canonicalWork"), node(canonical)),
        ox.Triple(n, node(PROV + "wasAttributedTo"), node(AGENT + quote(agent, safe=""))),
        ox.Triple(n, node(DCTERMS + "created"), lit(at, datatype=node(XSD + "dateTime"))),
        ox.Triple(n, node(RDFS + "label"), lit(f"{old} = {canonical}")),
        ox.Triple(node(old), SAME_AS, node(canonical)),
    ]
    out += [ox.Triple(n, node(GUJI + "reason"), lit(r)) for r in reasons]
    out += [ox.Triple(n, node(GUJI + "rewroteGraph"), node(g)) for g in graphs]
    return out


