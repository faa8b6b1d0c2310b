# Databricks notebook source
# ruff: noqa: F821  (dbutils is a notebook global on a cluster)
# Seed 002's job, shared by both of its backends (apps/callback_backend, apps/resonate_backend): some data
# work, then its last step resolves the backend's promise (POST /resolve?id=<promise_id>&value=...), retried
# while the backend may be restarting when the job ends (etl.promise_callback).

# COMMAND ----------

import time

from etl.promise_callback import settle_promise

dbutils.widgets.text("promise_id", "")
dbutils.widgets.text("url", "")
dbutils.widgets.text("hold_seconds", "0")
promise_id = dbutils.widgets.get("promise_id")
url = dbutils.widgets.get("url")

time.sleep(float(dbutils.widgets.get("hold_seconds")))  # stands for the hours a real job takes
rows = 3  # the "complex operation" of the seed's notebook
value = f"processed {rows} rows"

# COMMAND ----------

status, answer = settle_promise(url, promise_id, value)
print(f"resolved: {status} {answer}")
dbutils.notebook.exit(value)
