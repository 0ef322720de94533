"""Benchmark of machine suggestions: F1 on CHisIEC dev (simplified and traditional), throughput."""
