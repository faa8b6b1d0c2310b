"""AWS Glue job runs on local Spark: `GlueService` runs scripts on a `ClusterManager` cluster with
stepbricks' `awsglue` stand-in (`runtime/`); `sim.aws.moto_seams.glue` routes moto's Glue API to it."""

from sim.aws.glue.runs import ACTIVE_STATES, TERMINAL_STATES, GlueJobRun
from sim.aws.glue.service import GlueJob, GlueService

__all__ = ["ACTIVE_STATES", "TERMINAL_STATES", "GlueJob", "GlueJobRun", "GlueService"]
