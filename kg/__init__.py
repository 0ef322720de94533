"""kg: the canonical RDF graph of the books and their texts (store, ingest, validation, projections)."""
