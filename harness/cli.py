"""The `stepbricks` command line: bring the simulator up, fly the pipeline, poke Lambdas."""

from __future__ import annotations

import faulthandler
import json
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.live import Live

app = typer.Typer(
    help=(
        "stepbricks flies a Step Functions + Databricks data/ML pipeline offline: local S3, Step Functions "
        "and Lambda (moto + a real local Lambda runtime), and a fake Databricks workspace that really runs "
        "jobs on local Spark.\n\nStart with `stepbricks run` (the whole pipeline, one command) or "
        "`stepbricks up` (the simulator, for your own clients)."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)
console = Console()
STATE_HOME = Path(os.environ.get("STEPBRICKS_HOME", ".stepbricks"))
ENDPOINTS_FILE = STATE_HOME / "endpoints.json"


_BACKEND_HELP = ("embedded (a running `stepbricks up`) | external (endpoints from the environment) | docker "
                 "(a running docker-compose.yml stack); default: a running `stepbricks up`, else the environment")


def _backend_env(backend: str) -> dict[str, str]:
    """The endpoints of an already running backend (harness/backends.py); exit 2 with the reason if unusable."""
    from harness.backends import BackendError, open_backend

    if backend == "embedded":
        saved = _saved_env()
        if saved is None:
            console.print("[red]No simulator is running here[/red] (start one with `stepbricks up`).")
            raise typer.Exit(2)
        return {**os.environ, **saved}
    try:
        with open_backend(backend) as handle:
            return handle.env
    except BackendError as exc:
        console.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(2) from exc


def _saved_env() -> dict[str, str] | None:
    if ENDPOINTS_FILE.exists():
        return json.loads(ENDPOINTS_FILE.read_text())["env"]
    return None


def _target_env() -> dict[str, str]:
    """The endpoints to talk to: a running `stepbricks up`, else the process environment."""
    saved = _saved_env()
    return {**os.environ, **saved} if saved else dict(os.environ)


_SPARK_HELP = ("Where clusters run their Spark work: local (default), spark://host:7077 (a standalone master) or "
               "sc://host:15002 (a Spark Connect server); docs/scaling.md")
_SHARED_HELP = ("A directory mounted at the same path on every node of a remote --spark, where s3:// data is "
                "staged for the executors to read (not needed when the master or server is on this machine)")
_MLFLOW_HELP = ("An existing MLflow tracking server for the clusters and clients (e.g. http://mlflow:5000); default: "
                "MLFLOW_TRACKING_URI when it names an http(s) server, else the simulator's own SQLite store")


def _mlflow_uri(flag: str | None) -> str | None:
    """`--mlflow`, else an http(s) MLFLOW_TRACKING_URI: a sqlite:/// one is usually a previous
    `stepbricks env` export of another simulator's store, not a server to share."""
    if flag:
        return flag
    env = os.environ.get("MLFLOW_TRACKING_URI", "")
    return env if env.startswith(("http://", "https://")) else None


def _spark_url(flag: str | None) -> str | None:
    """The --spark URL (or STEPBRICKS_SPARK), refused early with what is accepted."""
    from sim.compute.backends import BackendError, parse

    try:
        parse(flag)
    except BackendError as exc:
        console.print(f"[red]--spark: {exc}[/red]", highlight=False)
        raise typer.Exit(2) from exc
    return flag


# Options `up` and `run` share: one declaration each.
EnforceIam = Annotated[
    bool, typer.Option("--enforce-iam", help="Evaluate IAM policies: Lambdas and state machines run with their "
                       "roles' credentials; a missing permission fails with AWS's AccessDenied (docs/iam.md).")
]
Spark = Annotated[str | None, typer.Option("--spark", envvar="STEPBRICKS_SPARK", help=_SPARK_HELP)]
SparkSharedDir = Annotated[
    Path | None, typer.Option("--spark-shared-dir", envvar="STEPBRICKS_SPARK_SHARED_DIR", help=_SHARED_HELP)
]
Mlflow = Annotated[str | None, typer.Option("--mlflow", help=_MLFLOW_HELP)]


@app.command()
def up(
    state_dir: Annotated[Path, typer.Option(help="Where jobs, runs, secrets, MLflow and Lambda code are kept.")] = (
        STATE_HOME / "state"
    ),
    databricks: Annotated[bool, typer.Option(help="Also start the fake Databricks workspace.")] = True,
    host: Annotated[str, typer.Option(help="Interface to bind (0.0.0.0 inside a container).")] = "127.0.0.1",
    seed: Annotated[int, typer.Option(help="Seed of every id the simulator makes up (replayable runs).")] = 0,
    resonate: Annotated[bool, typer.Option(help="Also start the durable-promise server for Resonate workers.")] = True,
    enforce_iam: EnforceIam = False,
    spark: Spark = None,
    spark_shared_dir: SparkSharedDir = None,
    mlflow: Mlflow = None,
    mock_config: Annotated[
        Path | None,
        typer.Option("--mock-config", envvar="SFN_MOCK_CONFIG", help="A Step Functions Local MockConfigFile: "
                     "start executions on <state machine ARN>#<TestCase>. Edits are in force from the next "
                     "execution on; a malformed edit is reported here and the last good configuration stays."),
    ] = None,
) -> None:
    """Start the simulator in the foreground; print its endpoints and the environment to export."""
    from sim import collector

    collector.pause_collector()  # until the simulator answers (sim/collector.py)
    collector.freeze_at_exit()  # the interpreter's last collection would walk all a flight made: 0.5 s
    from harness.views import endpoints_table, export_lines
    from sim.faults import FaultPlan, PlanError
    from sim.faults.mock_config_watch import MockConfigWatcher, attach
    from sim.private_file import write_private
    from sim.simulator import Simulator

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # `kill -USR1 <pid>` prints every thread's stack to stderr: a simulator that will not stop says where it is.
    if sys.__stderr__ is not None:  # the process's own stderr: a caller's replacement may have no file number
        faulthandler.register(signal.SIGUSR1, file=sys.__stderr__, all_threads=True)
    spark = _spark_url(spark)
    plan, watched = None, None
    if mock_config is not None:
        plan = FaultPlan()
        try:
            watched = MockConfigWatcher(mock_config, plan, report=_report_mock_config)
        except (OSError, PlanError) as exc:
            console.print(f"[red]--mock-config {mock_config}: {exc}[/red]", highlight=False)
            raise typer.Exit(2) from exc
    spinner = console.status("starting the simulator…")
    spinner.start()
    # warm_engine: the first task of a long-lived `up` comes minutes later, so the engine warm-up is free.
    with Simulator.start(state_dir=state_dir, databricks=databricks, host=host, seed=seed, resonate=resonate,
                         warm_engine=True, enforce_iam=enforce_iam, spark=spark, spark_shared_dir=spark_shared_dir,
                         mlflow_tracking_uri=_mlflow_uri(mlflow), fault_plan=plan) as sim:
        attach(sim.context, watched)
        env = sim.env
        if sim.databricks is not None:
            from harness.bundles.auth import LOCAL_TOKEN_DESCRIPTION, LOCAL_TOKEN_SECRET

            # Where the bundle's `local` target reads it, so `stepbricks bundle deploy --target local` works
            # against a fresh `up` without a pipeline deploy.
            sim.aws.store_secret(LOCAL_TOKEN_SECRET, sim.databricks.token, description=LOCAL_TOKEN_DESCRIPTION)
        spinner.stop()
        console.print(endpoints_table(env))
        if enforce_iam:
            console.print("IAM is enforced: Lambdas and state machines run with their roles' credentials; the "
                          "exported key is the admin user stepbricks-admin (docs/iam.md).", highlight=False)
        console.print(f"Clusters run on Spark: {spark or 'local'}; MLflow tracking: {sim.mlflow_tracking_uri}",
                      highlight=False)
        if sim.resonate is not None:
            console.print(f"Resonate promise server: {sim.resonate.url} (long-poll {sim.resonate.poll_url}); "
                          "Resonate.remote() finds it through RESONATE_HOST and RESONATE_PORT_*.", highlight=False)
        console.print("\nExport these to point boto3, databricks-sdk and mlflow at it:")
        console.print(export_lines({k: v for k, v in env.items() if "TOKEN" not in k}), highlight=False)
        console.print("(the workspace token is left out here: `eval \"$(stepbricks env)\"` includes it)")
        if sim.databricks is not None:
            console.print(f"The workspace token is also in Secrets Manager as {LOCAL_TOKEN_SECRET}, where "
                          "`stepbricks bundle deploy --target local` reads it.", highlight=False)
        if watched is not None:
            console.print(f"Mock config: {mock_config} ({len(plan.scopes())} test case(s)); edits are in force from "
                          "the next execution on.", highlight=False)
        console.print("Ctrl-C stops it.")
        # Ctrl-C stops it even when `up` inherited SIGINT ignored, as a background job of a non-interactive
        # shell does (CI runners, `cmd &` in a script): Python then leaves it ignored, and Ctrl-C did nothing.
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        # The endpoints file last: whoever waits for it (`stepbricks env`, a script, a test) finds `up` ready
        # and everything it has to say already printed.
        sys.stdout.flush()
        collector.freeze_start_up()
        STATE_HOME.mkdir(parents=True, exist_ok=True)
        write_private(ENDPOINTS_FILE, json.dumps({"pid": os.getpid(), "env": env}))  # whole or absent to a poller
        try:
            while not stop.wait(0.5):
                pass
        finally:
            ENDPOINTS_FILE.unlink(missing_ok=True)
            console.print("stopping…")
        _exit_on_background_failure(sim)


def _report_mock_config(message: str) -> None:
    """What the watched MockConfigFile says on a reload or a refused edit (file:line: reason)."""
    console.print(f"mock config: {message}", highlight=False, markup=False, soft_wrap=True)


def _exit_on_background_failure(sim: Any) -> None:
    """A background thread of the simulator failed: say so and exit 1 (it is never only logged)."""
    from sim.context import BackgroundFailure

    try:
        sim.raise_background_failures()
    except BackgroundFailure as exc:
        console.print(f"[red]{exc}[/red]", highlight=False)
        raise typer.Exit(1) from exc


@app.command()
def env() -> None:
    """Print `export` lines for a running `stepbricks up` (use: eval "$(stepbricks env)")."""
    from harness.views import export_lines

    saved = _saved_env()
    if saved is None:
        console.print("[red]No simulator is running here[/red] (start one with `stepbricks up`).", highlight=False)
        raise typer.Exit(1)
    typer.echo(export_lines(saved))


@app.command()
def status() -> None:
    """Say what is up: each endpoint of a running `stepbricks up` (or of the environment), reachable or not."""
    import urllib.request

    from rich.table import Table

    env = _target_env()
    table = Table(title="stepbricks status")
    table.add_column("service")
    table.add_column("endpoint")
    table.add_column("state")
    checks = {
        "AWS (moto)": (env.get("AWS_ENDPOINT_URL"), "/moto-api/"),
        "Databricks": (env.get("DATABRICKS_HOST"), "/.well-known/databricks-config"),
    }
    if env.get("RESONATE_HOST") and env.get("RESONATE_PORT_STORE"):  # `up` started the promise server
        checks["Resonate promises"] = (f"{env['RESONATE_HOST']}:{env['RESONATE_PORT_STORE']}", "/promises?id=*&limit=1")
    up_count = 0
    for name, (endpoint, probe) in checks.items():
        if not endpoint:
            table.add_row(name, "-", "[yellow]not configured[/yellow]")
            continue
        try:
            with urllib.request.urlopen(endpoint.rstrip("/") + probe, timeout=2):
                table.add_row(name, endpoint, "[green]up[/green]")
                up_count += 1
        except Exception as exc:  # any failure means "not reachable"; say which
            table.add_row(name, endpoint, f"[red]down[/red] ({type(exc).__name__})")
    console.print(table)
    raise typer.Exit(0 if up_count else 1)


@app.command()
def invoke(
    function: Annotated[str, typer.Argument(help="Function name or ARN.")],
    payload: Annotated[str, typer.Option(help="JSON event.")] = "{}",
    tail: Annotated[bool, typer.Option(help="Show the last 4 KB of the log (LogType=Tail).")] = True,
) -> None:
    """Invoke a Lambda function of a running simulator (or of AWS_ENDPOINT_URL) and print its result."""
    import base64

    from harness.clients import aws_client

    try:
        event = json.loads(payload)
    except json.JSONDecodeError as exc:
        console.print(f"[red]--payload is not JSON[/red]: {exc}")
        raise typer.Exit(2) from exc
    lam = aws_client("lambda", _target_env())
    resp = lam.invoke(FunctionName=function, Payload=json.dumps(event).encode(), LogType="Tail" if tail else "None")
    body = resp["Payload"].read().decode()
    if tail and resp.get("LogResult"):
        console.print(base64.b64decode(resp["LogResult"]).decode(errors="replace"), highlight=False)
    console.print_json(body) if body.strip().startswith(("{", "[")) else console.print(body)
    if resp.get("FunctionError"):
        console.print(f"[red]FunctionError: {resp['FunctionError']}[/red]")
        raise typer.Exit(1)


@app.command()
def logs(
    function: Annotated[str, typer.Argument(help="Function name.")],
    limit: Annotated[int, typer.Option(help="At most this many lines.")] = 200,
) -> None:
    """Print a function's log lines from CloudWatch Logs (/aws/lambda/FUNCTION), as on AWS."""
    from harness.clients import aws_client

    client = aws_client("logs", _target_env())
    group = f"/aws/lambda/{function}"
    try:
        events = client.filter_log_events(logGroupName=group, limit=limit)["events"]
    except client.exceptions.ResourceNotFoundException:
        console.print(f"[yellow]No logs yet for {function}[/yellow] (log group {group} does not exist).")
        raise typer.Exit(1) from None
    for event in events:
        typer.echo(event["message"].rstrip("\n"))


@app.command()
def deploy(
    prefix: Annotated[str, typer.Option(help="Name prefix for every resource.")] = "",
    poll_seconds: Annotated[int, typer.Option(help="Wait between Databricks status polls.")] = 30,
    backend: Annotated[str | None, typer.Option(help=_BACKEND_HELP)] = None,
) -> None:
    """Deploy the pipeline to the endpoints of the environment (a running `stepbricks up`, or real AWS)."""
    from harness.deploy import DeployConfig
    from harness.deploy import deploy as do_deploy

    env = _backend_env(backend) if backend else _target_env()
    deployment = do_deploy(env, DeployConfig(prefix=prefix, poll_seconds=poll_seconds))
    STATE_HOME.mkdir(parents=True, exist_ok=True)
    (STATE_HOME / "deployment.json").write_text(deployment.to_json())
    console.print_json(deployment.to_json())


# The glue lab flies seed 003's own uploads and designed failures on an embedded simulator without Databricks.
_NOT_FOR_GLUE_LAB = ("variant", "faults", "backend", "poll_seconds", "rows", "dirty_share", "seed", "enforce_iam")


def _refuse_options_glue_lab_ignores(ctx: typer.Context) -> None:
    given = [p for p in ctx.command.params if p.name in _NOT_FOR_GLUE_LAB
             and getattr(ctx.get_parameter_source(p.name), "name", "DEFAULT") != "DEFAULT"]  # fmt: skip
    if given:
        names = ", ".join(p.opts[0] for p in given)
        console.print(f"[red]{names} cannot be used with --pipeline glue-lab[/red]: it flies seed 003's own "
                      "uploads and designed failures on the embedded simulator (use --input FILE for your own "
                      "upload, --state-dir and --real-time).", highlight=False)
        raise typer.Exit(2)


@app.command()
def run(
    ctx: typer.Context,
    input: Annotated[Path | None, typer.Option("--input", help="A raw CSV / JSON file to feed in.")] = None,
    rows: Annotated[int, typer.Option(help="Generate this many raw rows when no --input is given.")] = 5000,
    dirty_share: Annotated[float, typer.Option(help="Share of dirty generated records.")] = 0.02,
    seed: Annotated[int, typer.Option(help="Seed of the generated data and of every id the simulator makes up: "
                                            "the same seed and --faults replay the same flight.")] = 7,
    variant: Annotated[str, typer.Option(help="polling | callback | map | http | resonate (a Resonate durable "
                                              "function, docs/resonate.md) | databricks-native (one multi-task "
                                              "Databricks job on a file-arrival trigger)")] = "polling",
    poll_seconds: Annotated[int, typer.Option(help="Wait state seconds between Databricks polls (as on AWS).")] = 30,
    state_dir: Annotated[Path | None, typer.Option(help="Keep the simulator's state here.")] = None,
    real_time: Annotated[
        bool, typer.Option("--real-time", help="Wall-clock waits (demos). Default: virtual time, waits are skipped.")
    ] = False,
    pipeline: Annotated[str, typer.Option(help="reference | glue-lab (seed 003: Lambdas + Glue on local Spark)")] = (
        "reference"
    ),
    deterministic: Annotated[
        bool, typer.Option("--deterministic", help="Replayable: virtual time starts at 2026-01-01 and moves only by "
                           "timer jumps, so the same --seed and --faults give the same history and report.")
    ] = False,
    faults: Annotated[
        Path | None,
        typer.Option("--faults", help="A fault plan (YAML/JSON) or a Step Functions Local MockConfigFile."),
    ] = None,
    backend: Annotated[
        str, typer.Option(help="embedded (start a simulator, default) | external (the environment's endpoints) | "
                          "docker (a running docker-compose.yml stack)")
    ] = "embedded",
    enforce_iam: EnforceIam = False,
    spark: Spark = None,
    spark_shared_dir: SparkSharedDir = None,
    mlflow: Mlflow = None,
) -> None:
    """Up, deploy, upload, follow the execution live, then summarise. Exit code 0 only on success."""
    spark = _spark_url(spark)  # a bad URL is refused before anything is generated or started
    if pipeline == "glue-lab":
        from harness.glue_lab import run_command

        _refuse_options_glue_lab_ignores(ctx)
        raise typer.Exit(run_command(console, inputs=[input] if input else None, state_dir=state_dir,
                                     real_time=real_time))
    if pipeline != "reference":
        console.print(f"[red]--pipeline must be reference or glue-lab[/red], got {pipeline!r}")
        raise typer.Exit(2)
    from sim import collector

    collector.pause_collector()  # until the backend is up (sim/collector.py)
    collector.freeze_at_exit()  # the interpreter's last collection would walk all a flight made: 0.5 s
    from harness.backends import BackendError, open_backend
    from harness.deploy import VARIANTS, DeployConfig
    from harness.deploy import deploy as do_deploy
    from harness.runner import run_pipeline
    from harness.views import summary_panel, trace_table

    if variant not in (*VARIANTS, "resonate", "databricks-native"):
        console.print(f"[red]--variant must be one of {', '.join(VARIANTS)}, resonate, databricks-native[/red], "
                      f"got {variant!r}")
        raise typer.Exit(2)
    with tempfile.TemporaryDirectory(prefix="stepbricks-input-") as tmp:
        if input is None:
            from sim.data.generator import generate

            input = Path(tmp) / f"customers-{seed}-{rows}.csv"
            report = generate(input, rows=rows, seed=seed, fmt="csv", dirty_share=dirty_share)
            dirty = ", ".join(f"{k} {v}" for k, v in sorted(report.dirty.items()) if v) or "none"
            console.print(f"generated {input.name}: {report.rows} rows, {report.rows - report.clean_rows} dirty ({dirty})")
        elif not input.exists():
            console.print(f"[red]--input {input} does not exist[/red]")
            raise typer.Exit(2)
        with console.status(f"starting the {backend} backend…"):
            sim_cm = open_backend(backend, state_dir=state_dir, real_time=real_time, fault_plan=_load_faults(faults),
                                  seed=seed, deterministic=deterministic, resonate=variant == "resonate",
                                  enforce_iam=enforce_iam, spark=spark, spark_shared_dir=spark_shared_dir,
                                  mlflow_tracking_uri=_mlflow_uri(mlflow) if backend == "embedded" else mlflow,
                                  trains=True)
            try:
                handle = sim_cm.__enter__()
            except BackendError as exc:
                console.print(f"[red]{exc}[/red]", highlight=False)
                raise typer.Exit(2) from exc
        collector.freeze_start_up()
        sim = handle.simulator  # None unless embedded
        try:
            env = handle.env
            with console.status("deploying the pipeline (buckets, topic, secret, Lambdas, jobs, state machines)…"):
                deployment = do_deploy(env, DeployConfig(poll_seconds=poll_seconds))
            console.print(f"deployed: {len(deployment.functions)} Lambdas, jobs {deployment.jobs}, "
                          f"cluster {deployment.cluster_id}")
            if variant in deployment.unsupported:
                console.print(f"[red]the {variant} variant is not deployed: {deployment.unsupported[variant]}[/red]",
                              highlight=False)
                raise typer.Exit(2)
            notifications = (lambda: sim.aws.sns_messages(deployment.topic_arn)) if sim else None
            with Live(console=console, refresh_per_second=4, transient=True) as live:
                if variant == "resonate":
                    from harness.resonate_variant import ResonateVariantError, run_resonate_pipeline

                    try:
                        result = run_resonate_pipeline(env, deployment, input, log_dir=STATE_HOME / "resonate",
                                                       on_update=lambda trace: live.update(trace_table(trace)),
                                                       notifications=notifications)  # fmt: skip
                    except ResonateVariantError as exc:
                        console.print(f"[red]{exc}[/red]", highlight=False)
                        raise typer.Exit(2) from exc
                elif variant == "databricks-native":
                    from harness.native_variant import NativeVariantError, run_native_pipeline

                    try:
                        result = run_native_pipeline(env, deployment, input,
                                                     on_update=lambda trace: live.update(trace_table(trace)),
                                                     notifications=notifications)  # fmt: skip
                    except NativeVariantError as exc:
                        console.print(f"[red]{exc}[/red]", highlight=False)
                        raise typer.Exit(2) from exc
                else:
                    result = run_pipeline(
                        env,
                        deployment,
                        input,
                        variant=variant,
                        on_update=lambda trace: live.update(trace_table(trace)),
                        notifications=notifications,
                        sleep=sim.aws.history_waiter() if sim else time.sleep,
                    )
            console.print(summary_panel(result))
            _print_artifacts(result, deployment)
            from harness.reporting import report_for_result

            name = result.execution_arn.rsplit(":", 1)[-1]
            applied = [vars(a) for a in sim.faults.applied] if sim else []
            if applied:
                console.print(f"faults applied: {len(applied)} (see the report)")
            path = STATE_HOME / "reports" / f"{name}.html"
            if variant == "resonate":
                from harness.resonate_variant import report_for_resonate

                report = report_for_resonate(env, result, deployment, path, faults=applied)
            elif variant == "databricks-native":
                from harness.native_variant import report_for_native

                report = report_for_native(env, result, deployment, path, faults=applied)
            else:
                report = report_for_result(env, result, path, faults=applied)
            console.print(f"report: {report}")
            if sim:
                _exit_on_background_failure(sim)
        finally:
            with console.status(f"stopping the {backend} backend…"):
                sim_cm.__exit__(*sys.exc_info())
    raise typer.Exit(0 if result.succeeded else 1)


def _load_faults(path: Path | None):  # -> FaultPlan | None
    if path is None:
        return None
    from sim.faults import PlanError, from_mock_config, load_plan

    try:
        text = path.read_text()
        if '"MockedResponses"' in text and '"StateMachines"' in text:
            return from_mock_config(path)
        return load_plan(path)
    except (OSError, PlanError) as exc:
        console.print(f"[red]--faults {path}: {exc}[/red]")
        raise typer.Exit(2) from exc


@app.command()
def doctor(
    backend: Annotated[str | None, typer.Option(help=_BACKEND_HELP)] = None,
) -> None:
    """Check every configured endpoint against what the pipeline needs; exit 0 only if all required pass."""
    from harness.doctor import diagnose, doctor_table

    # external: the environment as it is, even half configured; reporting what is missing is the point.
    env = dict(os.environ) if backend == "external" else _backend_env(backend) if backend else _target_env()
    results = diagnose(env)
    console.print(doctor_table(results))
    failed = [r.check for r in results if r.required and not r.ok]
    if failed:
        console.print(f"[red]{len(failed)} required check(s) failed:[/red] {', '.join(failed)}", highlight=False)
    raise typer.Exit(1 if failed else 0)


@app.command()
def report(
    execution: Annotated[str, typer.Argument(help="Execution ARN (of a running `stepbricks up`, or of AWS).")],
    out: Annotated[Path | None, typer.Option(help="Where to write the HTML file.")] = None,
) -> None:
    """Rebuild the HTML report of an execution from its history, runs and outputs."""
    from harness.reporting import report_for_execution

    path = out or STATE_HOME / "reports" / f"{execution.rsplit(':', 1)[-1]}.html"
    console.print(f"report: {report_for_execution(_target_env(), execution, path)}")


def _print_artifacts(result: object, deployment: object) -> None:
    etl = result.step_output("etl") or {}
    train = result.step_output("train") or {}
    evaluation = result.step_output("evaluate") or {}
    for label, value in (
        ("processed data", etl.get("output_uri")),
        ("quarantine", etl.get("quarantine_uri")),
        ("model", train.get("artifact_uri") or train.get("model_uri")),
        ("metrics", evaluation.get("metrics_uri")),
    ):
        if value:
            console.print(f"{label}: {value}")
    records = getattr(result, "map_results", [])
    if records:  # the Map variant: one child per file, read from its ResultWriter's files
        by_status: dict[str, int] = {}
        for record in records:
            by_status[record.get("Status", "?")] = by_status.get(record.get("Status", "?"), 0) + 1
        console.print("map results: " + ", ".join(f"{n} {status.lower()}" for status, n in sorted(by_status.items())))
        for record in records:
            item, out = record.get("Input") or {}, record.get("Output") or {}
            what = ("skipped" if out.get("skipped") else f"{out.get('rowCount')} rows") if out else record.get("Error")
            console.print(f"  {item.get('key', item)}: {what}", highlight=False)


def _register_subcommands() -> None:
    from harness.cli_bundle import approve, bundle_app

    app.add_typer(bundle_app, name="bundle", help="Databricks Asset Bundles: validate, deploy, run, destroy, promote.")
    app.command("approve")(approve)
    from harness.cli_redrive import redrive

    app.command("redrive")(redrive)


_register_subcommands()


def _register_experiment() -> None:
    from harness.experiment.command import experiment

    app.command("experiment")(experiment)


_register_experiment()

if __name__ == "__main__":
    app()
