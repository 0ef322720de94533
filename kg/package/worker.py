"""A worker process checking batches of a large package (kg.package.stream, ADR 0024)."""

from kg.package.stream import worker_main

if __name__ == "__main__":
    worker_main()
