"""The stepbricks container's entry point: the Lambda runtime (behind moto's Lambda API and a Lambda
Invoke endpoint for Step Functions Local) and the fake Databricks workspace, on fixed ports.

`stepbricks up` picks free ports and keeps everything (S3, SNS, Step Functions, MLflow) to itself; in the
Docker stack LocalStack, Step Functions Local and an MLflow server do those jobs, so this process binds
the ports compose publishes and gives its Lambdas and clusters the stack's routes
(harness.backends.DOCKER_ROUTES). It runs the same outside Docker (tests/backends run it on free ports):

    python docker/serve.py --host 127.0.0.1 --state-dir /tmp/sb --localstack http://127.0.0.1:4566 ...
    python docker/serve.py --check            # the compose health check: exit 0 when every port answers
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))  # run as a script from a checkout or the image's /app

from harness.backends import DOCKER_DEFAULT_TOKEN, DOCKER_TOKEN_VAR, DockerPorts, routed_env  # noqa: E402

READY_FILE = "ready.json"


def _parser() -> argparse.ArgumentParser:
    ports = DockerPorts()
    p = argparse.ArgumentParser(prog="docker/serve.py", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="0.0.0.0", help="interface to bind (0.0.0.0 in the container)")
    p.add_argument("--state-dir", type=Path, default=Path("/var/lib/stepbricks"))
    p.add_argument("--aws-port", type=int, default=ports.aws, help="moto: Lambda, IAM, STS, S3, Logs")
    p.add_argument("--lambda-port", type=int, default=ports.lambda_invoke, help="Lambda Invoke endpoint")
    p.add_argument("--databricks-port", type=int, default=ports.databricks)
    p.add_argument("--localstack", default=f"http://localstack:{ports.localstack}")
    p.add_argument("--stepfunctions", default=f"http://stepfunctions:{ports.stepfunctions}")
    p.add_argument("--mlflow", default=f"http://mlflow:{ports.mlflow}")
    p.add_argument("--check", action="store_true", help="probe the three ports and exit 0 if all answer")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.check:
        return check(args)
    from sim.aws import AwsSimulator
    from sim.aws.lambda_endpoint import LambdaInvokeEndpoint
    from sim.databricks import Workspace
    from sim.simulator import REPO_MOUNT

    state: Path = args.state_dir.resolve()
    state.mkdir(parents=True, exist_ok=True)
    token = os.environ.get(DOCKER_TOKEN_VAR) or os.environ.get("DATABRICKS_TOKEN") or DOCKER_DEFAULT_TOKEN
    own = f"http://127.0.0.1:{args.aws_port}"  # seen from inside this container
    routes = routed_env({"localstack": args.localstack, "stepfunctions": args.stepfunctions, "aws": own,
                         "databricks": f"http://127.0.0.1:{args.databricks_port}", "mlflow": args.mlflow},
                        token=token)
    aws_only = {k: v for k, v in routes.items() if k.startswith("AWS_")}
    # The runtime gives its own moto endpoint to every function; here functions must reach LocalStack
    # and Step Functions Local too, so their environment starts from the stack's routes.
    with AwsSimulator.start(state_dir=state / "aws", host=args.host, port=args.aws_port,
                            lambda_env=aws_only) as aws:
        invoke = LambdaInvokeEndpoint(
            lambda: aws.client("lambda", retries={"max_attempts": 0}, read_timeout=905),
            host=args.host, port=args.lambda_port,
        )
        cluster_env = {**aws_only, "MLFLOW_TRACKING_URI": args.mlflow, "MLFLOW_S3_ENDPOINT_URL": args.localstack,
                       "STEPBRICKS_STORAGE_MODE": "staged"}
        workspace = Workspace.start(state_dir=state / "databricks", token=token, host=args.host,
                                    port=args.databricks_port, cluster_env=cluster_env,
                                    mounts={REPO_MOUNT: PROJECT_ROOT})
        try:
            ready = {"aws": aws.endpoint, "lambda_invoke": invoke.url, "databricks": workspace.host,
                     "routes": aws_only}
            (state / READY_FILE).write_text(json.dumps(ready))
            print(f"stepbricks container ready: {json.dumps(ready)}", flush=True)
            _wait_for_signal()
        finally:
            (state / READY_FILE).unlink(missing_ok=True)
            workspace.stop()
            invoke.stop()
    return 0


def _wait_for_signal() -> None:
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    done.wait()


def check(args: argparse.Namespace) -> int:
    """Health: moto's API, the Invoke endpoint (its 404 JSON to a POST off its one route proves it answers;
    it serves no GET) and the workspace."""
    host = "127.0.0.1" if args.host in ("0.0.0.0", "") else args.host
    probes = {
        "aws": f"http://{host}:{args.aws_port}/moto-api/",
        "lambda_invoke": f"http://{host}:{args.lambda_port}/",
        "databricks": f"http://{host}:{args.databricks_port}/.well-known/databricks-config",
    }
    failed = []
    for name, url in probes.items():
        try:
            data = b"" if name == "lambda_invoke" else None  # POST
            with urllib.request.urlopen(url, data=data, timeout=3):
                pass
        except urllib.error.HTTPError as exc:
            if exc.code >= 500:
                failed.append(f"{name}: HTTP {exc.code}")
        except Exception as exc:  # not answering, whatever the reason
            failed.append(f"{name}: {type(exc).__name__}")
    print("; ".join(failed) or "healthy")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
