"""The fake Databricks workspace: Jobs, Workspace, Secrets and Clusters APIs that really run tasks.

Public surface: `Workspace.start(*, state_dir, token=None, host="127.0.0.1", port=0, cluster_env={},
mounts={}, s3_changes=None, ...)`. Everything else is private to the package.
"""

from sim.databricks.server import Workspace

__all__ = ["Workspace"]
