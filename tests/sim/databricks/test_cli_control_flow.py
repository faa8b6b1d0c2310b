"""The Databricks CLI (`databricks`, databricks-cli 0.18, the one installed) against the fake workspace: jobs
with For each, If/else condition and Run Job tasks and a file-arrival trigger, created, run and read back.

The CLI runs as its own process with its own argument parsing, JSON files and HTTP calls. One known defect
of 0.18 is worked around, as the project does for every client of that package: its `ApiClient` drops the
port of the host (databricks-jobs-api.md, "Clients"), so the launcher keeps it; nothing else is changed.
A private simulator: the trigger needs its S3 and its virtual clock. No task needs Spark.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from sim.simulator import Simulator

pytestmark = pytest.mark.slow
LAUNCHER = """
import sys
from databricks_cli.sdk import api_client

_init = api_client.ApiClient.__init__


def _keep_port(self, *args, **kwargs):
    _init(self, *args, **kwargs)
    host = kwargs.get("host") or args[2]
    self.url = host.rstrip("/") + "/api/"


api_client.ApiClient.__init__ = _keep_port
from databricks_cli.cli import cli

sys.exit(cli(prog_name="databricks"))
"""


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator.start(warm_cluster=False) as simulator:
        yield simulator


@pytest.fixture
def databricks(sim: Simulator, tmp_path: Path):
    """`databricks(*args)` → the CLI's parsed JSON output (it fails the test on a non-zero exit)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABRICKS_")}
    env.update(DATABRICKS_HOST=sim.databricks.host, DATABRICKS_TOKEN=sim.databricks.token,
               DATABRICKS_CONFIG_FILE=str(tmp_path / "databrickscfg"), HOME=str(tmp_path))  # fmt: skip

    def run(*args: str, expect_ok: bool = True) -> Any:
        done = subprocess.run([sys.executable, "-c", LAUNCHER, *args], env=env, capture_output=True, text=True,
                              timeout=120)  # fmt: skip
        if not expect_ok:
            return done
        assert done.returncode == 0, f"databricks {' '.join(args)}: {done.stdout}{done.stderr}"
        return json.loads(done.stdout) if done.stdout.strip().startswith("{") else done.stdout

    return run


def _create(databricks, tmp_path: Path, settings: dict[str, Any]) -> int:
    path = tmp_path / f"{uuid.uuid4().hex[:6]}.json"
    path.write_text(json.dumps(settings))
    return int(databricks("jobs", "create", "--json-file", str(path), "--version", "2.1")["job_id"])


def _wait(sim: Simulator, databricks, run_id: int) -> dict[str, Any]:
    """Wait on the simulator's clock for the run's end, reading it through the CLI's `runs get`."""
    for _ in range(120):
        run = databricks("runs", "get", "--run-id", str(run_id), "--version", "2.1")
        if run["state"]["life_cycle_state"] in ("TERMINATED", "SKIPPED", "INTERNAL_ERROR"):
            return run
        sim.clock.sleep(1)
    raise AssertionError(f"run {run_id} did not end")


def _condition(key: str, op: str, left: str, right: str, **extra: Any) -> dict[str, Any]:
    return {"task_key": key, "condition_task": {"op": op, "left": left, "right": right}, **extra}


def _flow(child_job_id: int) -> dict[str, Any]:
    """A loop over three items, a branch on a job parameter, a child job on the branch taken."""
    return {
        "name": f"cli-flow-{uuid.uuid4().hex[:6]}",
        "parameters": [{"name": "threshold", "default": "2"}, {"name": "items", "default": "[1, 2, 3]"}],
        "tasks": [
            {"task_key": "loop", "for_each_task": {"inputs": "{{job.parameters.items}}", "concurrency": 2,
                                                   "task": _condition("small", "LESS_THAN", "{{input}}", "100")}},
            _condition("branch", "GREATER_THAN", "3", "{{job.parameters.threshold}}",
                       depends_on=[{"task_key": "loop"}]),
            {"task_key": "child", "depends_on": [{"task_key": "branch", "outcome": "true"}],
             "run_job_task": {"job_id": child_job_id, "job_parameters": {"from_parent": "{{job.run_id}}"}}},
            _condition("other_branch", "EQUAL_TO", "a", "a", depends_on=[{"task_key": "branch", "outcome": "false"}]),
        ],
    }  # fmt: skip


def _child(databricks, tmp_path: Path) -> int:
    return _create(databricks, tmp_path, {
        "name": f"cli-child-{uuid.uuid4().hex[:6]}", "parameters": [{"name": "from_parent", "default": ""}],
        "tasks": [_condition("check", "NOT_EQUAL", "{{job.parameters.from_parent}}", "")]})  # fmt: skip


