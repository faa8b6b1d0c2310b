"""Task attempts on a real cluster: a worker process with a warm SparkSession (shared by the session)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from compute_support import StartSignal, finished, invocation

from sim.compute.contract import TaskResult

pytestmark = [pytest.mark.spark, pytest.mark.slow]

Run = Callable[..., TaskResult]
Notebook = Callable[..., Path]


def test_notebook_aggregates_with_spark_reads_widgets_and_exits_with_a_value(run: Run, notebook: Notebook):
    path = notebook(
        "# MAGIC %md\n# MAGIC # Sales by city\n",
        'dbutils.widgets.text("city", "Paris")\ndbutils.widgets.text("factor", "1")\n',
        "df = spark.createDataFrame([('Oslo', 2), ('Oslo', 3), ('Rome', 7)], ['city', 'amount'])\n"
        "totals = {r['city']: r['total'] for r in df.groupBy('city').agg({'amount': 'sum'})"
        ".withColumnRenamed('sum(amount)', 'total').collect()}\n"
        "display(df.groupBy('city').count())\n"
        "city = dbutils.widgets.get('city')\n"
        "dbutils.notebook.exit(f\"{city}={totals[city] * int(dbutils.widgets.get('factor'))}\")\n"
        "raise AssertionError('exit did not stop the notebook')\n",
    )
    result = run(kind="notebook", source_path=path, widgets={"city": "Oslo"})
    assert (result.outcome, result.error) == ("SUCCESS", None)
    assert result.notebook_result == "Oslo=5"  # the passed parameter wins over the widget's default
    assert "|Rome|" in result.logs  # display() of a DataFrame prints its rows


def test_second_run_on_the_same_cluster_reuses_the_warm_session(run: Run, notebook: Notebook, cluster):
    path = notebook("print(spark.range(10).count())\n")
    first, second = run(kind="notebook", source_path=path), run(kind="notebook", source_path=path)
    assert (first.outcome, second.outcome) == ("SUCCESS", "SUCCESS")
    assert second.spark_session_reused
    assert second.worker_pid == first.worker_pid
    assert second.spark_session_started_ms == first.spark_session_started_ms
    assert second.started_ms >= second.spark_session_started_ms + second.spark_startup_ms
    created = [  # a new SparkSession, or a warm worker leased from the process's pool (sim.compute.pool)
        line
        for line in cluster.log_path.read_text().splitlines()
        if ("SparkSession" in line or "warm worker from the process pool" in line)
        and re.search(rf"pid {second.worker_pid}\b", line)
    ]
    assert len(created) == 1, created  # the start-up was paid once by this worker


def _exit_value(run: Run, notebook: Notebook, source: str) -> str:
    """What a notebook of `source` passes to `dbutils.notebook.exit`, run on the cluster (it must succeed)."""
    result = run(kind="notebook", source_path=notebook(source))
    assert result.outcome == "SUCCESS", result.error
    return result.notebook_result or ""


def test_the_driver_jvm_starts_tuned_for_short_jobs(run: Run, notebook: Notebook):
    """sim/compute/jvm.py: C1 only and the serial collector (and the class archive once built), from inside."""
    arguments = _exit_value(run, notebook,
                            "bean = spark._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean()\n"
                            "dbutils.notebook.exit(' '.join(bean.getInputArguments()))\n").split()
    assert {"-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"} <= set(arguments), arguments


def test_the_worker_collects_cycles_rarely_and_never_walks_what_its_start_up_made(run: Run, notebook: Notebook):
    """sim/compute/worker.py: its start-up frozen once ready, collections after 10,000 new containers."""
    enabled, threshold, frozen = _exit_value(
        run, notebook,
        "import gc\ndbutils.notebook.exit(f'{gc.isenabled()} {gc.get_threshold()[0]} {gc.get_freeze_count()}')\n",
    ).split()
    assert (enabled, threshold) == ("True", "10000")
    assert int(frozen) > 100_000  # pyspark's, py4j's and the worker's own objects at least


def test_missing_widget_error_names_it(run: Run, notebook: Notebook):
    result = run(kind="notebook", source_path=notebook("dbutils.widgets.get('region')\n"))
    assert result.outcome == "FAILED"
    assert result.error == "InputWidgetNotDefined: No input widget named region is defined"


def test_widgets_define_defaults_without_overwriting_and_can_be_listed_and_removed(run: Run, notebook: Notebook):
    path = notebook(
        "dbutils.widgets.dropdown('plan', 'basic', ['basic', 'premium'])\n"
        "dbutils.widgets.combobox('city', 'Paris', ['Paris'])\n"
        "dbutils.widgets.multiselect('tags', 'a', ['a', 'b'])\n"
        "print(sorted(dbutils.widgets.getAll().items()))\n"
        "dbutils.widgets.removeAll()\n"
        "print(dbutils.widgets.getArgument('plan', 'gone'))\n"
        "dbutils.widgets.get('plan')\n"
    )
    result = run(kind="notebook", source_path=path, widgets={"plan": "premium"})
    assert result.logs.splitlines() == [
        "[('city', 'Paris'), ('plan', 'premium'), ('tags', 'a')]",
        "gone",
    ]
    assert result.error == "InputWidgetNotDefined: No input widget named plan is defined"


def test_spark_analysis_error_keeps_its_first_line(run: Run, notebook: Notebook):
    result = run(kind="notebook", source_path=notebook("spark.sql('SELECT * FROM no_such_table').collect()\n"))
    assert result.outcome == "FAILED"
    assert result.error.startswith("AnalysisException: [TABLE_OR_VIEW_NOT_FOUND]")
    assert "\n" not in result.error and "no_such_table" in result.error_trace


def test_jvm_exception_shows_the_java_exception_line(run: Run, notebook: Notebook):
    path = notebook("spark.sparkContext._jvm.java.lang.Class.forName('no.such.Clazz')\n")
    result = run(kind="notebook", source_path=path)
    assert result.error == "java.lang.ClassNotFoundException: no.such.Clazz"  # not "Py4JJavaError: An error…"
    assert "Py4JJavaError" in result.error_trace


def test_dbfs_paths_live_under_the_state_directory(run: Run, notebook: Notebook, cluster):
    path = notebook("dbutils.fs.put('/pipeline/marker.txt', 'done', overwrite=True)\n"
                    "print([f.name for f in dbutils.fs.ls('dbfs:/pipeline')])\n")
    result = run(kind="notebook", source_path=path)
    assert result.logs == "['marker.txt']\n"
    state_dir = cluster.directory.parent.parent
    assert (state_dir / "dbfs" / "pipeline" / "marker.txt").read_text() == "done"


def test_a_module_changed_between_runs_is_imported_afresh(run: Run, notebook: Notebook, tmp_path: Path):
    module = tmp_path / "settings_mod.py"
    path = notebook("import settings_mod\ndbutils.notebook.exit(settings_mod.VERSION)\n")
    module.write_text("VERSION = 'v1'\n")
    first = run(kind="notebook", source_path=path, sys_path=[str(tmp_path)])
    stat = module.stat()
    module.write_text("VERSION = 'v2'\n")
    os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # edited within the same second, same size
    second = run(kind="notebook", source_path=path, sys_path=[str(tmp_path)])
    assert (first.notebook_result, second.notebook_result) == ("v1", "v2")


def test_a_task_with_the_project_root_on_sys_path_leaves_the_cluster_working(run: Run, notebook: Notebook):
    import sim

    root = str(Path(sim.__file__).resolve().parent.parent)
    path = notebook("from databricks.sdk.runtime import dbutils as d\nd.notebook.exit(d.widgets.get('x'))\n")
    for value in ("1", "2"):
        result = run(kind="notebook", source_path=path, widgets={"x": value}, sys_path=[root])
        assert (result.outcome, result.notebook_result) == ("SUCCESS", value), result.error_trace


def test_notebook_exception_becomes_failed_with_error_and_traceback_split(run: Run, notebook: Notebook):
    path = notebook("print('before the failure')\n", "x = 1\ny = x / 0\n")
    result = run(kind="notebook", source_path=path)
    assert result.outcome == "FAILED"
    assert result.error == "ZeroDivisionError: division by zero"
    assert f'File "{path}", line 6' in result.error_trace  # the notebook's own line, not the runner's
    assert "runner.py" not in result.error_trace
    assert result.logs == "before the failure\n"


def test_python_file_gets_parameters_as_argv_and_the_warm_session(run: Run, tmp_path: Path):
    script = tmp_path / "job.py"
    script.write_text(
        "import sys\nfrom pyspark.sql import SparkSession\n"
        "spark = SparkSession.builder.getOrCreate()\n"
        "print(sys.argv)\nprint(spark.conf.get('spark.app.name'), spark.range(3).count())\n"
    )
    result = run(kind="python_file", source_path=script, argv=["--date", "2026-11-23"])
    assert result.outcome == "SUCCESS", result.error_trace
    lines = result.logs.splitlines()
    assert lines[0] == repr([str(script), "--date", "2026-11-23"])
    assert lines[1].startswith("stepbricks-") and lines[1].endswith(" 3")


def test_python_file_sys_exit_zero_is_success_and_nonzero_is_failure(run: Run, tmp_path: Path):
    ok, bad = tmp_path / "ok.py", tmp_path / "bad.py"
    ok.write_text("import sys\nsys.exit(0)\n")
    bad.write_text("import sys\nsys.exit(3)\n")
    assert run(kind="python_file", source_path=ok).outcome == "SUCCESS"
    failed = run(kind="python_file", source_path=bad)
    assert (failed.outcome, failed.error) == ("FAILED", "SystemExit: 3")


def _install_wheel(tmp_path: Path) -> Path:
    """Build a real (pure-Python) wheel by hand and install it with pip into a target dir, offline."""
    wheel = tmp_path / "salesjob-0.1.0-py3-none-any.whl"
    info = "salesjob-0.1.0.dist-info"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(
            "salesjob/__init__.py",
            "import sys\ndef main():\n    print('argv', sys.argv[1:])\n"
            "def direct():\n    print('called directly')\n",
        )
        archive.writestr(f"{info}/METADATA", "Metadata-Version: 2.1\nName: salesjob\nVersion: 0.1.0\n")
        archive.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        archive.writestr(f"{info}/entry_points.txt", "[console_scripts]\nsales-report = salesjob:main\n")
        archive.writestr(f"{info}/RECORD", "")
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target", str(target), str(wheel)],
        check=True,
    )
    return target


def test_python_wheel_entry_point_gets_positional_and_named_parameters(run: Run, tmp_path: Path):
    site = _install_wheel(tmp_path)
    common = {"kind": "python_wheel", "package_name": "salesjob", "sys_path": [str(site)]}
    by_entry_point = run(**common, entry_point="sales-report", argv=["a"], named_parameters={"date": "2026-11-23"})
    assert by_entry_point.outcome == "SUCCESS", by_entry_point.error_trace
    assert by_entry_point.logs == "argv ['a', '--date=2026-11-23']\n"
    by_function = run(**common, entry_point="direct")  # Databricks' fallback: package.entry_point()
    assert by_function.logs == "called directly\n"
    missing = run(**common, entry_point="nope")
    assert missing.outcome == "FAILED"
    assert "no entry point 'nope'" in missing.error and "sales-report" in missing.error


def test_python_wheel_of_a_package_not_installed_is_a_clear_failure(run: Run):
    result = run(kind="python_wheel", package_name="not-installed-pkg", entry_point="main")
    assert result.outcome == "FAILED"
    assert "package 'not-installed-pkg' is not installed" in result.error


def _stoppable_script(tmp_path: Path, signal: StartSignal) -> tuple[Path, Path, Path]:
    script, late, unwound = tmp_path / "loop.py", tmp_path / "late.txt", tmp_path / "unwound.txt"
    script.write_text(
        signal.connect
        + "import time\ntry:\n"
        + "    for _ in range(600):\n        time.sleep(0.05)\n"
        + f"    open({str(late)!r}, 'w').write('still ran')\n"
        + f"finally:\n    open({str(unwound)!r}, 'w').write('stack unwound')\n"
    )
    return script, late, unwound


def test_cancel_stops_a_running_task_for_real(cluster, tmp_path: Path):
    signal = StartSignal()
    script, late, unwound = _stoppable_script(tmp_path, signal)
    handle = cluster.run(invocation(kind="python_file", source_path=script))
    signal.wait()
    handle.cancel()
    result = finished(handle)
    assert result.outcome == "CANCELED"
    assert result.worker_pid  # ended by the worker's own thread unwinding, not by killing the worker
    assert unwound.read_text() == "stack unwound"
    assert not late.exists()
    assert cluster.state == "RUNNING"


def test_cancel_stops_the_attempts_spark_job(cluster, notebook: Notebook, run: Run):
    signal = StartSignal()
    path = notebook(
        signal.connect,
        "import time\nspark.range(0, 100000, numPartitions=1).rdd.map(lambda x: time.sleep(0.01) or x).count()\n",
    )
    handle = cluster.run(invocation(kind="notebook", source_path=path))
    signal.wait()
    handle.cancel()
    assert finished(handle).outcome == "CANCELED"
    active = run(kind="notebook", source_path=notebook("print(spark.sparkContext.statusTracker().getActiveJobsIds())\n"))
    assert active.logs == "[]\n"


def test_timeout_ends_timedout_and_stops_the_task(cluster, tmp_path: Path):
    signal = StartSignal()
    script, late, unwound = _stoppable_script(tmp_path, signal)
    handle = cluster.run(invocation(kind="python_file", source_path=script, timeout_seconds=1))
    signal.wait()
    result = finished(handle)
    assert result.outcome == "TIMEDOUT"
    assert unwound.exists() and not late.exists()


def test_concurrent_attempts_capture_their_own_logs(cluster, tmp_path: Path):
    scripts = []
    for name in ("left", "right"):
        script = tmp_path / f"{name}.py"
        script.write_text(f"import time\nfor i in range(20):\n    print('{name}', i)\n    time.sleep(0.01)\n")
        scripts.append(script)
    handles = [cluster.run(invocation(kind="python_file", source_path=s)) for s in scripts]
    left, right = (finished(h) for h in handles)
    assert left.logs == "".join(f"left {i}\n" for i in range(20))
    assert right.logs == "".join(f"right {i}\n" for i in range(20))


def test_sdk_runtime_import_returns_the_clusters_dbutils_and_spark(run: Run, notebook: Notebook, tmp_path: Path):
    helper = tmp_path / "helper_mod.py"
    helper.write_text(
        "from databricks.sdk.runtime import dbutils, spark\n"
        "def city():\n    return dbutils.widgets.get('city'), spark.range(2).count()\n"
    )
    path = notebook(
        "import databricks.sdk.runtime as rt\nfrom helper_mod import city\n"
        "assert rt.dbutils is dbutils and rt.spark is spark and not rt.is_local_implementation\n"
        "dbutils.notebook.exit(repr(city()))\n"
    )
    result = run(kind="notebook", source_path=path, widgets={"city": "Lima"}, sys_path=[str(tmp_path)])
    assert result.outcome == "SUCCESS", result.error_trace
    assert result.notebook_result == "('Lima', 2)"


def test_secrets_get_reads_the_workspace_and_the_value_is_redacted_in_logs(
    run: Run, notebook: Notebook, secrets_api, cluster
):
    secrets_api.values[("stepbricks", "db-token")] = "s3cr3t-value"
    path = notebook(
        "token = dbutils.secrets.get('stepbricks', 'db-token')\n"
        "print('token is', token)\n"
        "print([m.key for m in dbutils.secrets.list('stepbricks')], [s.name for s in dbutils.secrets.listScopes()])\n"
        "dbutils.notebook.exit(str(len(token)))\n"
    )
    result = run(kind="notebook", source_path=path)
    assert result.outcome == "SUCCESS", result.error_trace
    assert result.notebook_result == "12"
    assert result.logs.splitlines() == ["token is [REDACTED]", "['db-token'] ['stepbricks']"]
    assert "s3cr3t-value" not in cluster.log_path.read_text()  # nor in the echo to the driver log


def test_missing_secret_raises_as_databricks_does(run: Run, notebook: Notebook):
    result = run(kind="notebook", source_path=notebook("dbutils.secrets.get('stepbricks', 'nope')\n"))
    assert result.outcome == "FAILED"
    assert result.error == "IllegalArgumentException: Secret does not exist with scope: stepbricks and key: nope"


def test_task_values_set_are_returned_and_upstream_values_are_readable(run: Run, notebook: Notebook):
    path = notebook(
        "dbutils.jobs.taskValues.set('rows', 42)\n"
        "dbutils.notebook.exit(str(dbutils.jobs.taskValues.get('etl', 'path', default='none')))\n"
    )
    result = run(kind="notebook", source_path=path, task_values={"etl": {"path": "s3://b/k"}})
    assert (result.notebook_result, result.task_values) == ("s3://b/k", {"rows": 42})


def test_run_magic_sql_magic_and_pip_magic(run: Run, notebook: Notebook):
    notebook("GREETING = 'hello from common'\n", name="common.py")
    path = notebook(
        "# MAGIC %run ./common\n",
        "# MAGIC %pip install nothing-at-all\n",
        "# MAGIC %sql\n# MAGIC SELECT 40 + 2 AS answer\n",
        "dbutils.notebook.exit(GREETING)\n",
    )
    result = run(kind="notebook", source_path=path)
    assert result.outcome == "SUCCESS", result.error_trace
    assert result.notebook_result == "hello from common"
    assert "%pip install nothing-at-all ignored" in result.logs
    assert "|42    |" in result.logs


def test_env_and_sys_path_apply_only_during_the_attempt(run: Run, notebook: Notebook, tmp_path: Path):
    (tmp_path / "only_here.py").write_text("VALUE = 'imported'\n")
    path = notebook("import os, only_here\nprint(os.environ['STAGE'], only_here.VALUE)\n")
    inside = run(kind="notebook", source_path=path, env={"STAGE": "test"}, sys_path=[str(tmp_path)])
    assert inside.logs == "test imported\n"
    outside = run(kind="notebook", source_path=path)
    assert outside.outcome == "FAILED" and outside.error.startswith(("KeyError", "ModuleNotFoundError"))


def test_notebook_result_is_cut_to_the_first_5_mb(run: Run, notebook: Notebook):
    result = run(kind="notebook", source_path=notebook("dbutils.notebook.exit('x' * (5 * 1024 * 1024 + 10))\n"))
    assert result.notebook_result_truncated
    assert len(result.notebook_result) == 5 * 1024 * 1024


def test_missing_notebook_file_is_a_clear_failure(run: Run, tmp_path: Path):
    result = run(kind="notebook", source_path=tmp_path / "absent.py")
    assert result.outcome == "FAILED" and "file not found" in result.error


def test_os_exit_kills_the_worker_the_attempt_ends_internal_error_and_the_cluster_recovers(
    cluster, run: Run, notebook: Notebook
):
    before = run(kind="notebook", source_path=notebook("print(1)\n", name="ok.py"))
    crashed = run(kind="notebook", source_path=notebook("import os\nos._exit(1)\n", name="crash.py"))
    assert crashed.outcome == "INTERNAL_ERROR"
    assert crashed.error.startswith("cluster worker died (exit code 1)")
    assert cluster.state in ("RESTARTING", "RUNNING")
    after = run(kind="notebook", source_path=notebook("dbutils.notebook.exit('back')\n", name="after.py"))
    assert (after.outcome, after.notebook_result) == ("SUCCESS", "back")
    assert after.worker_pid != before.worker_pid and not after.spark_session_reused
    assert cluster.state == "RUNNING" and cluster.restarts >= 1


def test_a_dead_driver_jvm_restarts_the_driver_instead_of_failing_every_later_attempt(
    cluster, run: Run, notebook: Notebook
):
    """An OutOfMemoryError kills the driver JVM; here it is killed outright. Later attempts must get a new
    driver, not `ConnectionRefusedError` from a worker left without its JVM (bench_scale at 5M rows)."""
    kill = "import os, signal, time\nos.kill(spark.sparkContext._gateway.proc.pid, signal.SIGKILL)\ntime.sleep(60)\n"
    crashed = run(kind="notebook", source_path=notebook(kill, name="kill_jvm.py"))
    assert crashed.outcome == "INTERNAL_ERROR"
    assert crashed.error.startswith("cluster worker died (exit code 70)"), crashed.error
    assert "the Spark driver JVM exited" in cluster.log_path.read_text()
    after = run(kind="notebook", source_path=notebook("print(spark.range(3).count())\n", name="after_jvm.py"))
    assert (after.outcome, after.error) == ("SUCCESS", None)
    assert "3" in after.logs and not after.spark_session_reused


def test_a_segfaulting_task_ends_internal_error_without_harming_the_manager(cluster, notebook: Notebook):
    path = notebook("import ctypes\nctypes.string_at(0)\n", name="segfault.py")
    crashed = finished(cluster.run(invocation(kind="notebook", source_path=path)))
    assert crashed.outcome == "INTERNAL_ERROR"
    assert crashed.error.startswith("cluster worker died (exit code -11)")  # SIGSEGV
    assert cluster.state == "RESTARTING"


def test_under_a_virtual_clock_a_running_attempt_holds_time_so_its_timeout_is_not_skipped_to(
    cluster, notebook: Notebook
):
    from sim import clock

    virtual = clock.VirtualClock()
    previous = clock.install(virtual)
    try:
        path = notebook("import time\ntime.sleep(1.5)\nprint(spark.range(5).count())\n", name="slow.py")
        result = finished(cluster.run(invocation(kind="notebook", source_path=path, timeout_seconds=60)))
    finally:
        clock.install(previous)
        virtual.close()
    assert (result.outcome, result.logs) == ("SUCCESS", "5\n")
    assert virtual.skipped_seconds == 0


def test_an_attempts_claim_on_a_virtual_clock_is_taken_when_it_is_handed_out_not_when_its_thread_runs(
    cluster, notebook: Notebook, monkeypatch
):
    """The caller waits on the handle through the clock (releasing its own claim, as a run's attempt does);
    the thread that holds the clock for the attempt may be slow to run on a loaded machine. A frozen clock in
    CI once jumped a flight's 30 s poll past a running ETL there."""
    import threading

    from sim import clock
    from sim.compute import cluster as cluster_module

    held_up = cluster_module._busy_until_done

    def late(handle):
        time.sleep(0.3)  # descheduled before it first runs
        held_up(handle)

    monkeypatch.setattr(cluster_module, "_busy_until_done", late)
    virtual = clock.VirtualClock()
    previous = clock.install(virtual)
    try:
        sleeper = threading.Thread(target=virtual.sleep, args=(3600,), daemon=True)  # a flight's pending Wait
        sleeper.start()
        path = notebook("print(spark.range(4).count())\n", name="quick.py")
        with virtual.busy():
            handle = cluster.run(invocation(kind="notebook", source_path=path))
            result = handle.wait(None)
    finally:
        clock.install(previous)
        virtual.close()
    assert (result.outcome, result.logs) == ("SUCCESS", "4\n")
    assert virtual.skipped_seconds == 0, "time jumped while the attempt ran"

