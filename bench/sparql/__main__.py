"""Benchmark: SPARQL through our endpoint's runner (worker process, public dataset, serialisation).

    python -m bench.sparql [GUJI_HOME]      # a home with Kanripo ingested (guji ingest ../shared/corpus/kanripo)

Prints median and minimum milliseconds over 5 runs of a few typical queries; asserts nothing.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from kg.namespaces import sparql_prefixes
from kg.sparql import QueryRunner, ResultFormat, public_dataset
from kg.store import OxigraphStore

QUERIES = {
    "ASK (round trip)": "ASK { ?s ?p ?o }",
    "2-hop join: folio sides of one copy": """SELECT ?f WHERE { ?j dcterms:isPartOf <https://w3id.org/guji/id/item/KR2a0031/WYG> .
        ?f dcterms:isPartOf ?j ; a guji:FolioSide } LIMIT 1000""",
    "GROUP BY: triples per predicate": "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p",
    "works x editions x folio counts": """SELECT ?id ?code (COUNT(?f) AS ?n) WHERE { ?w a bf:Work ; dcterms:identifier ?id .
        ?item a guji:DigitalCopy ; guji:editionCode ?code ; bf:itemOf/bf:instanceOf ?w . ?j dcterms:isPartOf ?item .
        ?f a guji:FolioSide ; dcterms:isPartOf ?j } GROUP BY ?id ?code""",
}


def main() -> None:
    home = Path(sys.argv[1] if len(sys.argv) > 1 else "var")
    path = home / "oxigraph"
    store = OxigraphStore.open_read_only(path)
    graphs, quads = store.graphs(), store.count()
    store.close()
    default, named = public_dataset(graphs)
    runner = QueryRunner(path, workers=1, timeout=120, max_results=1_000_000)
    print(f"{quads} quads in {len(graphs)} graphs at {path}\n")
    print(f"{'query':<45} {'median ms':>10} {'min ms':>8}")
    try:
        for name, q in QUERIES.items():
            times = []
            for _ in range(5):
                t = time.perf_counter()
                runner.run(sparql_prefixes() + q, ResultFormat.JSON, default_graph=default, named_graphs=named)
                times.append((time.perf_counter() - t) * 1000)
            print(f"{name:<45} {statistics.median(times):>10.1f} {min(times):>8.1f}")
    finally:
        runner.close()


if __name__ == "__main__":
    main()