def test_jobs_create_and_get_keep_for_each_condition_and_run_job_tasks(databricks, tmp_path) -> None:
    child = _child(databricks, tmp_path)
    job_id = _create(databricks, tmp_path, _flow(child))

    got = databricks("jobs", "get", "--job-id", str(job_id), "--version", "2.1")
    tasks = {t["task_key"]: t for t in got["settings"]["tasks"]}
    assert tasks["loop"]["for_each_task"]["task"]["condition_task"]["left"] == "{{input}}"
    assert tasks["branch"]["condition_task"]["op"] == "GREATER_THAN"
    assert tasks["child"]["run_job_task"]["job_id"] == child
    assert tasks["other_branch"]["depends_on"] == [{"task_key": "branch", "outcome": "false"}]


def test_run_now_takes_the_branch_the_condition_chose_and_runs_the_child_job(sim, databricks, tmp_path) -> None:
    child = _child(databricks, tmp_path)
    job_id = _create(databricks, tmp_path, _flow(child))

    started = databricks("jobs", "run-now", "--job-id", str(job_id), "--version", "2.1")
    run = _wait(sim, databricks, started["run_id"])

    assert run["state"]["result_state"] == "SUCCESS"
    tasks = {t["task_key"]: t for t in run["tasks"]}
    assert tasks["loop"]["for_each_task"]["stats"]["task_run_stats"]["succeeded_iterations"] == 3
    assert tasks["branch"]["condition_task"]["outcome"] == "true"
    assert tasks["other_branch"]["state"]["result_state"] == "EXCLUDED"
    output = databricks("runs", "get-output", "--run-id", str(tasks["child"]["run_id"]), "--version", "2.1")
    child_run = databricks("runs", "get", "--run-id", str(output["run_job_output"]["run_id"]), "--version", "2.1")
    assert (child_run["job_id"], child_run["trigger"]) == (child, "RUN_JOB_TASK")
    assert child_run["state"]["result_state"] == "SUCCESS", "{{job.run_id}} reached the child as a parameter"


def test_an_iteration_that_fails_fails_the_loop_and_the_tasks_after_it(sim, databricks, tmp_path) -> None:
    settings = _flow(_child(databricks, tmp_path))
    settings["parameters"][1]["default"] = '[1, "not a number", 3]'
    job_id = _create(databricks, tmp_path, settings)

    run = _wait(sim, databricks, databricks("jobs", "run-now", "--job-id", str(job_id), "--version", "2.1")["run_id"])

    assert run["state"]["result_state"] == "FAILED"
    tasks = {t["task_key"]: t for t in run["tasks"]}
    stats = tasks["loop"]["for_each_task"]["stats"]["task_run_stats"]
    assert (stats["failed_iterations"], stats["succeeded_iterations"]) == (1, 2)
    assert tasks["branch"]["state"]["result_state"] == "UPSTREAM_FAILED"


def test_a_file_arrival_trigger_created_by_the_cli_starts_a_run_when_a_file_lands(sim, databricks, tmp_path) -> None:
    bucket = f"cli-landing-{uuid.uuid4().hex[:8]}"
    s3 = boto3.client("s3", endpoint_url=sim.aws.endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)
    job_id = _create(databricks, tmp_path, {
        "name": f"cli-arrival-{uuid.uuid4().hex[:6]}",
        "trigger": {"pause_status": "UNPAUSED", "file_arrival": {"url": f"s3://{bucket}/in/"}},
        "tasks": [_condition("landed", "EQUAL_TO", "{{job.trigger.type}}", "file_arrival")]})  # fmt: skip
    assert databricks("jobs", "get", "--job-id", str(job_id), "--version", "2.1")["settings"]["trigger"][
        "file_arrival"]["url"] == f"s3://{bucket}/in/"  # fmt: skip
    sim.clock.sleep(300)
    listed = databricks("runs", "list", "--job-id", str(job_id), "--output", "JSON", "--version", "2.1")
    assert listed.get("runs", []) == [], "no file, no run"

    s3.put_object(Bucket=bucket, Key="in/day-1.csv", Body=b"a\n1\n")
    sim.clock.sleep(300)
    runs = databricks("runs", "list", "--job-id", str(job_id), "--output", "JSON", "--version", "2.1")["runs"]
    databricks("jobs", "delete", "--job-id", str(job_id))
    assert [r["trigger"] for r in runs] == ["FILE_ARRIVAL"]
    run = _wait(sim, databricks, runs[0]["run_id"])
    assert run["tasks"][0]["condition_task"]["outcome"] == "true", "{{job.trigger.type}} is file_arrival (the docs list the lower-case names)"
