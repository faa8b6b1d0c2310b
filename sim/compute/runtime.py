"""The worker's notebook namespace: the one `spark` and `dbutils` every attempt on the cluster shares.

Set once by the worker after its SparkSession is up; read by the notebook runner for a notebook's
globals and by the `dbruntime` shim, which is how `from databricks.sdk.runtime import dbutils, spark`
finds them (databricks-sdk runtime/__init__.py calls
`dbruntime.UserNamespaceInitializer.getOrCreate().get_namespace_globals()`).
"""

from __future__ import annotations

from typing import Any

from sim.compute.display import display, displayHTML

_namespace: dict[str, Any] = {}


def install(spark: Any, dbutils: Any) -> None:
    from pyspark.sql.functions import udf

    _namespace.clear()
    if not is_remote(spark):  # a Spark Connect session has no SparkContext (nor has Databricks serverless)
        _namespace["sc"] = spark.sparkContext
    _namespace.update(
        spark=spark,
        dbutils=dbutils,
        display=display,
        displayHTML=displayHTML,
        table=spark.table,
        sql=spark.sql,
        udf=udf,
        getArgument=dbutils.widgets.getArgument,
    )


def is_remote(spark: Any) -> bool:
    """A Spark Connect session (pyspark.sql.connect), which has no SparkContext."""
    return type(spark).__module__.startswith("pyspark.sql.connect")


def namespace_globals() -> dict[str, Any]:
    if not _namespace:
        raise RuntimeError("no stepbricks cluster runtime in this process (the worker has not started Spark)")
    return dict(_namespace)
