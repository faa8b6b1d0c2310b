"""sim/aws: simulator start-up, and Lambda invocation latency against a direct call of the same handler.

Run: .venv/bin/python bench/bench_aws.py [--invocations N]

Every number in the table comes from this run, so the ratios compare like with like on this machine.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import io
import json
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HANDLER = """
import os

def handler(event, context):
    return {"rows": len(event["rows"]), "total": sum(r["amount"] for r in event["rows"]), "fn": os.environ.get("AWS_LAMBDA_FUNCTION_NAME")}
"""
EVENT = {"rows": [{"id": i, "amount": i * 1.5} for i in range(20)]}


class _Context:
    aws_request_id = "bench"
    function_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 3000


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", HANDLER)
    return buffer.getvalue()


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _time(fn, n: int) -> list[float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invocations", type=int, default=200)
    parser.add_argument("--starts", type=int, default=5)
    args = parser.parse_args()

    started = time.perf_counter()
    from sim.aws import AwsSimulator, FunctionConfig
    import_s = time.perf_counter() - started

    rows: list[tuple[str, float, str]] = [("import sim.aws (moto, boto3)", import_s * 1000, "")]
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp)
        start_samples, first_call_samples = [], []
        for i in range(args.starts):
            t0 = time.perf_counter()
            sim = AwsSimulator.start(state_dir=state / f"start-{i}")
            t1 = time.perf_counter()
            sim.client("s3").list_buckets()
            t2 = time.perf_counter()
            sim.stop()
            start_samples.append(t1 - t0)
            first_call_samples.append(t2 - t1)
        rows.append((f"AwsSimulator.start (median of {args.starts})", _median_ms(start_samples), ""))
        rows.append(("first API call after start (median)", _median_ms(first_call_samples), ""))

        with AwsSimulator.start(state_dir=state / "invoke") as sim:
            role = sim.client("iam").create_role(RoleName="bench", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
            lam = sim.client("lambda", retries={"max_attempts": 0})
            code = _zip()
            cold = []
            for i in range(3):  # distinct functions: each first call is a cold start
                name = f"bench-cold-{i}"
                lam.create_function(FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler",
                                    Code={"ZipFile": code})
                cold += _time(lambda n=name: lam.invoke(FunctionName=n, Payload=b"{}"), 1)  # type: ignore[misc]
            payload = json.dumps(EVENT).encode()
            lam.create_function(FunctionName="bench", Runtime="python3.11", Role=role, Handler="app.handler",
                                Code={"ZipFile": code})
            lam.invoke(FunctionName="bench", Payload=payload)  # warm it up
            warm_api = _time(lambda: lam.invoke(FunctionName="bench", Payload=payload)["Payload"].read(),
                             args.invocations)

            # The runtime alone, without HTTP and moto: the same zip under its own pool key.
            config = FunctionConfig(name="bench-direct", version="$LATEST", handler="app.handler",
                                    arn="arn:aws:lambda:us-east-1:123456789012:function:bench-direct",
                                    runtime="python3.11", timeout_s=3.0, memory_mb=128, region="us-east-1",
                                    account_id="123456789012", code_sha256=hashlib.sha256(code).hexdigest())
            sim.runtime.invoke(config, lambda: code, payload)  # warm it up
            warm_runtime = _time(lambda: sim.runtime.invoke(config, lambda: code, payload), args.invocations)

            spec = importlib.util.spec_from_loader("bench_handler", loader=None)
            module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
            exec(HANDLER, module.__dict__)
            ctx = _Context()
            direct = _time(lambda: module.handler(json.loads(payload), ctx), args.invocations)

        direct_ms = _median_ms(direct)
        rows.append(("cold start via Invoke API (median of 3)", _median_ms(cold), f"{_median_ms(cold) / direct_ms:,.0f}x direct"))
        rows.append((f"warm invoke via boto3 + moto (median of {args.invocations})", _median_ms(warm_api),
                     f"{_median_ms(warm_api) / direct_ms:,.0f}x direct"))
        rows.append((f"warm invoke via LambdaRuntime (median of {args.invocations})", _median_ms(warm_runtime),
                     f"{_median_ms(warm_runtime) / direct_ms:,.0f}x direct"))
        rows.append((f"direct Python call of the handler (median of {args.invocations})", direct_ms, "1x"))

    width = max(len(r[0]) for r in rows)
    print(f"{'measurement':<{width}}  {'ms':>10}  ratio")
    print("-" * (width + 25))
    for label, ms, ratio in rows:
        print(f"{label:<{width}}  {ms:>10.3f}  {ratio}")
    print(f"\npython {sys.version.split()[0]}; warm API ÷ warm runtime = "
          f"{_median_ms(warm_api) / _median_ms(warm_runtime):.1f}x (HTTP + moto dispatch overhead)")


if __name__ == "__main__":
    main()
