"""Where a cluster's Spark work runs: one `ClusterBackend` object per cluster, chosen by a URL.

Whatever the backend, a cluster's driver side is the same local worker process (`sim.compute.worker`):
it holds the SparkSession, runs the notebook, script or wheel code and writes the driver log. The
backend only decides what that SparkSession is attached to:

- `local` (the default): a `local[N]` Spark inside the worker process — today's warm local cluster;
- `standalone` (`spark://host:7077`): an existing Spark standalone master; the worker is the driver
  in client mode, executors run on the master's workers;
- `connect` (`sc://host:15002`): an existing Spark Connect server; the worker is a thin client and
  the server runs the whole query.

The workspace-level URL comes from `stepbricks up --spark URL` / `STEPBRICKS_SPARK`; one cluster may
override it in its `spark_conf` (`spark.stepbricks.backend`, or a `spark.master` / `spark.remote` URL).
What a backend cannot honour of a cluster spec is returned in `SessionPlan.unhonoured` and reported as
a cluster event at start, never dropped silently.
"""

from sim.compute.backends.base import ClusterBackend, SessionPlan
from sim.compute.backends.choice import (
    BACKEND_CONF,
    SHARED_DIR_CONF,
    SHARED_DIR_ENV,
    SPARK_ENV,
    BackendError,
    backend_for,
    parse,
)

__all__ = ["BACKEND_CONF", "SHARED_DIR_CONF", "SHARED_DIR_ENV", "SPARK_ENV", "BackendError", "ClusterBackend", "SessionPlan",
           "backend_for", "parse"]
