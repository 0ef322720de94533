"""Organisations and projects as RDF: one public named graph each, written through
``Store.replace_graphs`` (so they reach the public SPARQL dataset, Neo4j and search like any write).

    <id:agent/org/nlc> a foaf:Organization, prov:Organization ; rdfs:label "中国国家图书馆" ;
        skos:altLabel "National Library of China" ; dcterms:identifier "CN-110000-NLC" ;   # an ISIL
        skos:exactMatch <http://viaf.org/viaf/...> ;                                         # or an authority IRI
        foaf:homepage <https://...> .
    <id:project/p1> a guji:AnnotationProject ; rdfs:label "..." ; guji:organisation <id:agent/org/nlc> ;
        prov:wasAssociatedWith <id:agent/org/nlc> ; guji:guideline "..." ; rdfs:seeAlso <guideline url> ;
        guji:scope <work, copy or juan IRI> ... .

Annotations made in a project carry ``guji:project <project>`` and, in their own graph,
``<creator> prov:actedOnBehalfOf <organisation>`` (annotation/rdf.py).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import pyoxigraph as ox

from kg.namespaces import DCTERMS, GUJI, PROV, RDF, RDFS, SKOS
from organisations.model import (
    IRI,
    ORG_GRAPH_BASE,
    PROJECT_GRAPH_BASE,
    OrganisationCreate,
    ProjectCreate,
    org_iri,
    project_iri,
)

FOAF = "http://xmlns.com/foaf/0.1/"
N = ox.NamedNode
_TYPE = N(RDF + "type")


def org_graph(slug: str) -> str:
    return ORG_GRAPH_BASE + slug


def project_graph(slug: str) -> str:
    return PROJECT_GRAPH_BASE + slug


def organisation_triples(o: OrganisationCreate) -> list[ox.Triple]:
    s = N(org_iri(o.id))
    out = [ox.Triple(s, _TYPE, N(FOAF + "Organization")), ox.Triple(s, _TYPE, N(PROV + "Organization")),
           ox.Triple(s, N(RDFS + "label"), ox.Literal(o.name))]
    if o.name_en:
        out.append(ox.Triple(s, N(SKOS + "altLabel"), ox.Literal(o.name_en)))
    if IRI.match(o.authority):
        out.append(ox.Triple(s, N(SKOS + "exactMatch"), N(o.authority)))
    else:
        out.append(ox.Triple(s, N(DCTERMS + "identifier"), ox.Literal(o.authority)))
    if o.homepage:
        out.append(ox.Triple(s, N(FOAF + "homepage"), N(o.homepage)))
    return out


def project_triples(slug: str, organisation: str, name: str, guideline: str, guideline_url: str | None,
                    scope: Iterable[str]) -> list[ox.Triple]:
    s = N(project_iri(slug))
    org = N(org_iri(organisation))
    out = [ox.Triple(s, _TYPE, N(GUJI + "AnnotationProject")), ox.Triple(s, N(RDFS + "label"), ox.Literal(name)),
           ox.Triple(s, N(GUJI + "organisation"), org), ox.Triple(s, N(PROV + "wasAssociatedWith"), org)]
    if guideline:
        out.append(ox.Triple(s, N(GUJI + "guideline"), ox.Literal(guideline)))
    if guideline_url:
        out.append(ox.Triple(s, N(RDFS + "seeAlso"), N(guideline_url)))
    out += [ox.Triple(s, N(GUJI + "scope"), N(i)) for i in sorted(set(scope))]
    return out


def _props(triples: Iterable[ox.Triple]) -> dict[str, list[str]]:
    props: dict[str, list[str]] = defaultdict(list)
    for t in triples:
        props[t.predicate.value].append(t.object.value)
    return props


def read_organisation(slug: str, triples: Iterable[ox.Triple]) -> dict | None:
    p = _props(triples)
    if not p:
        return None
    authority = (p.get(SKOS + "exactMatch") or p.get(DCTERMS + "identifier") or [None])[0]
    return {"id": slug, "iri": org_iri(slug), "name": p[RDFS + "label"][0], "name_en": (p.get(SKOS + "altLabel") or [None])[0],
            "authority": authority, "homepage": (p.get(FOAF + "homepage") or [None])[0]}


def read_project(slug: str, triples: Iterable[ox.Triple]) -> dict | None:
    p = _props(triples)
    if not p:
        return None
    org = p[GUJI + "organisation"][0]
    return {"id": slug, "iri": project_iri(slug), "name": p[RDFS + "label"][0],
            "organisation": org.rsplit("/", 1)[1], "organisation_iri": org,
            "guideline": (p.get(GUJI + "guideline") or [""])[0], "guideline_url": (p.get(RDFS + "seeAlso") or [None])[0],
            "scope": sorted(p.get(GUJI + "scope", []))}
