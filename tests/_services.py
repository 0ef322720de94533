"""Fixtures for the real Neo4j and Elasticsearch servers (see scripts/services). Filled in by the real-services work."""
