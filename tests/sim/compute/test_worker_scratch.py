"""A worker's scratch (Spark's blockmgr-*/spark-*/artifacts-* dirs, native libs, tasks' tempfile) lives in a
temp dir inside its cluster's directory and goes with the worker: a killed worker leaves nothing in /tmp."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from compute_support import finished, invocation

from sim.compute import ClusterManager

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def test_a_running_workers_spark_jvm_and_python_temp_dirs_are_inside_its_cluster_directory(run, notebook, cluster):
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
    scratch = dirs["java"]
    assert scratch.resolve().parent == cluster.directory.resolve() and scratch.name.startswith("tmp-"), dirs
    assert dirs == {"java": scratch, "local": scratch, "python": scratch}
    assert scratch.is_dir()


def test_a_worker_that_exits_takes_its_temp_dir_with_it(manager: ClusterManager, tmp_path: Path):
    cluster = manager.ephemeral({"spark_conf": {"spark.driver.memory": "not-a-size"}})  # the JVM refuses it
    script = tmp_path / "never.py"
    script.write_text("print('never runs')\n")
    result = finished(cluster.run(invocation(kind="python_file", source_path=script)))
    assert result.outcome == "INTERNAL_ERROR"  # ended when the worker was reaped, after its temp dir went
    assert (cluster.directory / "driver.log").exists()  # the worker ran in this directory…
    assert list(cluster.directory.glob("tmp-*")) == []  # …and its temp dir is gone with it
