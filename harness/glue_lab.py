"""Deploy and fly seed 003's lab offline: five Lambdas, two Glue jobs, its own state machine, an S3 trigger.

The same code deploys to real AWS (no endpoint overrides): only the names the seed asked the user to
replace — account, region, bucket names, ARNs — are filled in (a `prefix` keeps deployments apart).
`stepbricks run --pipeline glue-lab` uploads the seed's sample files plus an unsupported and an empty one,
and a CSV whose Glue run is made to fail by a fault plan, then shows the path each execution took, the
SNS messages, the CloudWatch metrics and the alarm states.
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from asl.loader import render
from harness.clients import aws_client
from harness.deploy import (
    _LAMBDA_TRUST,
    _SFN_TRUST,
    DeployConfig,
    _ensure_function,
    _ensure_role,
    _ensure_state_machine,
    _ensure_topic,
    build_lambda_zip,
)
from sim import clock

__all__ = ["GLUE_JOBS", "LAB_FUNCTIONS", "LabDeployment", "LabRun", "deploy_lab", "run_command", "run_upload"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLES = PROJECT_ROOT / "sim" / "data" / "samples"
STATE_MACHINE = "data-processing-pipeline"
# Seed step 3 and 6: function name -> handler module in lambdas/glue_lab.
LAB_FUNCTIONS = {
    "file-validation-function": "file_validation",
    "start-glue-job-function": "start_glue_job",
    "check-job-status-function": "check_job_status",
    "send-notification-function": "send_notification",
    "trigger-pipeline-function": "trigger_pipeline",
}
# Seed step 4: job name -> script (the names are fixed in start-glue-job-function's code).
GLUE_JOBS = {"process-csv-data": "process_csv_data.py", "process-json-data": "process_json_data.py"}
_GLUE_TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"},
                                                        "Action": "sts:AssumeRole"}]}


@dataclass
class LabDeployment:
    account: str
    region: str
    buckets: dict[str, str]  # source, processed, artifacts
    topic_arn: str
    state_machine_arn: str
    functions: dict[str, str]
    jobs: list[str]
    alarms: list[str]


@dataclass
class LabRun:
    """One upload and the execution it started."""

    key: str
    execution_arn: str
    status: str
    path: list[str]  # states entered, in order
    output: Any = None
    notifications: list[dict[str, Any]] = field(default_factory=list)
    processed_keys: list[str] = field(default_factory=list)

    @property
    def notification_status(self) -> str | None:
        """The `status` the lab's notification Lambda sent ("Pipeline Completed Successfully", ...)."""
        for message in self.notifications:
            first = str(message.get("message", "")).splitlines()[:1]
            if first and first[0].startswith("Pipeline Status: "):
                return first[0].removeprefix("Pipeline Status: ")
        return None


def deploy_lab(env: Mapping[str, str] | None = None, *, prefix: str = "", config: DeployConfig | None = None) -> LabDeployment:
    """Create (or update) everything seed 003 sets up by hand in steps 1-7 and the step-9 alarms."""
    env = dict(os.environ if env is None else env)
    config = config or DeployConfig(prefix=prefix)
    account = aws_client("sts", env).get_caller_identity()["Account"]
    region = env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION") or "us-east-1"
    s3 = aws_client("s3", env)
    buckets = {kind: f"{prefix}pipeline-{kind}" for kind in ("source", "processed", "artifacts")}
    for bucket in buckets.values():
        try:
            if region == "us-east-1":
                s3.create_bucket(Bucket=bucket)
            else:
                s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise
    topic_arn = _ensure_topic(aws_client("sns", env), f"{prefix}pipeline-notifications", config)
    iam = aws_client("iam", env)
    lambda_role = _ensure_role(iam, f"{prefix}glue-lab-lambda-role", _LAMBDA_TRUST)
    sfn_role = _ensure_role(iam, f"{prefix}glue-lab-sfn-role", _SFN_TRUST)
    glue_role = _ensure_role(iam, f"{prefix}glue-lab-glue-role", _GLUE_TRUST)

    _deploy_glue_jobs(env, buckets["artifacts"], glue_role)
    sm_arn = f"arn:aws:states:{region}:{account}:stateMachine:{prefix}{STATE_MACHINE}"
    function_env = {
        "start-glue-job-function": {"TARGET_BUCKET": buckets["processed"]},
        "send-notification-function": {"TOPIC_ARN": topic_arn},
        "trigger-pipeline-function": {"STATE_MACHINE_ARN": sm_arn},
    }
    lam = aws_client("lambda", env)
    code = build_lambda_zip(PROJECT_ROOT)
    functions = {}
    for name, module in LAB_FUNCTIONS.items():
        functions[name] = _ensure_function(lam, f"{prefix}{name}", f"lambdas.glue_lab.{module}.lambda_handler", 30,
                                           code, lambda_role, function_env.get(name, {}), config)
    definition = render("glue_lab", {"AccountId": account, "Region": region, "Prefix": prefix})
    _ensure_state_machine(aws_client("stepfunctions", env), f"{prefix}{STATE_MACHINE}", definition, sfn_role)
    _ensure_trigger(s3, lam, buckets["source"], functions["trigger-pipeline-function"], account)
    alarms = _ensure_alarms(aws_client("cloudwatch", env), prefix, sm_arn, functions, topic_arn)
    return LabDeployment(account=account, region=region, buckets=buckets, topic_arn=topic_arn,
                         state_machine_arn=sm_arn, functions=functions, jobs=list(GLUE_JOBS), alarms=alarms)


