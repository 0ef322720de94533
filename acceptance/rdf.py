"""The acceptance workflow as RDF: IRIs, named graphs and the few terms it mints.

Graphs (under ``GG``; see kg/graphs.py for who sees what):

| graph                                          | holds                                                  | public |
|------------------------------------------------|--------------------------------------------------------|--------|
| ``acceptance/units``                           | the submitting units (承建单位) and their provinces: credit | yes    |
| ``private/acceptance/members``                 | which user belongs to which unit / coordinates which province | never |
| ``private/acceptance/plan/<unit>``             | a unit's approved catalogue (审定目录) and deadlines     | never  |
| ``private/acceptance/sample/<batch>``          | a package marked as a unit's sample, and its reviews     | never  |
| ``private/acceptance/catalogue/<unit>/<month>``| a unit's monthly catalogue                               | never  |
| ``private/acceptance/check/<id>``              | one spot check: plan, seed, sample drawn, defects, decision | never |
| ``private/acceptance/batch/<batch>``           | a batch's deadline and its acceptance                    | never  |

Units reuse the organisation IRIs a submission package already mints for its submitting unit
(``id:agent/org/<name>``), so a package's ``prov:wasAssociatedWith`` names the same node.
Reviews, spot checks and acceptances are ``prov:Activity`` + ``premis:Event`` with an event type,
the agent, the time and the outcome.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import pyoxigraph as ox

from kg.namespaces import DCTERMS, GG, GUJI, ID, PREMIS, PROV, RDF, RDFS, XSD
from kg.package.rdf import slug

N = ox.NamedNode
A = N(RDF + "type")
LABEL = N(RDFS + "label")

UNITS_GRAPH = GG + "acceptance/units"
MEMBERS_GRAPH = GG + "private/acceptance/members"
PLAN_PREFIX = GG + "private/acceptance/plan/"
SAMPLE_PREFIX = GG + "private/acceptance/sample/"
CATALOGUE_PREFIX = GG + "private/acceptance/catalogue/"
CHECK_PREFIX = GG + "private/acceptance/check/"
BATCH_PREFIX = GG + "private/acceptance/batch/"

ORG = "http://www.w3.org/ns/org#"

# short names of the predicates the workflow writes and reads back
P = {
    "type": RDF + "type",
    "label": RDFS + "label",
    "title": DCTERMS + "title",
    "identifier": DCTERMS + "identifier",
    "province": GUJI + "province",
    "unit": GUJI + "submittingUnit",
    "edition": GUJI + "editionStatement",
    "census_no": GUJI + "censusNumber",
    "planned_juan": GUJI + "plannedJuan",
    "planned_volumes": GUJI + "plannedVolumes",
    "planned_images": GUJI + "plannedImages",
    "year": GUJI + "planYear",
    "first_deadline": GUJI + "firstDeadline",
    "final_deadline": GUJI + "finalDeadline",
    "row": GUJI + "sourceRow",
    "source": PROV + "hadPrimarySource",
    "agent": PROV + "wasAssociatedWith",
    "at": PROV + "endedAtTime",
    "used": PROV + "used",
    "event_type": PREMIS + "hasEventType",
    "outcome": PREMIS + "hasEventOutcome",
    "note": RDFS + "comment",
    "member_of": ORG + "memberOf",
    "coordinates": GUJI + "coordinatesProvince",
    "email": GUJI + "contactEmail",
    "contact": GUJI + "contactName",
    "phone": GUJI + "contactPhone",
    "month": GUJI + "catalogueMonth",
    "due": GUJI + "dueDate",
    "received": GUJI + "receivedAt",
    "late": GUJI + "late",
    "completed": GUJI + "completedDate",
    "entry": GUJI + "catalogueEntry",
    "batch": GUJI + "batch",
    "decision": GUJI + "decision",
    "opinion": GUJI + "opinion",
    "file": GUJI + "opinionFile",
    "field": GUJI + "opinionField",
    "message": GUJI + "opinionMessage",
    "aql": GUJI + "aql",
    "level": GUJI + "inspectionLevel",
    "lot_size": GUJI + "lotSize",
    "sample_size": GUJI + "sampleSize",
    "accept_no": GUJI + "acceptanceNumber",
    "reject_no": GUJI + "rejectionNumber",
    "code_letter": GUJI + "codeLetter",
    "seed": GUJI + "randomSeed",
    "sampled": GUJI + "sampledItem",
    "lot": GUJI + "lot",
    "defect": GUJI + "defect",
    "category": GUJI + "defectCategory",
    "item": GUJI + "defectiveItem",
    "deadline": GUJI + "deadline",
    "position": GUJI + "position",
}

ACCEPTANCE_TYPES = {
    "unit": GUJI + "SubmittingUnit",
    "plan_entry": GUJI + "PlannedTitle",
    "sample": GUJI + "SampleSubmission",
    "review": GUJI + "SampleReview",
    "catalogue": GUJI + "MonthlyCatalogue",
    "catalogue_entry": GUJI + "CatalogueEntry",
    "check": GUJI + "SpotCheck",
    "defect": GUJI + "Defect",
    "batch": GUJI + "AcceptanceBatch",
    "acceptance": GUJI + "Acceptance",
}
ACTIVITY = PROV + "Activity"
EVENT = PREMIS + "Event"


def unit_iri(name: str) -> str:
    return f"{ID}agent/org/{slug(name.strip())}"


def plan_graph(unit_name: str) -> str:
    return PLAN_PREFIX + slug(unit_name.strip())


def sample_graph(batch: str) -> str:
    return SAMPLE_PREFIX + slug(batch)


def catalogue_graph(unit_name: str, month: str) -> str:
    return f"{CATALOGUE_PREFIX}{slug(unit_name.strip())}/{month}"


def check_graph(check_id: str) -> str:
    return CHECK_PREFIX + slug(check_id)


def batch_graph(batch: str) -> str:
    return BATCH_PREFIX + slug(batch)


def lit(value: object) -> ox.Literal:
    if isinstance(value, bool):
        return ox.Literal("true" if value else "false", datatype=N(XSD + "boolean"))
    if isinstance(value, int):
        return ox.Literal(str(value), datatype=N(XSD + "integer"))
    return ox.Literal(str(value))


def date_lit(value: str) -> ox.Literal:
    return ox.Literal(value, datatype=N(XSD + "date"))


def datetime_lit(value: str) -> ox.Literal:
    return ox.Literal(value, datatype=N(XSD + "dateTime"))


class Builder:
    """Triples of one graph, with short predicate names."""

    def __init__(self) -> None:
        self.triples: list[ox.Triple] = []

    def add(self, s: str, p: str, o: object) -> None:
        if o is None or o == "":
            return
        obj = o if isinstance(o, (ox.NamedNode, ox.Literal)) else lit(o)
        self.triples.append(ox.Triple(N(s), N(P.get(p, p)), obj))

    def node(self, s: str, *types: str, **props: object) -> str:
        for t in types:
            for iri in ((ACTIVITY, EVENT) if t == "activity_event" else (ACCEPTANCE_TYPES.get(t, t),)):
                self.triples.append(ox.Triple(N(s), A, N(iri)))
        for k, v in props.items():
            if isinstance(v, (list, tuple)):
                for x in v:
                    self.add(s, k, x)
            else:
                self.add(s, k, v)
        return s


_SHORT = {v: k for k, v in P.items()}


def records(store, graph: str) -> dict[str, dict[str, list]]:
    """Every subject of a graph with its values by short predicate name (literals as Python values)."""
    out: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for q in store.oxigraph.quads_for_pattern(None, None, None, N(graph)):
        key = _SHORT.get(q.predicate.value, q.predicate.value)
        out[q.subject.value][key].append(value(q.object))
    return out


def value(term: object) -> object:
    if isinstance(term, ox.Literal):
        dt = term.datatype.value if term.datatype is not None else ""
        if dt == XSD + "integer":
            return int(term.value)
        if dt == XSD + "boolean":
            return term.value == "true"
        return term.value
    return term.value


def first(rec: dict[str, list], key: str, default: object = None) -> object:
    values = rec.get(key) or []
    return sorted(values, key=str)[0] if values else default


def graphs_with_prefix(store, prefix: str) -> list[str]:
    return [g for g in store.graphs() if g.startswith(prefix)]


def of_type(recs: dict[str, dict[str, list]], kind: str) -> Iterable[tuple[str, dict[str, list]]]:
    t = ACCEPTANCE_TYPES[kind]
    return ((s, r) for s, r in sorted(recs.items()) if t in r.get("type", []))
