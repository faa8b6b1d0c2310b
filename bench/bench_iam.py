"""IAM enforcement's cost: the same API calls and warm Lambda invocations against a simulator that evaluates
IAM policies and one beside it that does not, in one run.

Run: .venv/bin/python bench/bench_iam.py [--calls N]

With enforcement each request is authenticated (SigV4 recomputed against the key's secret) and its
identity's policies evaluated; the ratio is what that adds per call.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.table import report  # noqa: E402

HANDLER = "def handler(event, context):\n    return {'ok': True}\n"
TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", HANDLER)
    return buffer.getvalue()


def _role_client(sim: Any, service: str, role_arn: str) -> Any:
    """A client signed with the role's temporary credentials, as a Lambda would hold them."""
    import boto3

    from sim.aws.moto_seams.iam import assume_role

    creds = assume_role(role_arn, "bench")
    return boto3.client(service, endpoint_url=sim.endpoint, region_name="us-east-1",
                        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
                        aws_session_token=creds["AWS_SESSION_TOKEN"])


def _prepare(sim: Any, bucket: str) -> dict[str, Any]:
    iam = sim.client("iam")
    role = iam.create_role(RoleName="bench-role", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    secret = sim.client("secretsmanager").create_secret(Name="bench/secret", SecretString="s")["ARN"]
    iam.put_role_policy(RoleName="bench-role", PolicyName="p", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    sim.client("s3").create_bucket(Bucket=bucket)  # bucket names are global, as on AWS
    sim.client("s3").put_object(Bucket=bucket, Key="k", Body=b"x" * 1024)
    sim.client("lambda").create_function(FunctionName="bench-fn", Runtime="python3.11", Role=role,
                                         Handler="app.handler", Code={"ZipFile": _zip()})
    sim.invoke("bench-fn")  # the cold start is not what is measured
    return {"secrets": _role_client(sim, "secretsmanager", role), "s3": _role_client(sim, "s3", role),
            "bucket": bucket, "lambda": sim.client("lambda")}


def _median_ms(fn: Any, n: int) -> float:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    from sim.simulator import Simulator

    with tempfile.TemporaryDirectory() as tmp, \
            Simulator.start(state_dir=Path(tmp) / "open", databricks=False, warm_cluster=False) as open_sim, \
            Simulator.start(state_dir=Path(tmp) / "enforced", databricks=False, warm_cluster=False,
                            enforce_iam=True) as enforced_sim:
        sims = {"open": open_sim.aws, "enforced": enforced_sim.aws}
        clients = {name: _prepare(sim, f"bench-bucket-{name}") for name, sim in sims.items()}
        operations = {
            "GetSecretValue (role credentials)": lambda name: clients[name]["secrets"].get_secret_value(
                SecretId="bench/secret"),
            "S3 GetObject 1 KiB (role credentials)": lambda name: clients[name]["s3"].get_object(
                Bucket=clients[name]["bucket"], Key="k")["Body"].read(),
            "warm Lambda Invoke (admin key)": lambda name: clients[name]["lambda"].invoke(
                FunctionName="bench-fn")["Payload"].read(),
        }
        print(f"{'operation':<40}{'open ms':>10}{'enforced ms':>13}{'ratio':>8}")
        ratios = []
        for label, call in operations.items():
            # interleaved rounds, so load on the machine hits both sides alike
            open_ms, enforced_ms = [], []
            for _ in range(10):
                open_ms.append(_median_ms(lambda call=call: call("open"), args.calls // 10))
                enforced_ms.append(_median_ms(lambda call=call: call("enforced"), args.calls // 10))
            o, e = statistics.median(open_ms), statistics.median(enforced_ms)
            ratios.append(e / o)
            print(f"{label:<40}{o:>10.2f}{e:>13.2f}{e / o:>7.2f}x")
    report("IAM enforced / not: median API call latency, worst operation", max(ratios), "x", 2.0)


if __name__ == "__main__":
    main()
