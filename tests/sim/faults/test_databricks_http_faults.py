"""`databricks_http` faults of the simulator's one fault plan: loaded from YAML, they answer a real
databricks-sdk call as the workspace would (429 + Retry-After, which the SDK honours), and they land in the
same `applied` record as every other kind, in clock order."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from sim import clock, faults
from sim.simulator import Simulator
from tests.sim.clock.flying import build_zip


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    # Its own simulator with a workspace but no warm cluster: no task runs here, only API calls.
    with Simulator.start(state_dir=tmp_path_factory.mktemp("http-faults"), keep_state=False,
                         warm_cluster=False) as simulator:
        yield simulator


@pytest.fixture
def sdk(sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from databricks.sdk import WorkspaceClient

    assert sim.databricks is not None
    empty = tmp_path / "databrickscfg"
    empty.write_text("")
    monkeypatch.setenv("DATABRICKS_CONFIG_FILE", str(empty))
    return WorkspaceClient(host=sim.databricks.host, token=sim.databricks.token)


@pytest.fixture
def loaded(tmp_path: Path):
    """Activate a plan read from a YAML file; give back the previous plan afterwards."""
    previous = []

    def load(text: str) -> faults.FaultPlan:
        path = tmp_path / "plan.yaml"
        path.write_text(text)
        previous.append(faults.activate(faults.load_plan(path)))
        return faults.active()

    yield load
    if previous:
        faults.activate(previous[0])


def test_a_yaml_429_with_retry_after_makes_the_sdk_retry_and_then_succeed(sim, sdk, loaded):
    plan = loaded(
        "faults:\n"
        "  - target: {kind: databricks_http, name: 'POST /api/2.*/jobs/create'}\n"
        "    attempts: 1\n"
        "    label: throttled create\n"
        "    effect: {status_code: 429, retry_after: 1}\n"
    )
    job_id = sdk.jobs.create(name="http-fault-yaml").job_id  # the SDK saw 429, waited, asked again
    assert [j.job_id for j in sdk.jobs.list(name="http-fault-yaml")] == [job_id]  # created exactly once
    [applied] = plan.applied
    assert applied.target.startswith("databricks_http:POST /api/2.") and applied.target.endswith("/jobs/create")
    assert (applied.occurrence, applied.label, applied.effect) == (
        1, "throttled create", {"status_code": 429, "retry_after": 1})
    assert (plan.faults[0].seen, plan.faults[0].fired) == (2, 1)


def test_one_record_orders_lambda_and_databricks_faults_by_the_simulators_clock(sim, sdk, loaded):
    iam, lam = sim.aws.client("iam"), sim.aws.client("lambda", retries={"max_attempts": 0})
    role = iam.create_role(RoleName="http-faults-order", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": []}))["Role"]["Arn"]
    lam.create_function(FunctionName="http-faults-order", Runtime="python3.11", Role=role, Handler="app.handler",
                        Code={"ZipFile": build_zip("def handler(event, context):\n    return 1\n")})
    plan = loaded(
        "faults:\n"
        "  - target: {kind: lambda, name: http-faults-order}\n"
        "    attempts: 1-2\n"
        "    effect: {error: Lambda.ServiceException}\n"
        "  - target: {kind: databricks_http, name: 'GET /api/2.*/jobs/list'}\n"
        "    effect: {status_code: 503, retry_after: 0}\n"
        "    times: 1\n"
    )
    assert lam.invoke(FunctionName="http-faults-order")["FunctionError"] == "Unhandled"
    clock.sleep(60)
    list(sdk.jobs.list())  # 503 once, then the SDK's retry gets the list
    clock.sleep(60)
    assert lam.invoke(FunctionName="http-faults-order")["FunctionError"] == "Unhandled"

    kinds = [a.target.split(":", 1)[0] for a in plan.applied]
    assert kinds == ["lambda", "databricks_http", "lambda"]
    times = [a.at for a in plan.applied]
    assert times == sorted(times) and times[1] - times[0] >= 60 and times[2] - times[1] >= 60
