"""Namespace IRIs as plain strings (pyoxigraph and SPARQL text use strings; rdflib code may wrap
them in ``rdflib.Namespace``). See docs/data-model.md."""

GUJI = "https://w3id.org/guji/ontology#"
GUJIV = "https://w3id.org/guji/vocab/"
ID = "https://w3id.org/guji/id/"
GG = "https://w3id.org/guji/graph/"

BF = "http://id.loc.gov/ontologies/bibframe/"
PROV = "http://www.w3.org/ns/prov#"
PREMIS = "http://www.loc.gov/premis/rdf/v3/"
OA = "http://www.w3.org/ns/oa#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
IIIF = "http://iiif.io/api/presentation/3#"  # IIIF Presentation 3 (iiif:Canvas)

PREFIXES = {
    "guji": GUJI, "gujiv": GUJIV, "id": ID, "gg": GG, "bf": BF, "prov": PROV, "premis": PREMIS,
    "oa": OA, "skos": SKOS, "dcterms": DCTERMS, "rdf": RDF, "rdfs": RDFS, "xsd": XSD, "iiif": IIIF,
}


def sparql_prefixes() -> str:
    return "\n".join(f"PREFIX {p}: <{iri}>" for p, iri in PREFIXES.items()) + "\n"
