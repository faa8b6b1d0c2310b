"""Worker side of the warm pool: bind a worker to its cluster, and wipe what one cluster left before the next.

A pooled worker serves clusters of several simulators one after the other (never two at once). Like a
cluster restart on a Databricks instance-pool VM, each lease gets a new SparkSession and nothing of the
previous cluster's:

- Spark: a new session (its own SQL conf from the cluster's launch conf, temp views, temporary
  functions); every database and table of the shared catalog is dropped, global temp views too, the
  table cache is cleared and the worker's private warehouse emptied; the Hadoop configuration is put
  back to the launch one; the local file system's working directory is the new cluster's directory.
- Python: the environment is the launch environment plus the new simulator's variables (`Binding.env`),
  also handed to Spark's Python workers through a file their worker module applies at each task (not
  `SparkContext.environment`, whose change would make PySpark start a new daemon and cold UDF workers);
  the working directory, `tempfile`'s directory, `dbutils`' DBFS root, boto3's
  default session and MLflow's tracking/registry URIs, active experiment and store and artifact caches.

What carries over (docs/contracts.md): the JVM and its compiled code (the point of the pool), the
SparkContext and its static conf (the pool key requires it to be identical), installed libraries and the
modules imported from them, JVM system properties a task set, and the worker's scratch directory.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.compute import runtime, seeded_ids
from sim.compute.dbutils import DBUtils
from sim.compute.protocol import EXECUTOR_ENV_FILE, Binding


@dataclass
class Lessee:
    """What a poolable worker remembers of its launch, to return to it between clusters."""

    spark: Any
    warehouse: Path
    launch_env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    launch_cwd: str = field(default_factory=os.getcwd)
    binding: Binding | None = None
    _executor_env: dict[str, str] = field(default_factory=dict)
    _hadoop_conf: Any = None

    def __post_init__(self) -> None:
        self._executor_env = dict(self.spark.sparkContext.environment)
        jvm = self.spark.sparkContext._jvm
        self._hadoop_conf = jvm.org.apache.hadoop.conf.Configuration(self.spark.sparkContext._jsc.hadoopConfiguration())

    def bind(self, binding: Binding) -> None:
        """Point this worker's Python side at one cluster of one simulator."""
        self.binding = binding
        _set_environ({**self.launch_env, **binding.env})
        self._write_executor_env(binding.env)
        tempfile.tempdir = None  # re-read from TMPDIR: the cluster's temp dir
        Path(binding.cwd).mkdir(parents=True, exist_ok=True)
        os.chdir(binding.cwd)
        self._set_working_directory(binding.cwd)
        seeded_ids.install()
        runtime.install(self.spark, DBUtils(Path(binding.dbfs_root)))

    def lease(self, binding: Binding) -> Any:
        """A new session for a new cluster; returns it (also the notebooks' `spark`)."""
        self.spark = _new_default_session(self.spark)
        self.bind(binding)
        return self.spark

    def release(self) -> str:
        """Wipe what the cluster left; '' when done, else why this worker must not be pooled."""
        busy = [t.name for t in threading.enumerate() if not t.daemon and t is not threading.main_thread()]
        if busy:
            return f"threads of the last cluster still run: {', '.join(busy)}"
        _reset_catalog(self.spark)
        shutil.rmtree(self.warehouse, ignore_errors=True)
        self._restore_hadoop_conf()
        os.chdir(self.launch_cwd)
        self._set_working_directory(self.launch_cwd)
        _set_environ(self.launch_env)
        self._write_executor_env({})
        tempfile.tempdir = None
        _forget_clients()
        seeded_ids.install()
        self.binding = None
        return ""

    def _write_executor_env(self, env: dict[str, str]) -> None:
        """The variables Python UDF workers see: the lease's, through a file each task reads
        (`pyspark_stepbricks_worker`), so the environment Spark keys its Python workers on never changes
        and a new cluster's first UDF finds them warm (SparkContext.environment is that key)."""
        path = self.warehouse.parent / "executor-env.json"
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text(json.dumps(env, sort_keys=True), encoding="utf-8")
        partial.replace(path)
        environment = self.spark.sparkContext.environment
        environment.clear()
        environment.update({**self._executor_env, EXECUTOR_ENV_FILE: str(path)})

    def _restore_hadoop_conf(self) -> None:
        conf = self.spark.sparkContext._jsc.hadoopConfiguration()
        conf.clear()
        conf.addResource(self.spark.sparkContext._jvm.org.apache.hadoop.conf.Configuration(self._hadoop_conf))

    def _set_working_directory(self, directory: str) -> None:
        """Relative Spark paths resolve against the local file system's working directory (the JVM's
        launch directory otherwise, which is the pool worker's, not the cluster's)."""
        jvm = self.spark.sparkContext._jvm
        local = jvm.org.apache.hadoop.fs.FileSystem.getLocal(self.spark.sparkContext._jsc.hadoopConfiguration())
        local.setWorkingDirectory(jvm.org.apache.hadoop.fs.Path(directory))


