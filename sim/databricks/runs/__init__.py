"""Runs: run-now / runs/submit, the run scheduler, and the run queries (get, get-output, list, cancel)."""
