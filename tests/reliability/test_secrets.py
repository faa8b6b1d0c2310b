"""No token or secret value in anything the suite leaves behind: logs, reports, histories, notifications,
run outputs and error messages. Stores whose job is to hold the secret (Secrets Manager's, the workspace
secret scopes', the token file) are the only places it may be."""

from __future__ import annotations

import json
from pathlib import Path

from harness.reporting import report_for_execution
from harness.runner import run_pipeline

TEXT_SUFFIXES = {".log", ".txt", ".html", ".json", ".out", ".err", ".py", ".csv", ".yaml", ".yml", ""}


def _secrets(stepbricks) -> list[str]:
    env = stepbricks.env
    values = [env["DATABRICKS_TOKEN"]]
    sm = stepbricks.client("secretsmanager")
    for page in sm.get_paginator("list_secrets").paginate():
        for secret in page["SecretList"]:
            values.append(sm.get_secret_value(SecretId=secret["ARN"])["SecretString"])
    return sorted({v for v in values if v and len(v) >= 8})


def _everything_said(stepbricks, deployed_pipeline, tmp_path: Path) -> dict[str, str]:
    """name -> text of every log line, history, notification, run output and report we can reach."""
    sim = stepbricks.simulator
    said: dict[str, str] = {}
    lam, logs, sfn = stepbricks.client("lambda"), stepbricks.client("logs"), stepbricks.client("stepfunctions")
    for page in lam.get_paginator("list_functions").paginate():
        for fn in page["Functions"]:
            said[f"lambda log {fn['FunctionName']}"] = "\n".join(sim.aws.lambda_logs(fn["FunctionName"]))
    for page in logs.get_paginator("describe_log_groups").paginate():
        for group in page["logGroups"]:
            events = logs.filter_log_events(logGroupName=group["logGroupName"]).get("events", [])
            said[f"cloudwatch {group['logGroupName']}"] = "\n".join(e["message"] for e in events)
    arns = []
    for page in sfn.get_paginator("list_state_machines").paginate():
        for machine in page["stateMachines"]:
            if machine["type"] == "EXPRESS":  # ListExecutions refuses them (StateMachineTypeNotSupported)
                continue
            for ex_page in sfn.get_paginator("list_executions").paginate(stateMachineArn=machine["stateMachineArn"]):
                arns.extend(e["executionArn"] for e in ex_page["executions"])
    for arn in arns:
        history = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        said[f"history {arn}"] = json.dumps(history, default=str)
    said["sns"] = json.dumps(sim.aws.sns_messages(), default=str)
    w = stepbricks.workspace()
    for job_id in deployed_pipeline.jobs.values():
        for run in w.api_client.do("GET", "/api/2.1/jobs/runs/list", query={"job_id": job_id, "limit": 25}).get(
                "runs", []):
            for task in w.api_client.do("GET", "/api/2.1/jobs/runs/get", query={"run_id": run["run_id"]})["tasks"]:
                output = w.api_client.do("GET", "/api/2.1/jobs/runs/get-output", query={"run_id": task["run_id"]})
                said[f"run output {task['run_id']}"] = json.dumps(output)
    if arns:
        report = report_for_execution(stepbricks.env, arns[0], tmp_path / "report.html",
                                      notifications=sim.aws.sns_messages)
        said["report"] = report.read_text()
    for path in sim.state_dir.rglob("*"):
        if path.is_file() and path.suffix in TEXT_SUFFIXES and path.stat().st_size < 5_000_000:
            said[f"file {path.relative_to(sim.state_dir)}"] = path.read_text(errors="replace")
    base = tmp_path.parent.parent  # this session's pytest temp root: experiment plans, reports, verdicts
    for path in base.rglob("*"):
        if path.is_file() and path.suffix in {".html", ".json", ".log", ".txt"} and path.stat().st_size < 5_000_000:
            said[f"temp {path.relative_to(base)}"] = path.read_text(errors="replace")
    return said


ALLOWED_STORES = ("token", "secrets", "secretsmanager")  # a store holding the secret is where it belongs


def _exercise_the_token_paths(stepbricks, deployed_pipeline, tmp_path: Path) -> None:
    """Make the suite say things even when this test runs alone: Lambdas that fetch the token and fail
    against the workspace (their exceptions are logged), and one flight through the trigger."""
    lam = stepbricks.client("lambda")
    for key, event in (("start-databricks-job", {"job_id": 987654, "execution_id": "x", "step": "etl",
                                                  "job_parameters": {}}),
                       ("check-databricks-job", {"run_id": 987654})):
        response = lam.invoke(FunctionName=deployed_pipeline.functions[key], Payload=json.dumps(event).encode())
        assert response.get("FunctionError"), f"{key} should fail on a job/run that does not exist"
    path = tmp_path / "secrets-probe.csv"
    path.write_text("customer_id,age\n")
    run_pipeline(stepbricks.env, deployed_pipeline, path, timeout=300)


def test_no_log_report_history_or_output_contains_a_secret(stepbricks, deployed_pipeline, tmp_path):
    stepbricks.require_simulator("reading every log the simulator kept")
    secrets = _secrets(stepbricks)
    assert stepbricks.env["DATABRICKS_TOKEN"] in secrets
    _exercise_the_token_paths(stepbricks, deployed_pipeline, tmp_path)

    said = _everything_said(stepbricks, deployed_pipeline, tmp_path)

    assert any(name.startswith("lambda log") and text for name, text in said.items()), "scanned no Lambda log"
    assert not leaks_in(said, secrets), f"a secret appears in: {leaks_in(said, secrets)}"


def leaks_in(said: dict[str, str], secrets: list[str]) -> list[str]:
    return [name for name, text in said.items() if any(s in text for s in secrets)
            and not any(part in ALLOWED_STORES for part in Path(name.split(" ", 1)[-1]).parts)]


def test_the_scan_flags_a_planted_leak_and_spares_the_secret_stores():
    said = {"lambda log f": "Authorization: Bearer dapi-123456789", "file databricks/secrets/scope.json": "dapi-123456789",
            "temp report.html": "all clear"}
    assert leaks_in(said, ["dapi-123456789"]) == ["lambda log f"]
