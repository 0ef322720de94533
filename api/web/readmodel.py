"""What the web pages read beyond the catalogue API: annotation spans of a text in one query,
authority records to link a span to, and the page of an entity (where it is mentioned, what links
to it, its external identifiers).

Public reads see the public dataset only (approved annotations, no preservation data); the
authority search also looks into the private annotation graphs the caller may read (the
annotation read policy: a creator their own drafts, reviewers what is submitted for review,
admins all), so a record created on the spot in a draft can be found again by its creator — and
by nobody else — before an annotation that defines it is approved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

import pyoxigraph as ox

from annotation.model import AUTHORITY_BASE, Category, RelationType
from annotation.policies import ANONYMOUS, AnnotationPolicy, Identity
from annotation.service import PRIVATE_GRAPH_BASE, PUBLIC_GRAPH_BASE
from kg.catalog import PUBLIC_G, Catalog, catalogue_graphs, public_filter
from kg.errors import NotFoundError
from kg.namespaces import ID, sparql_prefixes
from kg.sparql import public_dataset
from search.normalise import is_private_use

PREFIXES = sparql_prefixes() + "PREFIX owl: <http://www.w3.org/2002/07/owl#>\n"
SCHEMA_SAMEAS = "http://schema.org/sameAs"
BF_PERSON = "http://id.loc.gov/ontologies/bibframe/Person"
BF_PLACE = "http://id.loc.gov/ontologies/bibframe/Place"
BF_ORG = "http://id.loc.gov/ontologies/bibframe/Organization"
GUJI_AUTHORITY = "https://w3id.org/guji/ontology#AuthorityRecord"

#: what a category's authority records are typed as (besides guji:AuthorityRecord with guji:category)
CATEGORY_TYPES = {Category.PERSON: [BF_PERSON], Category.PLACE: [BF_PLACE]}

#: how an IRI's own namespace reads on the entity page (external identifiers)
EXTERNAL = [
    (re.compile(r"^https?://(www\.)?wikidata\.org/(wiki|entity)/(Q\d+)$"), "Wikidata", 3),
    (re.compile(r"^https?://cbdb\.fas\.harvard\.edu/cbdbapi/person\.php\?id=(\d+)$"), "CBDB", 1),
    (re.compile(r"^https?://(www\.)?viaf\.org/viaf/(\d+)"), "VIAF", 2),
    (re.compile(r"^https?://id\.loc\.gov/.+/([^/]+)$"), "LC", 1),
]

BF_AGENT = "http://id.loc.gov/ontologies/bibframe/agent"
_READING = re.compile(r"^(" + re.escape(ID) + r"annotation/[0-9A-Z]{26})/reading/\d+$")

_SAFE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+$")


def check_iri(value: str) -> str:
    if not _SAFE_IRI.match(value or ""):
        raise NotFoundError(f"not an IRI: {value!r}", iri=value)
    return value


def page_for_juan(juan: str) -> tuple[str, str] | None:
    """(kind, key) of the page that reads a juan: ("book", census number) or ("work", Kanripo id)."""
    m = re.match(re.escape(ID) + r"item/census/([^/]+)/", juan)
    if m:
        return "book", unquote(m.group(1))
    m = re.match(re.escape(ID) + r"text/([^/]+)/", juan)
    if m:
        return "work", m.group(1)
    return None


def reading_url(juan: str, offset: int | None = None) -> str:
    """Where a juan is read (the book or work page with that juan open), at an offset."""
    at = f"#o{offset}" if offset is not None else ""
    page = page_for_juan(juan)
    if page is None:
        return f"/read?iri={quote(juan, safe='')}{at}"
    kind, key = page
    return f"/{kind}s/{quote(key, safe='')}?juan={quote(juan, safe='')}{at}"


def entity_url(iri: str) -> str:
    return f"/entity?iri={quote(iri, safe='')}"


def catalogue(store) -> Catalog:
    return Catalog(store)  # the catalogue itself leaves the annotation graphs out (kg/catalog.py)


@dataclass
class ReadModel:
    store: object

    # -- helpers ----------------------------------------------------------------------------------

    def _select(self, query: str, *, public: bool = True, **bindings: ox.NamedNode | ox.Literal) -> list[dict]:
        """``public``: the default graph is the union of the public catalogue graphs (no annotations);
        otherwise the query names its graphs itself (``GRAPH ?g`` with :data:`PUBLIC_G`)."""
        if bindings:  # bound through VALUES (terms serialise escaped)
            names = " ".join(f"?{k}" for k in bindings)
            values = " ".join(str(v) for v in bindings.values())
            at = query.index("{", query.upper().index("WHERE")) + 1
            query = f"{query[:at]} VALUES ({names}) {{ ({values}) }} {query[at:]}"
        dataset = {}
        if public:
            default, _ = public_dataset(catalogue_graphs(self.store.graphs()))
            dataset["default_graph"] = [ox.NamedNode(g) for g in default] or [ox.DefaultGraph()]
        rows = self.store.query(PREFIXES + query, **dataset)
        return [{v.value: (None if r[v] is None else r[v].value) for v in rows.variables} for r in rows]

    # -- the reading view of one text ------------------------------------------------------------

    def reading(self, juan: str) -> dict:
        """A juan's text, layout and folio sides with its approved annotation spans, in one answer."""
        out = catalogue(self.store).juan_text(check_iri(juan))
        out["spans"] = self.spans(juan)
        out["gaiji"] = self.gaiji({juan: out["text"]}).get(juan, [])
        return out

    def gaiji(self, texts: dict[str, str]) -> dict[str, list[dict]]:
        """The characters outside Unicode in these juan texts ({juan IRI: text}), as the graph that
        holds each juan declares them (a private-use code point means what its own source says):
        per juan [{char, code_point, local_id, ids, nearest, image}], image a data: URI or None."""
        wanted = {j: sorted({c for c in t if is_private_use(c)}) for j, t in texts.items()}
        wanted = {j: cs for j, cs in wanted.items() if cs}
        if not wanted:
            return {}
        values = " ".join(f"({ox.NamedNode(check_iri(j))} {ox.Literal(f'U+{ord(c):04X}')})" for j, cs in wanted.items() for c in cs)
        rows = self._select(f"""SELECT ?juan ?cp ?local ?ids ?nearest ?image WHERE {{ VALUES (?juan ?cp) {{ {values} }}
            GRAPH ?g {{ ?juan a guji:Juan . ?ch a guji:NonUnicodeCharacter ; guji:puaCodePoint ?cp .
              OPTIONAL {{ ?ch guji:localId ?local }} OPTIONAL {{ ?ch guji:ids ?ids }} OPTIONAL {{ ?ch guji:normalizedForm ?nearest }}
              OPTIONAL {{ ?ch guji:glyphImageData ?image }} }} {PUBLIC_G} }}""", public=False)
        out: dict[str, list[dict]] = {}
        for r in rows:
            out.setdefault(r["juan"], []).append({
                "char": chr(int(r["cp"][2:], 16)), "code_point": r["cp"], "local_id": r["local"], "ids": r["ids"],
                "nearest": r["nearest"], "image": r["image"] if (r["image"] or "").startswith("data:image/") else None})
        for j, cs in wanted.items():  # a private-use character nobody declared is still marked as one
            known = {g["char"] for g in out.get(j, [])}
            out.setdefault(j, []).extend({"char": c, "code_point": f"U+{ord(c):04X}", "local_id": None, "ids": None,
                                          "nearest": None, "image": None} for c in cs if c not in known)
        return out

    # -- annotation spans of one text -------------------------------------------------------------

    def spans(self, juan: str) -> list[dict]:
        """The approved annotations on a juan, compact (one query, however many there are):
        id, start, end, certainty and the readings (category, authority, label) in rank order."""
        rows = self._select(f"""
            SELECT ?a ?start ?end ?exact ?certainty ?rank ?cat ?src ?purpose ?label ?note WHERE {{
              GRAPH ?g {{ ?t oa:hasSource ?juan . ?a oa:hasTarget ?t ; guji:reviewStatus "approved" ; guji:certainty ?certainty .
                ?t oa:hasSelector ?p , ?q . ?p oa:start ?start ; oa:end ?end . ?q oa:exact ?exact .
                ?r guji:readingRank ?rank ; guji:category ?cat ; oa:hasSource ?src ; oa:hasPurpose ?purpose .
                OPTIONAL {{ ?r rdfs:label ?label }} OPTIONAL {{ ?r rdfs:comment ?note }} }}
              FILTER(STRSTARTS(STR(?g), "{PUBLIC_GRAPH_BASE}"))
            }}""", public=False, juan=ox.NamedNode(check_iri(juan)))
        by_id: dict[str, dict] = {}
        for r in rows:
            aid = r["a"].rsplit("/", 1)[-1]
            a = by_id.setdefault(aid, {"id": aid, "start": int(r["start"]), "end": int(r["end"]), "exact": r["exact"],
                                       "certainty": r["certainty"], "readings": {}})
            cat = _category(r["cat"])
            a["readings"][int(r["rank"])] = {
                "category": cat.value if cat else r["cat"], "category_label": cat.label if cat else None,
                "authority": r["src"] if r["purpose"].endswith("identifying") else None,
                "label": r["label"], "note": r["note"]}
        out = []
        for a in by_id.values():
            a["readings"] = [a["readings"][k] for k in sorted(a["readings"])]
            out.append(a)
        out.sort(key=lambda a: (a["start"], -a["end"], a["id"]))
        return out

    # -- authority records --------------------------------------------------------------------------

    def authorities(self, q: str, category: Category | None = None, *, identity: Identity = ANONYMOUS,
                    limit: int = 20) -> list[dict]:
        """Authority records whose name contains ``q``: persons and places of the catalogue
        (bf:Person, bf:Place) and records created by annotations (guji:AuthorityRecord).

        A name stated in a private annotation graph (a draft, a submission, a rejected one) is
        found only by a caller who may read that annotation (:class:`AnnotationPolicy`)."""
        q = q.strip()
        if not q:
            return []
        types = [GUJI_AUTHORITY] + [t for c, ts in CATEGORY_TYPES.items() if category in (None, c) for t in ts]
        graphs = f'STRSTARTS(STR(?g), "{PUBLIC_GRAPH_BASE}")'
        if identity.authenticated:
            graphs += f""" || (STRSTARTS(STR(?g), "{PRIVATE_GRAPH_BASE}") && EXISTS {{
                GRAPH ?g {{ ?a a oa:Annotation ; guji:reviewStatus ?status ; dcterms:creator ?creator }}
                FILTER(?status != "deleted" && {AnnotationPolicy.read_filter(identity)}) }})"""
        default, _ = public_dataset(self.store.graphs())
        catalogue = " || ".join(f"?g = <{g}>" for g in default if not g.startswith((PUBLIC_GRAPH_BASE, PRIVATE_GRAPH_BASE)))
        rows = self._select(f"""
            SELECT ?s ?label ?type ?cat WHERE {{
              {{ GRAPH ?g {{ ?s a ?type ; rdfs:label ?label . OPTIONAL {{ ?s guji:category ?cat }} }}
                 VALUES ?type {{ {' '.join(f'<{t}>' for t in types)} }} }}
              UNION  # records linked (with their name) by annotations
              {{ GRAPH ?g {{ ?r oa:hasPurpose oa:identifying ; oa:hasSource ?s ; rdfs:label ?label ; guji:category ?cat }}
                 BIND(<{GUJI_AUTHORITY}> AS ?type) }}
              FILTER(CONTAINS(STR(?label), {ox.Literal(q)}))
              FILTER({graphs}{(' || ' + catalogue) if catalogue else ''})
            }} LIMIT 500""", public=False)
        found: dict[str, dict] = {}
        for r in rows:
            cat = _category(r["cat"]) if r["cat"] else (Category.PERSON if r["type"] == BF_PERSON else
                                                           Category.PLACE if r["type"] == BF_PLACE else None)
            if category is not None and cat is not category:
                continue
            entry = found.setdefault(r["s"], {"iri": r["s"], "label": r["label"], "category": cat.value if cat else None,
                                              "category_label": cat.label if cat else None,
                                              "provisional": r["s"].startswith(AUTHORITY_BASE)})
            if len(r["label"]) < len(entry["label"]):
                entry["label"] = r["label"]
        ranked = sorted(found.values(), key=lambda e: (e["label"] != q, not e["label"].startswith(q), len(e["label"]), e["label"]))
        return ranked[:limit]

    # -- an entity ------------------------------------------------------------------------------------

    def _organisation(self, iri: str) -> dict:
        """The name and page of an organisation credited on an annotation (organisations/)."""
        cache = self.__dict__.setdefault("_orgs", {})
        if iri not in cache:
            rows = self._select("SELECT ?name WHERE { GRAPH ?g { ?o rdfs:label ?name } } LIMIT 1", public=False, o=ox.NamedNode(iri))
            cache[iri] = {"iri": iri, "name": rows[0]["name"] if rows else iri.rsplit("/", 1)[-1],
                          "url": "/organisations/" + iri.rsplit("/", 1)[-1]}
        return cache[iri]

    def entity(self, iri: str, *, mentions_limit: int = 200) -> dict:
        check_iri(iri)
        node = ox.NamedNode(iri)
        about = self._select(f"""
            SELECT DISTINCT ?p ?o WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {PUBLIC_G}
              FILTER(isLiteral(?o) || ?p IN (rdf:type, skos:exactMatch, skos:closeMatch, owl:sameAs, <http://schema.org/sameAs>, guji:category)) }}""",
                             public=False, s=node)
        ids = self._select("""
            SELECT ?id ?type ?value WHERE { ?s bf:identifiedBy ?id . ?id rdf:value ?value . OPTIONAL { ?id a ?type } }""", s=node)
        works = self._select("""
            SELECT DISTINCT ?work ?title ?role WHERE { ?work bf:contribution ?c . ?c bf:agent ?s . OPTIONAL { ?c bf:role ?role }
              OPTIONAL { ?work rdfs:label ?title } } ORDER BY ?title""", s=node)
        mention_rows = self._select(f"""
            SELECT ?a ?juan ?start ?end ?exact ?prefix ?suffix ?cat ?name ?org WHERE {{
              GRAPH ?g {{ ?r oa:hasSource ?s ; guji:category ?cat . OPTIONAL {{ ?r rdfs:label ?name }} ?a oa:hasTarget ?t ; guji:reviewStatus "approved" .
                OPTIONAL {{ ?a prov:wasAttributedTo ?org }}  # the organisation its annotator acted for (organisations/)
                ?t oa:hasSource ?juan ; oa:hasSelector ?p , ?q . ?p oa:start ?start ; oa:end ?end .
                ?q oa:exact ?exact ; oa:prefix ?prefix ; oa:suffix ?suffix . FILTER(STRSTARTS(STR(?r), STR(?a))) }}
              FILTER(STRSTARTS(STR(?g), "{PUBLIC_GRAPH_BASE}"))
            }}""", public=False, s=node)
        links = self.links(iri)
        relations = self.relations(iri)
        if not about and not works and not mention_rows and not ids and not links and not relations:
            raise NotFoundError(f"nothing is known about {iri}", iri=iri)
        labels: list[str] = []
        types: list[str] = []
        external: list[dict] = []
        literals: list[dict] = []
        category = None
        for r in about:
            p, o = r["p"], r["o"]
            if p.endswith("#label") or p.endswith("prefLabel") or p.endswith("altLabel"):
                if o not in labels:
                    labels.append(o)
            elif p.endswith("#type"):
                types.append(o)
            elif p.endswith("#category"):
                category = _category(o)
            elif p.endswith(("exactMatch", "closeMatch", "sameAs")):
                external.append(_external(o, p))
            else:
                literals.append({"predicate": p, "value": o})
        for r in ids:
            external.append({"iri": r["id"], "scheme": (r["type"] or "identifier").rsplit("#", 1)[-1].rsplit("/", 1)[-1],
                             "value": r["value"], "relation": "bf:identifiedBy"})
        seen = set()
        mentions = []
        for r in sorted(mention_rows, key=lambda r: (r["juan"], int(r["start"]))):
            if r["a"] in seen:
                continue
            seen.add(r["a"])
            mentions.append({"annotation": r["a"].rsplit("/", 1)[-1], "juan": r["juan"], "start": int(r["start"]),
                             "end": int(r["end"]), "exact": r["exact"], "prefix": r["prefix"], "suffix": r["suffix"],
                             "url": reading_url(r["juan"], int(r["start"])),
                             "organisation": self._organisation(r["org"]) if r.get("org") else None})
            if category is None:
                category = _category(r["cat"])
            if r["name"] and r["name"] not in labels:
                labels.append(r["name"])  # the name the annotations give it
        for t in types:
            if category is None and t == BF_PERSON:
                category = Category.PERSON
            elif category is None and t == BF_PLACE:
                category = Category.PLACE
        return {"iri": iri, "label": labels[0] if labels else None, "labels": labels, "types": sorted(set(types)),
                "category": category.value if category else None, "category_label": category.label if category else None,
                "provisional": iri.startswith(AUTHORITY_BASE), "external": external, "literals": literals,
                "works": works, "links": links, "relations": relations,
                "mentions": mentions[:mentions_limit], "mention_count": len(mentions),
                "texts": sorted({m["juan"] for m in mentions})}

    def relations(self, iri: str, *, limit: int = 500) -> list[dict]:
        """Approved relations with this entity at either end (ADR 0022): one entry per relation
        annotation — type (CHisIEC name, English, property IRI), direction, the other entity and
        its name, and the evidence: the two quoted spans and where they are read."""
        node = ox.NamedNode(check_iri(iri))
        types = " ".join(f"<{t.iri}>" for t in RelationType)
        found: list[tuple[str, str, str, bool]] = []  # (graph, property, other entity, outgoing)
        for direction, pattern in (("out", "?e ?p ?other"), ("in", "?other ?p ?e")):
            rows = self._select(f"""SELECT ?g ?p ?other WHERE {{ VALUES ?p {{ {types} }} GRAPH ?g {{ {pattern} }}
                  FILTER(STRSTARTS(STR(?g), "{PUBLIC_GRAPH_BASE}")) }} LIMIT {int(limit)}""", public=False, e=node)
            found += [(r["g"], r["p"], r["other"], direction == "out") for r in rows]
        if not found:
            return []
        # the evidence: the relation annotation is the graph's own (…/annotation/<id>), its spans at /target and /tail
        values = " ".join(f"(<{g}> <{ID}annotation/{g.rsplit('/', 1)[1]}/target> <{ID}annotation/{g.rsplit('/', 1)[1]}/tail>)"
                          for g in {f[0] for f in found})
        spans = {r["g"]: r for r in self._select(f"""SELECT ?g ?juan ?hs ?hq ?tq WHERE {{ VALUES (?g ?ht ?tt) {{ {values} }}
              GRAPH ?g {{ ?ht oa:hasSource ?juan ; oa:hasSelector ?hqs , ?hps . ?hqs oa:exact ?hq . ?hps oa:start ?hs .
                ?tt oa:hasSelector ?tqs . ?tqs oa:exact ?tq . }} }}""", public=False)}
        out: list[dict] = []
        for g, p, other, outgoing in found:
            r = spans.get(g)
            try:
                rtype = RelationType.parse(p)
            except ValueError:
                continue
            if r is None:
                continue
            out.append({"annotation": g.rsplit("/", 1)[1], "type": rtype.value, "type_label": rtype.label,
                        "type_en": rtype.label_en, "predicate": rtype.iri, "out": outgoing, "iri": other,
                        "juan": r["juan"], "head": r["hq"], "tail": r["tq"],
                        "other_quote": r["tq"] if outgoing else r["hq"],
                        "url": reading_url(r["juan"], int(r["hs"]))})
        if out:
            values = " ".join(f"<{check_iri(e['iri'])}>" for e in out)
            rows = self._select(f"""SELECT ?x ?label WHERE {{ VALUES ?x {{ {values} }} GRAPH ?g {{ ?x rdfs:label ?label }} {PUBLIC_G} }}""",
                                public=False)
            labels: dict[str, str] = {}
            for r in rows:
                if r["x"] not in labels or len(r["label"]) < len(labels[r["x"]]):
                    labels[r["x"]] = r["label"]
            for e in out:
                e["label"] = labels.get(e["iri"]) or e["other_quote"]
        order = {t.value: i for i, t in enumerate(RelationType)}
        out.sort(key=lambda e: (order[e["type"]], not e["out"], e["label"], e["annotation"]))
        return out

    def links(self, iri: str, *, limit: int = 24) -> list[dict]:
        """Resources linked to ``iri`` either way, with their labels (the entity page's small graph)."""
        node = ox.NamedNode(check_iri(iri))
        out = self._select(f"""SELECT DISTINCT ?p ?x WHERE {{ GRAPH ?g {{ ?s ?p ?x }} {PUBLIC_G}
            FILTER(isIRI(?x) && ?p != rdf:type) }} LIMIT {int(limit)}""", public=False, s=node)
        inc = self._select(f"""SELECT DISTINCT ?p ?x WHERE {{ GRAPH ?g {{ ?x ?p ?s }} {PUBLIC_G} FILTER(isIRI(?x)) }}
            LIMIT {int(limit)}""", public=False, s=node)
        edges = [{"predicate": r["p"], "iri": r["x"], "out": True} for r in out] + \
                [{"predicate": r["p"], "iri": r["x"], "out": False} for r in inc]
        edges = self._through(edges)
        if edges:
            values = " ".join(f"<{check_iri(e['iri'])}>" for e in edges)
            rows = self._select(f"""SELECT ?x ?label WHERE {{ VALUES ?x {{ {values} }} GRAPH ?g {{ ?x rdfs:label ?label }} {PUBLIC_G} }}""",
                                public=False)
            labels = {r["x"]: r["label"] for r in rows}
            for e in edges:
                e["label"] = e.get("label") or labels.get(e["iri"])
        return edges

    def _through(self, edges: list[dict]) -> list[dict]:
        """Step over the nodes that only connect: a contribution → its work; an annotation's reading →
        the text the annotation is on (one edge per text, with the number of mentions)."""
        readings = [e for e in edges if not e["out"] and _READING.match(e["iri"])]
        contributions = [e for e in edges if not e["out"] and e["predicate"] == BF_AGENT]
        if not readings and not contributions:
            return edges
        replaced: dict[str, dict] = {}
        if contributions:
            values = " ".join(f"<{e['iri']}>" for e in contributions)
            for r in self._select(f"""SELECT ?c ?work ?title WHERE {{ VALUES ?c {{ {values} }}
                    GRAPH ?g {{ ?work bf:contribution ?c . OPTIONAL {{ ?work rdfs:label ?title }} }} {PUBLIC_G} }}""", public=False):
                replaced[r["c"]] = {"predicate": "http://id.loc.gov/ontologies/bibframe/contribution", "iri": r["work"],
                                    "label": r["title"], "out": False}
        if readings:
            values = " ".join(f"<{_READING.match(e['iri']).group(1)}>" for e in readings)
            rows = self._select(f"""SELECT ?a ?juan ?jl ?title WHERE {{ VALUES ?a {{ {values} }}
                    GRAPH ?g {{ ?a oa:hasTarget/oa:hasSource ?juan }} FILTER(STRSTARTS(STR(?g), "{PUBLIC_GRAPH_BASE}"))
                    OPTIONAL {{ GRAPH ?g2 {{ ?juan guji:juanLabel ?jl ; dcterms:isPartOf/rdfs:label ?title }} {public_filter("g2")} }} }}""", public=False)
            by_annotation = {r["a"]: r for r in rows}
            for e in readings:
                r = by_annotation.get(_READING.match(e["iri"]).group(1))
                if r:
                    name = " ".join(x for x in (r["title"], r["jl"]) if x) or None
                    replaced[e["iri"]] = {"predicate": "http://www.w3.org/ns/oa#hasTarget", "iri": r["juan"], "label": name,
                                          "out": False, "url": reading_url(r["juan"])}
        out: dict[tuple, dict] = {}
        for e in edges:
            e = replaced.get(e["iri"], e) if not e["out"] else e
            key = (e["iri"], e["out"], e["predicate"])
            if key in out:
                out[key]["count"] = out[key].get("count", 1) + 1
            else:
                out[key] = dict(e)
        return list(out.values())

    # -- works and books ------------------------------------------------------------------------------

    def book_for_work(self, work: str) -> str | None:
        """The census number of a physical book of a work, if any."""
        rows = self._select("""
            SELECT ?census WHERE { ?book a guji:PhysicalBook ; bf:itemOf/bf:instanceOf ?work ; bf:identifiedBy/rdf:value ?census } LIMIT 1""",
                            work=ox.NamedNode(check_iri(work)))
        return rows[0]["census"] if rows else None

    def work_meta(self, work: str) -> dict:
        rows = self._select("""
            SELECT ?p ?o WHERE { ?work ?p ?o . FILTER(?p IN (guji:dynasty, guji:classification, guji:kanripoCategory)) }""",
                            work=ox.NamedNode(check_iri(work)))
        people = self._select("""
            SELECT ?agent ?name ?role WHERE { ?work bf:contribution ?c . ?c bf:agent ?agent . OPTIONAL { ?agent rdfs:label ?name }
              OPTIONAL { ?c bf:role ?role } }""", work=ox.NamedNode(work))
        # one line per person: a work described by several sources (kg.works) has a contribution from each
        merged: dict[str, dict] = {}
        for r in people:
            m = merged.setdefault(r["agent"], {"agent": r["agent"], "name": r["name"], "roles": []})
            m["name"] = m["name"] or r["name"]
            if r["role"] and r["role"] not in m["roles"]:
                m["roles"].append(r["role"])
        out: dict = {"contributors": [{"agent": m["agent"], "name": m["name"], "role": "、".join(m["roles"]) or None}
                                      for m in merged.values()]}
        for r in rows:
            out[r["p"].rsplit("#", 1)[-1]] = r["o"]
        return out


def _category(value: str | None) -> Category | None:
    if not value:
        return None
    try:
        return Category.parse(value)
    except ValueError:
        return None


def _external(iri: str, predicate: str) -> dict:
    for pattern, scheme, group in EXTERNAL:
        m = pattern.match(iri)
        if m:
            return {"iri": iri, "scheme": scheme, "value": m.group(group), "relation": predicate.rsplit("#", 1)[-1].rsplit("/", 1)[-1]}
    return {"iri": iri, "scheme": None, "value": iri, "relation": predicate.rsplit("#", 1)[-1].rsplit("/", 1)[-1]}
