# Databricks notebook source
# ruff: noqa: F821  (dbutils is a notebook global on a cluster)
# The last task of a pipeline job in `stepbricks run --variant resonate` (run_if ALL_DONE): it reads how the
# job's step task ended and settles the Resonate promise the step's function waits on — POST /resolve with
# the notebook's output when it succeeded, POST /reject with its error otherwise — through the backend, as
# seed 002's notebook does (etl.promise_callback: retried while the backend may be restarting).

# COMMAND ----------

import json
import os
import urllib.parse
import urllib.request

from etl.promise_callback import settle_promise

dbutils.widgets.text("promise_id", "")
dbutils.widgets.text("callback_url", "")
dbutils.widgets.text("parent_run_id", "")
dbutils.widgets.text("upstream", "")
promise_id = dbutils.widgets.get("promise_id")
url = dbutils.widgets.get("callback_url")
parent_run_id = dbutils.widgets.get("parent_run_id")
upstream = dbutils.widgets.get("upstream")


def jobs_api(path: str, **query: str) -> dict:
    request = urllib.request.Request(f"{os.environ['DATABRICKS_HOST'].rstrip('/')}{path}?{urllib.parse.urlencode(query)}",
                                     headers={"Authorization": f"Bearer {os.environ['DATABRICKS_TOKEN']}"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


# COMMAND ----------

run = jobs_api("/api/2.1/jobs/runs/get", run_id=parent_run_id)
attempts = [t for t in run["tasks"] if t["task_key"] == upstream]
task = max(attempts, key=lambda t: t.get("attempt_number", 0))  # the last attempt decides
output = jobs_api("/api/2.1/jobs/runs/get-output", run_id=str(task["run_id"]))
if task["state"].get("result_state") == "SUCCESS":
    action, value = "resolve", (output.get("notebook_output") or {}).get("result", "null")
else:
    action, value = "reject", output.get("error") or task["state"].get("state_message") or "the step failed"

# COMMAND ----------

status, _answer = settle_promise(url, promise_id, value, action=action)
print(f"{action}d {promise_id}: {status}")
dbutils.notebook.exit(action)
