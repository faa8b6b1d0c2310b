"""Fake Databricks workspace: run-now → TERMINATED latency of a trivial notebook task on a warm cluster,
against running the same file directly in a warm Python process; and the cluster's cold start.

    .venv/bin/python bench/bench_databricks.py [--runs N]

Timing uses time.perf_counter here on purpose: a benchmark measures wall time, it is not simulator code.
"""

from __future__ import annotations

import argparse
import os
import runpy
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DATABRICKS_CONFIG_FILE", os.devnull)

from sim.databricks import Workspace

NOTEBOOK = "# Databricks notebook source\nx = sum(range(1000))\n"


def _wait_terminated(ws: Workspace, run_id: int) -> str:
    runs = ws.backend.runs
    with runs.changed:
        while not runs.get(run_id).state.terminal:
            runs.changed.wait(0.5)
    return runs.get(run_id).state.result_state or ""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        nb = Path(tmp) / "repo" / "trivial.py"
        nb.parent.mkdir()
        nb.write_text(NOTEBOOK)
        with Workspace.start(state_dir=Path(tmp) / "ws", mounts={"/Repos/bench": nb.parent}) as ws:
            import requests

            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {ws.token}"
            job_id = session.post(ws.host + "/api/2.2/jobs/create", json={"name": "bench", "tasks": [
                {"task_key": "t", "notebook_task": {"notebook_path": "/Repos/bench/trivial"}}]}).json()["job_id"]

            def run_once() -> float:
                start = time.perf_counter()
                run_id = session.post(ws.host + "/api/2.2/jobs/run-now", json={"job_id": job_id}).json()["run_id"]
                assert _wait_terminated(ws, run_id) == "SUCCESS"
                return time.perf_counter() - start

            cold = run_once()  # includes the default cluster's start (worker process + SparkSession)
            warm = [run_once() for _ in range(args.runs)]

        direct = []
        for _ in range(args.runs):
            start = time.perf_counter()
            runpy.run_path(str(nb), init_globals={"spark": None, "dbutils": None})
            direct.append(time.perf_counter() - start)

    warm_ms, direct_ms = statistics.median(warm) * 1000, statistics.median(direct) * 1000
    print(f"{'measure':<52}{'median ms':>12}{'ratio':>10}")
    print(f"{'run-now -> TERMINATED, warm cluster':<52}{warm_ms:>12.1f}{warm_ms / direct_ms:>10.0f}x")
    print(f"{'same file via runpy in a warm Python process':<52}{direct_ms:>12.3f}{1:>10}x")
    print(f"{'first run-now incl. cluster cold start':<52}{cold * 1000:>12.1f}{cold / statistics.median(warm):>10.1f}x warm")
    print(f"(runs={args.runs}, p90 warm = {sorted(warm)[int(0.9 * (len(warm) - 1))] * 1000:.1f} ms)")


if __name__ == "__main__":
    main()
