"""Where the pipeline's endpoints come from: one vocabulary for the CLI (`--backend`) and pytest
(`--stepbricks-backend`), so the suite and the pipeline run unchanged and only configuration changes.

- `embedded`: the in-process simulator (`sim.simulator.Simulator`), with its virtual clock, fault plans
  and SNS outbox.
- `external`: every endpoint from the environment (AWS_ENDPOINT_URL[_<SERVICE>], DATABRICKS_HOST/TOKEN,
  MLFLOW_*): another machine's `stepbricks up`, LocalStack + Step Functions Local, or real AWS.
- `docker`: `docker-compose.yml` (LocalStack, Step Functions Local, stepbricks' workspace and Lambda
  runtime, an MLflow server) brought up through pytest-docker; then it is `external` with `docker_env()`.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yml"

BACKENDS = ("embedded", "external", "docker")
# databricks-sdk cannot guess these; AWS has a default chain (real AWS when no endpoint is set).
REQUIRED_EXTERNAL = ("DATABRICKS_HOST", "DATABRICKS_TOKEN")

# What only the embedded simulator can offer: a test needing one is skipped elsewhere, never passed.
SIMULATOR_ONLY_FEATURES = (
    "the virtual clock",
    "fault plans on AWS services",
    "reading published SNS messages directly",
)

# The workspace token of the Docker stack: a fixed local value both sides know (never a real secret).
DOCKER_TOKEN_VAR = "STEPBRICKS_DOCKER_DATABRICKS_TOKEN"
DOCKER_DEFAULT_TOKEN = "dapi0000000000000000000000000docker"


class BackendError(Exception):
    """The chosen backend cannot be used as configured; the message says what to set or start."""


@dataclass(frozen=True)
class DockerPorts:
    """Ports of the Docker stack. Each is published on 127.0.0.1 under the same number it has inside
    its container, so a URL means the same thing to a test on the host and to the stepbricks container
    (deploy hands DATABRICKS_HOST to the Lambdas, which run inside that container)."""

    localstack: int = 4566
    stepfunctions: int = 8083
    aws: int = 4510  # stepbricks' moto: Lambda (the local runtime), IAM, STS, S3, CloudWatch Logs
    lambda_invoke: int = 4511  # Step Functions Local's LAMBDA_ENDPOINT
    databricks: int = 8079
    mlflow: int = 5050


# compose service -> the DockerPorts fields it serves (tests check docker-compose.yml against this).
COMPOSE_SERVICES: dict[str, tuple[str, ...]] = {
    "localstack": ("localstack",),
    "stepfunctions": ("stepfunctions",),
    "stepbricks": ("aws", "lambda_invoke", "databricks"),
    "mlflow": ("mlflow",),
}

# Which container serves each AWS API in the Docker stack (AWS_ENDPOINT_URL_<SERVICE>); the rest go to
# LocalStack through AWS_ENDPOINT_URL. Why these four are not LocalStack's (docs/backends.md):
# - LAMBDA: the pipeline's functions run in stepbricks' runtime (LocalStack's Lambda needs Docker itself);
# - IAM: moto's CreateFunction requires the role to exist in its own IAM;
# - STS: deploy builds ARNs from GetCallerIdentity's account, which must be the account moto and Step
#   Functions Local (AWS_ACCOUNT_ID) put in their ARNs;
# - S3: the raw bucket's notification must reach the Lambda runtime; LocalStack's S3 can only notify
#   LocalStack's own Lambda. LocalStack's S3 still holds the MLflow artifacts.
DOCKER_ROUTES: dict[str, str] = {
    "LAMBDA": "aws",
    "IAM": "aws",
    "STS": "aws",
    "S3": "aws",
    "CLOUDWATCH_LOGS": "aws",
    "SFN": "stepfunctions",
}

# How each container is named from the host and from inside the compose network.
HOST_VIEW = {"localstack": "127.0.0.1", "stepfunctions": "127.0.0.1", "aws": "127.0.0.1",
             "databricks": "127.0.0.1", "mlflow": "127.0.0.1"}
CONTAINER_VIEW = {"localstack": "localstack", "stepfunctions": "stepfunctions", "aws": "127.0.0.1",
                  "databricks": "127.0.0.1", "mlflow": "mlflow"}


def docker_env(
    ports: DockerPorts | None = None,
    *,
    hosts: Mapping[str, str] = HOST_VIEW,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The standard variables (docs/contracts.md) pointing every client at the Docker stack."""
    ports = ports or DockerPorts()
    environ = os.environ if environ is None else environ
    urls = {target: f"http://{hosts[target]}:{getattr(ports, target)}" for target in hosts}
    return routed_env(urls, token=environ.get(DOCKER_TOKEN_VAR) or DOCKER_DEFAULT_TOKEN)


