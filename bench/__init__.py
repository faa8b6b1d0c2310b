"""Benchmarks: each `bench_<topic>.py` prints a table whose ratios were measured side by side in one run."""
