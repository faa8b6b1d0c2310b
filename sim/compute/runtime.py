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
    _namespace.update(
        spark=spark,
        sc=spark.sparkContext,
        dbutils=dbutils,
        display=display,
        displayHTML=displayHTML,
        table=spark.table,
        sql=spark.sql,
        udf=udf,
        getArgument=dbutils.widgets.getArgument,
    )


def namespace_globals() -> dict[str, Any]:
    if not _namespace:
        raise RuntimeError("no stepbricks cluster runtime in this process (the worker has not started Spark)")
    return dict(_namespace)