def _deploy_glue_jobs(env: Mapping[str, str], artifacts: str, role: str) -> None:
    """Seed step 4: Spark jobs, Glue 3.0, G.1X x 2; the scripts live in the artifacts bucket."""
    s3, glue = aws_client("s3", env), aws_client("glue", env)
    for name, script in GLUE_JOBS.items():
        key = f"scripts/{script}"
        s3.put_object(Bucket=artifacts, Key=key, Body=(PROJECT_ROOT / "glue_jobs" / script).read_bytes())
        settings = {"Role": role, "Command": {"Name": "glueetl", "ScriptLocation": f"s3://{artifacts}/{key}",
                                              "PythonVersion": "3"},
                    "GlueVersion": "3.0", "WorkerType": "G.1X", "NumberOfWorkers": 2}
        try:
            glue.get_job(JobName=name)
            glue.update_job(JobName=name, JobUpdate=settings)
        except glue.exceptions.EntityNotFoundException:
            glue.create_job(Name=name, **settings)


def _ensure_trigger(s3: Any, lam: Any, bucket: str, function_arn: str, account: str) -> None:
    """Seed step 7: every object-create event of the source bucket invokes the trigger function."""
    try:
        lam.add_permission(FunctionName=function_arn, StatementId=f"s3-invoke-{bucket}",
                           Action="lambda:InvokeFunction", Principal="s3.amazonaws.com",
                           SourceArn=f"arn:aws:s3:::{bucket}", SourceAccount=account)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceConflictException":
            raise
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "LambdaFunctionConfigurations": [{"Id": "trigger-pipeline", "LambdaFunctionArn": function_arn,
                                          "Events": ["s3:ObjectCreated:*"]}]})


def _ensure_alarms(cloudwatch: Any, prefix: str, sm_arn: str, functions: dict[str, str], topic_arn: str) -> list[str]:
    """Seed step 9: alarms on Step Functions execution failures, Lambda errors and Glue job failures."""
    alarms = [
        {"AlarmName": f"{prefix}data-processing-pipeline-executions-failed", "Namespace": "AWS/States",
         "MetricName": "ExecutionsFailed", "Dimensions": [{"Name": "StateMachineArn", "Value": sm_arn}]},
        {"AlarmName": f"{prefix}glue-lab-lambda-errors", "Namespace": "AWS/Lambda", "MetricName": "Errors",
         "Dimensions": []},
        {"AlarmName": f"{prefix}glue-lab-glue-job-failures", "Namespace": "Glue",
         "MetricName": "glue.driver.aggregate.numFailedTasks",
         "Dimensions": [{"Name": "JobName", "Value": "process-csv-data"}, {"Name": "JobRunId", "Value": "ALL"},
                        {"Name": "Type", "Value": "count"}]},
    ]
    for alarm in alarms:
        cloudwatch.put_metric_alarm(**alarm, Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1.0,
                                    ComparisonOperator="GreaterThanOrEqualToThreshold",
                                    TreatMissingData="notBreaching", AlarmActions=[topic_arn])
    widgets = [{"type": "metric", "properties": {"title": title, "metrics": metrics, "stat": "Sum", "period": 60,
                                                  "region": sm_arn.split(":")[3]}}
               for title, metrics in (
                   ("Step Functions executions", [["AWS/States", m, "StateMachineArn", sm_arn] for m in
                                                  ("ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed")]),
                   ("Lambda", [["AWS/Lambda", m, "FunctionName", arn.rsplit(":", 1)[-1]] for arn in functions.values()
                               for m in ("Invocations", "Errors")]),
                   ("Glue", [["Glue", "glue.driver.aggregate.elapsedTime", "JobName", job, "JobRunId", "ALL",
                              "Type", "count"] for job in GLUE_JOBS]))]
    cloudwatch.put_dashboard(DashboardName=f"{prefix}data-processing-pipeline",
                             DashboardBody=json.dumps({"widgets": widgets}))
    return [a["AlarmName"] for a in alarms]