def routed_env(urls: Mapping[str, str], *, token: str) -> dict[str, str]:
    """The environment for `urls` (localstack, stepfunctions, aws, databricks, mlflow -> base URL), with
    each AWS API sent where DOCKER_ROUTES says. The stepbricks container gives the same routes (with
    in-network names) to its Lambdas and clusters."""
    env = {
        "AWS_ENDPOINT_URL": urls["localstack"],
        # The harness's own clients reach LocalStack through localstack-client, as LocalStack users do.
        "LOCALSTACK_HOST": urls["localstack"].split("://", 1)[1],
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "DATABRICKS_HOST": urls["databricks"],
        "DATABRICKS_TOKEN": token,
        "MLFLOW_TRACKING_URI": urls["mlflow"],
        "MLFLOW_S3_ENDPOINT_URL": urls["localstack"],
    }
    env.update({f"AWS_ENDPOINT_URL_{service}": urls[target] for service, target in DOCKER_ROUTES.items()})
    return env


def missing_external(environ: Mapping[str, str]) -> list[str]:
    return [name for name in REQUIRED_EXTERNAL if not environ.get(name)]


def external_env(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment as the endpoints, after checking what cannot default (Databricks host and token)."""
    environ = os.environ if environ is None else environ
    missing = missing_external(environ)
    if missing:
        raise BackendError(
            f"the external backend needs {', '.join(missing)} in the environment "
            "(e.g. `eval \"$(stepbricks env)\"` for a running `stepbricks up`)"
        )
    return dict(environ)


@dataclass
class BackendHandle:
    """A backend in use: its name, the environment clients use, and the simulator when embedded."""

    name: str
    env: dict[str, str]
    simulator: Any = None
    notes: list[str] = field(default_factory=list)

    def require_simulator(self, feature: str) -> Any:
        if self.simulator is None:
            raise BackendError(f"{feature} needs the embedded simulator; backend is {self.name}")
        return self.simulator


@contextmanager
def open_backend(
    name: str,
    *,
    environ: Mapping[str, str] | None = None,
    state_dir: Path | None = None,
    real_time: bool = False,
    fault_plan: Any = None,
    seed: int = 0,
    deterministic: bool = False,
    resonate: bool = False,
    enforce_iam: bool = False,
    spark: str | None = None,
    spark_shared_dir: Path | None = None,
    mlflow_tracking_uri: str | None = None,
    trains: bool = False,
) -> Iterator[BackendHandle]:
    """Use backend `name` for the duration. `embedded` starts (and stops) a simulator; `external` reads
    the environment; `docker` expects the compose stack to be up already (`docker compose up -d --wait`;
    pytest's `--stepbricks-backend=docker` starts it itself, see `docker_stack`). `resonate` also starts the
    embedded simulator's durable-promise server (`stepbricks run --variant resonate`); `enforce_iam` makes the
    embedded simulator evaluate IAM policies (docs/iam.md). `spark` and `mlflow_tracking_uri` point the
    embedded simulator's clusters at an existing Spark (a `local`, `spark://` or `sc://` URL) and MLflow
    tracking server (`sim.simulator.Simulator.start`). `trains`: the flight trains at once, so the embedded
    cluster imports its ML libraries beside its first task (`Simulator.start(warm_libraries=...)`)."""
    environ = os.environ if environ is None else environ
    if name not in BACKENDS:
        raise BackendError(f"backend must be one of {', '.join(BACKENDS)}, got {name!r}")
    if name != "embedded" and enforce_iam:
        raise BackendError(f"--enforce-iam switches the embedded simulator's IAM evaluation; backend is {name}")
    if name != "embedded" and fault_plan is not None:
        raise BackendError(f"fault plans on AWS services need the embedded simulator; backend is {name}")
    if name != "embedded" and (spark or mlflow_tracking_uri):
        raise BackendError(f"--spark and --mlflow configure the embedded simulator; backend is {name} "
                           "(its own workspace decides where its clusters run)")
    if name == "external":
        yield BackendHandle(name, external_env(environ))
        return
    if name == "docker":
        env = {**environ, **docker_env(environ=environ)}
        unhealthy = [f"{svc} ({why})" for svc, why in docker_health(env).items() if why]
        if unhealthy:
            raise BackendError(f"the Docker stack is not healthy: {'; '.join(unhealthy)} — start it with "
                               f"`docker compose -f {COMPOSE_FILE} up -d --wait`")
        yield BackendHandle(name, env)
        return
    from sim.compute.backends import BackendError as SparkUrlError
    from sim.compute.backends import parse as parse_spark_url
    from sim.simulator import Simulator

    try:
        parse_spark_url(spark or environ.get("STEPBRICKS_SPARK"))  # refuse a bad URL before anything starts
    except SparkUrlError as exc:
        raise BackendError(f"--spark: {exc}") from None
    with Simulator.start(state_dir=state_dir, real_time=real_time, fault_plan=fault_plan, seed=seed,
                         deterministic=deterministic, resonate=resonate, enforce_iam=enforce_iam, spark=spark,
                         spark_shared_dir=spark_shared_dir, mlflow_tracking_uri=mlflow_tracking_uri,
                         warm_libraries=trains) as sim:
        yield BackendHandle(name, {**environ, **sim.env}, simulator=sim)


# --- the Docker stack --------------------------------------------------------------------------------


def health_urls(env: Mapping[str, str]) -> dict[str, str]:
    """One URL per compose service that answers 2xx when the service is ready."""
    return {
        "localstack": env["AWS_ENDPOINT_URL"].rstrip("/") + "/_localstack/health",
        # Step Functions Local has no health route; any HTTP answer (a 400 to a bare GET) means it is up.
        "stepfunctions": env["AWS_ENDPOINT_URL_SFN"].rstrip("/") + "/",
        "stepbricks": env["DATABRICKS_HOST"].rstrip("/") + "/.well-known/databricks-config",
        "mlflow": env["MLFLOW_TRACKING_URI"].rstrip("/") + "/health",
    }


def _answers(url: str, timeout: float = 2.0) -> str:
    """'' when `url` answers over HTTP (any status below 500), else why not."""
    try:
        with urllib.request.urlopen(url, timeout=timeout):
            return ""
    except urllib.error.HTTPError as exc:
        return "" if exc.code < 500 else f"HTTP {exc.code}"
    except Exception as exc:  # refused, timed out, DNS: all mean "not ready", say which
        return type(exc).__name__


def docker_health(env: Mapping[str, str]) -> dict[str, str]:
    """compose service -> '' when healthy, else the reason."""
    return {service: _answers(url) for service, url in health_urls(env).items()}


@contextmanager
def docker_stack(
    *,
    compose_command: str = "docker compose",
    compose_file: Path = COMPOSE_FILE,
    project: str | None = None,
    timeout_s: float = 300.0,
    keep: bool = False,
) -> Iterator[dict[str, str]]:
    """`docker compose up --build --wait` through pytest-docker (which waits on the health checks), then
    the stack's environment with the ports compose really published; `down -v` afterwards unless `keep`."""
    try:
        from pytest_docker.plugin import get_docker_services
    except ImportError as exc:  # the test extra carries it
        raise BackendError("the docker backend needs pytest-docker: pip install -e '.[test]'") from exc

    with get_docker_services(
        compose_command,
        str(compose_file),
        project or f"stepbricks{os.getpid()}",
        ["up --build --wait"],
        [] if keep else ["down -v"],
    ) as services:
        defaults = DockerPorts()
        ports = DockerPorts(**{name: services.port_for(service, getattr(defaults, name))
                               for service, names in COMPOSE_SERVICES.items() for name in names})
        env = docker_env(ports)
        services.wait_until_responsive(lambda: not any(docker_health(env).values()), timeout=timeout_s, pause=1.0)
        yield env