def _set_environ(env: dict[str, str]) -> None:
    for key in set(os.environ) - set(env):
        del os.environ[key]
    os.environ.update(env)


def _new_default_session(spark: Any) -> Any:
    """`spark.newSession()` made the one `SparkSession.builder.getOrCreate()` and `getActiveSession()` return."""
    from pyspark.sql import SparkSession

    fresh = spark.newSession()
    SparkSession._instantiatedSession = fresh
    SparkSession._activeSession = fresh
    session_class = SparkSession._get_j_spark_session_class(fresh._jvm)
    session_class.setDefaultSession(fresh._jsparkSession)
    session_class.setActiveSession(fresh._jsparkSession)
    fresh.sparkContext.setLogLevel("WARN")
    return fresh


def _reset_catalog(spark: Any) -> None:
    """Drop every database but `default`, every table and view in it, every global temp view; uncache all.

    SQL commands rather than `spark.catalog.list*`, which make a py4j round trip per field of every entry
    (seconds on a loaded machine)."""
    spark.catalog.clearCache()
    global_temp = spark.conf.get("spark.sql.globalTempDatabase", "global_temp")
    for row in spark.sql(f"SHOW VIEWS IN `{global_temp}`").collect():
        if row.namespace:  # local temp views are listed too, without a namespace: they go with the session
            spark.sql(f"DROP VIEW IF EXISTS `{global_temp}`.`{row.viewName}`")
    for row in spark.sql("SHOW DATABASES").collect():
        if row.namespace != "default":
            spark.sql(f"DROP DATABASE IF EXISTS `{row.namespace}` CASCADE")
    for row in spark.sql("SHOW TABLES IN default").collect():
        if not row.isTemporary:
            spark.sql(f"DROP TABLE IF EXISTS default.`{row.tableName}`")  # a view too (DROP TABLE accepts one)


def _forget_clients() -> None:
    """Clients built from the last simulator's variables, cached by libraries the cluster preloads."""
    boto3 = sys.modules.get("boto3")
    if boto3 is not None:
        boto3.DEFAULT_SESSION = None
    fluent = sys.modules.get("mlflow.tracking.fluent")
    if fluent is not None:
        fluent._active_experiment_id = None
    for name, attribute in (("mlflow.tracking._tracking_service.utils", "_tracking_uri"),
                            ("mlflow.tracking._model_registry.utils", "_registry_uri")):
        module = sys.modules.get(name)
        if module is not None:
            setattr(module, attribute, None)
    utils = sys.modules.get("mlflow.tracking._tracking_service.utils")
    if utils is not None:
        utils._artifact_repos_cache.clear()  # by run id: a replayed seed gives the same run ids
    for name in ("mlflow.tracking._tracking_service.registry", "mlflow.tracking._model_registry.registry"):
        module = sys.modules.get(name)
        for value in vars(module).values() if module is not None else ():
            cached = getattr(value, "_get_store_with_resolved_uri", None) if isinstance(value, type) else None
            if cached is not None and hasattr(cached, "cache_clear"):
                cached.cache_clear()  # stores by URI: a reused state path must not reach the old database