# --- flying it --------------------------------------------------------------------------------------


def execution_name(key: str) -> str:
    """The name trigger-pipeline-function gives the execution for `key` (seed step 6)."""
    return f"execution-{key.replace('/', '-')}"


def run_upload(env: Mapping[str, str], deployment: LabDeployment, key: str, body: bytes, *,
               notifications: Callable[[], list[dict[str, Any]]] | None = None,
               timeout_s: float = 3600.0) -> LabRun:
    """Upload `body` to the source bucket as `key` and follow the execution the trigger starts until it ends.

    Waits in clock time (a virtual clock skips the lab's 30-second Wait states) with short real polls."""
    s3, sfn = aws_client("s3", env), aws_client("stepfunctions", env)
    seen_before = len(notifications()) if notifications else 0
    s3.put_object(Bucket=deployment.buckets["source"], Key=key, Body=body)
    machine = deployment.state_machine_arn
    arn = machine.replace(":stateMachine:", ":execution:") + ":" + execution_name(key)
    deadline = clock.now() + timeout_s
    tick = clock.ClockEvent()
    described: dict[str, Any] = {}
    while clock.now() < deadline:
        try:
            described = sfn.describe_execution(executionArn=arn)
        except sfn.exceptions.ExecutionDoesNotExist:
            described = {}
        if described.get("status") not in (None, "RUNNING"):
            break
        clock.poll(tick, 0.2)
    events = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"] if described else []
    path = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
    output = json.loads(described["output"]) if described.get("output") else None
    file_name = key.split("/")[-1].split(".")[0]
    listing = s3.list_objects_v2(Bucket=deployment.buckets["processed"], Prefix=f"processed/{file_name}/")
    return LabRun(key=key, execution_arn=arn, status=described.get("status", "NOT_STARTED"), path=path, output=output,
                  notifications=(notifications()[seen_before:] if notifications else []),
                  processed_keys=[o["Key"] for o in listing.get("Contents", [])])


# The CLI's scenario: (key, body, fail the Glue run?, expected notification status).
def default_uploads() -> list[tuple[str, bytes, bool, str]]:
    csv, js = (SAMPLES / "sample_data.csv").read_bytes(), (SAMPLES / "sample_data.json").read_bytes()
    return [
        ("incoming/sample_data.csv", csv, False, "Pipeline Completed Successfully"),
        ("incoming/sample_data.json", js, False, "Pipeline Completed Successfully"),
        ("incoming/notes.txt", b"not a data file\n", False, "File Validation Failed"),
        ("incoming/empty.csv", b"id,name,age,city\n", False, "File Validation Failed"),
        ("incoming/broken_run.csv", csv, True, "Pipeline Failed"),
    ]


