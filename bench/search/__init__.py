"""Search benchmark: ``python -m bench.search`` (see bench/search/__main__.py)."""
