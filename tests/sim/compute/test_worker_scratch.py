"""A worker's scratch (Spark's blockmgr-*/spark-*/artifacts-* dirs, native libs) and its tasks' tempfile
live in temp dirs that go with the worker and its cluster: a killed worker leaves nothing behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from compute_support import finished, invocation

from sim.compute import ClusterManager

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def test_a_running_workers_spark_scratch_is_its_own_and_its_tasks_temp_dir_is_its_clusters(run, notebook, cluster):
    """A local worker outlives its cluster in the process's warm pool (`sim.compute.pool`): Spark's scratch
    (fixed when its JVM starts) is the worker's own directory, removed when the worker is killed; the
    tasks' temp dir is the current cluster's, removed when the cluster lets the worker go."""
    path = notebook(
        "import json, tempfile\n"
        "jvm = spark.sparkContext._jvm\n"
        "dbutils.notebook.exit(json.dumps({\n"
        "    'java': jvm.java.lang.System.getProperty('java.io.tmpdir'),\n"
        "    'local': spark.sparkContext.getConf().get('spark.local.dir'),\n"
        "    'python': tempfile.gettempdir(),\n"
        "}))\n"
    )
    result = run(kind="notebook", source_path=path)
    assert (result.outcome, result.error) == ("SUCCESS", None)
    dirs = {name: Path(value) for name, value in json.loads(result.notebook_result).items()}
    assert dirs["java"] == dirs["local"] and dirs["java"].name.startswith("stepbricks-worker-"), dirs
    assert dirs["java"].is_dir() and cluster.directory.resolve() not in dirs["java"].resolve().parents
    python = dirs["python"].resolve()
    assert python.parent == cluster.directory.resolve() and python.name.startswith("tmp-") and python.is_dir()


def test_a_worker_that_exits_takes_its_temp_dir_with_it(manager: ClusterManager, tmp_path: Path):
    cluster = manager.ephemeral({"spark_conf": {"spark.driver.memory": "not-a-size"}})  # the JVM refuses it
    script = tmp_path / "never.py"
    script.write_text("print('never runs')\n")
    result = finished(cluster.run(invocation(kind="python_file", source_path=script)))
    assert result.outcome == "INTERNAL_ERROR"  # ended when the worker was reaped, after its temp dir went
    assert (cluster.directory / "driver.log").exists()  # the worker ran in this directory…
    assert list(cluster.directory.glob("tmp-*")) == []  # …and its temp dir is gone with it
