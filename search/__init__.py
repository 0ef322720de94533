"""search: the text normaliser and the search backends (embedded Tantivy, Elasticsearch)."""
