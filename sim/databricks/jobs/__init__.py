"""Jobs API: job definitions (create/get/list/reset/update/delete). Runs live in `sim.databricks.runs`."""
