"""Start-up: `stepbricks up` until S3 and the workspace both answer, against `python -m moto.server`.

Run: .venv/bin/python bench/bench_startup.py [--repeats N]

Both are started as fresh processes in this run, one after the other, so the ratio compares like with
like on this machine (issue 17's target: at most 1.5x plain moto).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.table import report
from harness.ports import free_port

TARGET_RATIO = 1.5
DEADLINE_S = 180.0


def _answers(url: str) -> bool:
    """Any HTTP answer (even 4xx) means the server is serving; refused connections mean not yet."""
    try:
        urllib.request.urlopen(url, timeout=2).close()
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


def _time_until(proc: subprocess.Popen, ready) -> float:
    start = time.perf_counter()
    try:
        while time.perf_counter() - start < DEADLINE_S:
            if proc.poll() is not None:
                raise RuntimeError(f"exited with {proc.returncode} before answering")
            if ready():
                return time.perf_counter() - start
            time.sleep(0.02)
        raise TimeoutError("never answered")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def moto_server() -> float:
    """Seconds from spawning `python -m moto.server` to its first HTTP answer."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return _time_until(proc, lambda: _answers(f"http://127.0.0.1:{port}/"))


def stepbricks_up() -> float:
    """Seconds from spawning `stepbricks up` to S3 and the workspace both answering."""
    home = Path(tempfile.mkdtemp(prefix="bench-up-"))
    endpoints = home / "endpoints.json"
    env = {**os.environ, "STEPBRICKS_HOME": str(home)}
    proc = subprocess.Popen([sys.executable, "-m", "harness.cli", "up", "--state-dir", str(home / "state")],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def ready() -> bool:
        try:
            sim_env = json.loads(endpoints.read_text())["env"]
        except (OSError, ValueError, KeyError):
            return False
        s3 = sim_env.get("AWS_ENDPOINT_URL_S3", sim_env["AWS_ENDPOINT_URL"])
        return _answers(s3) and _answers(sim_env["DATABRICKS_HOST"].rstrip("/") + "/.well-known/databricks-config")

    return _time_until(proc, ready)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    moto, up = [], []
    for _ in range(args.repeats):
        moto.append(moto_server())
        up.append(stepbricks_up())
    m, u = statistics.median(moto), statistics.median(up)
    ratio = u / m
    print(f"{'row':<48}{'figure':>12}{'target':>12}")
    print(f"{'python -m moto.server answering (median)':<48}{m:>11.2f}s{'':>12}")
    print(f"{'stepbricks up: S3 + workspace answering':<48}{u:>11.2f}s{'':>12}")
    report("stepbricks up → S3 + workspace answering, ÷ moto.server answering", ratio, "x", TARGET_RATIO)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
