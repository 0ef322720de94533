"""The named-graph layout of the canonical store and who may see each graph: the one place.

Every source is written to its own named graph (ADR 0006); what a graph's IRI says decides who
reads it:

| graph IRI (under ``GG``)              | holds                                             | public |
|---------------------------------------|---------------------------------------------------|--------|
| ``kanripo/<text id>``                 | one Kanripo text with all its editions            | yes    |
| ``package/<batch>``                   | the service-level records of a submission package  | yes    |
| ``preservation/package/<batch>``      | its preservation-level records (masters)           | never  |
| ``load/<name>``                       | an RDF file loaded by ``guji load``                | yes    |
| ``annotation/<id>``                   | an approved annotation                             | yes    |
| ``private/annotation/<id>``           | a draft, submitted, rejected or deleted annotation | never  |
| ``private/edition-proposals/<id>``    | annotation <id> proposed on other editions (editions/) | never |
| ``acceptance/units``                  | the submitting units and their provinces (credit)  | yes    |
| ``organisations/<id>``                | an organisation (name, authority id) (organisations/) | yes |
| ``projects/<id>``                     | an annotation project (scope, guideline, organisation) | yes |
| ``private/acceptance/…``              | plans, samples and reviews, monthly catalogues, spot checks, acceptances, memberships (acceptance/rdf.py) | never |
| ``private/…``                         | anything else that only its owners and staff see   | never  |
| ``changelog``                         | the change log (``guji:Change``)                   | never  |
| ``ontology``, ``vocab/…``             | the ontology and SKOS schemes                      | yes    |

The public SPARQL dataset, Neo4j and the search index are built from the public graphs only
(:func:`is_public`); nothing else in guji decides visibility by looking at a graph IRI.
"""

from __future__ import annotations

from kg.namespaces import GG, ID

CHANGELOG = GG + "changelog"
PRESERVATION = GG + "preservation/"
PRIVATE = GG + "private/"
ANNOTATION = GG + "annotation/"  # approved annotations: public
PRIVATE_ANNOTATION = GG + "private/annotation/"  # every other state: private
EDITION_PROPOSALS = GG + "private/edition-proposals/"  # an approved annotation proposed on other editions
ANNOTATION_IRIS = ID + "annotation/"  # the annotation node of graph gg:annotation/<id> is id:annotation/<id>
ONTOLOGY = GG + "ontology"
VOCAB = GG + "vocab"

# graphs the public never sees, by prefix
NON_PUBLIC_PREFIXES = (CHANGELOG, PRESERVATION, PRIVATE)
# public, but schema rather than data: not projected as nodes into Neo4j
SCHEMA_PREFIXES = (ONTOLOGY, VOCAB)


def is_public(graph: str) -> bool:
    """May the public see this graph (public SPARQL dataset, search index, Neo4j, web pages)?"""
    return not graph.startswith(NON_PUBLIC_PREFIXES)


def is_annotation(graph: str) -> bool:
    """A graph holding one annotation, in any state."""
    return graph.startswith((ANNOTATION, PRIVATE_ANNOTATION))


def annotation_graph(annotation_id: str, *, public: bool) -> str:
    return (ANNOTATION if public else PRIVATE_ANNOTATION) + annotation_id


def annotation_id(graph: str) -> str:
    """The annotation id of an annotation graph (public or private)."""
    if not is_annotation(graph):
        raise ValueError(f"not an annotation graph: {graph}")
    return graph.rsplit("/", 1)[-1]


def kanripo_graph(text_id: str) -> str:
    return f"{GG}kanripo/{text_id}"


def load_graph(name: str) -> str:
    return f"{GG}load/{name}"


def public_filter(var: str = "?g") -> str:
    """A SPARQL FILTER keeping only public graphs bound to ``var``."""
    return "FILTER(" + " && ".join(f'!STRSTARTS(STR({var}), "{p}")' for p in NON_PUBLIC_PREFIXES) + ")"