def run_command(console: Any, *, inputs: list[Path] | None, state_dir: Path | None, real_time: bool) -> int:
    """`stepbricks run --pipeline glue-lab`: exit code 0 only when every upload took its expected path."""
    from rich.table import Table

    from sim import faults
    from sim.aws.moto_seams import cloudwatch as cloudwatch_seam
    from sim.simulator import Simulator

    uploads = ([(f"incoming/{p.name}", p.read_bytes(), False, "") for p in inputs] if inputs else default_uploads())
    plan = faults.FaultPlan()
    ok = True
    with Simulator.start(state_dir=state_dir, databricks=False, real_time=real_time, fault_plan=plan) as sim:
        env = {**os.environ, **sim.env}
        with console.status("deploying seed 003's lab (buckets, topic, 5 Lambdas, 2 Glue jobs, state machine)…"):
            deployment = deploy_lab(env)
        table = Table(title="glue-lab: one execution per upload")
        for column in ("upload", "status", "notification", "path", "processed objects"):
            table.add_column(column)
        for key, body, fail_glue, expected in uploads:
            if fail_glue:
                job = "process-json-data" if key.endswith(".json") else "process-csv-data"
                plan.add("glue", job, error="Simulated failure: the Glue run was made to fail by the fault plan",
                         scope=None, attempts=None, label=f"fail {key}")
            with console.status(f"{key}: running (the first Glue run starts Spark, ~20 s)…"):
                run = run_upload(env, deployment, key, body, notifications=lambda: sim.aws.sns_messages())
            plan.faults.clear()
            good = run.status == "SUCCEEDED" and (not expected or run.notification_status == expected)
            ok &= good
            table.add_row(key, run.status, f"{'' if good else '[red]'}{run.notification_status}",
                          " → ".join(_squash(run.path)), str(len(run.processed_keys)))
        console.print(table)
        for message in sim.aws.sns_messages(deployment.topic_arn):
            console.print(f"[bold]SNS[/bold] {message['timestamp']} {message['subject']}")
        cloudwatch_seam.evaluate_alarms(deployment.account, deployment.region)
        cloudwatch = sim.aws.client("cloudwatch")
        for name, value in metric_totals(cloudwatch, deployment).items():
            console.print(f"metric {name}: {value:g}")
        for alarm in cloudwatch.describe_alarms(AlarmNames=deployment.alarms)["MetricAlarms"]:
            console.print(f"alarm {alarm['AlarmName']}: {alarm['StateValue']}")
    return 0 if ok else 1


def metric_totals(cloudwatch: Any, deployment: LabDeployment, *, hours: int = 24) -> dict[str, float]:
    """Sums over the last `hours` of the metrics the lab's dashboard shows (GetMetricStatistics)."""
    now = clock.utcnow()
    start = now - datetime.timedelta(hours=hours)
    queries = [("AWS/States", m, [{"Name": "StateMachineArn", "Value": deployment.state_machine_arn}])
               for m in ("ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed")]
    # Per function: moto's GetMetricStatistics matches no-dimension queries against every dimension set.
    queries += [("AWS/Lambda", m, [{"Name": "FunctionName", "Value": arn.rsplit(":", 1)[-1]}])
                for m in ("Invocations", "Errors") for arn in deployment.functions.values()]
    queries += [("Glue", "glue.driver.aggregate.numFailedTasks",
                 [{"Name": "JobName", "Value": job}, {"Name": "JobRunId", "Value": "ALL"},
                  {"Name": "Type", "Value": "count"}]) for job in GLUE_JOBS]
    totals = {}
    for namespace, name, dims in queries:
        points = cloudwatch.get_metric_statistics(Namespace=namespace, MetricName=name, Dimensions=dims,
                                                  StartTime=start, EndTime=now + datetime.timedelta(minutes=1),
                                                  Period=hours * 3600, Statistics=["Sum"])["Datapoints"]
        label = f"{namespace} {name}" + "".join(f" {d['Value']}" for d in dims if d["Name"] == "JobName")
        totals[label] = totals.get(label, 0.0) + sum(p["Sum"] for p in points)
    return totals


def _squash(path: list[str]) -> list[str]:
    """The path with repeated poll loops shown once with a count (Wait → Check ×3)."""
    out: list[str] = []
    for name in path:
        if out and out[-1].split(" ×")[0] == name:
            count = int(out[-1].split(" ×")[1]) + 1 if " ×" in out[-1] else 2
            out[-1] = f"{name} ×{count}"
        elif name in ("WaitForJobCompletion", "CheckJobStatus", "JobCompletionChoice") and name in [
                o.split(" ×")[0] for o in out]:
            continue
        else:
            out.append(name)
    return out
