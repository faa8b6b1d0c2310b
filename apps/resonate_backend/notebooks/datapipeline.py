# Databricks notebook source
# ruff: noqa: F821  (dbutils is a notebook global on a cluster)
# Seed 002's job: some data work, then its last step resolves the Resonate promise through the backend
# (POST /resolve?id=<promise_id>&value=...).
# The callback is retried for a while: the backend may be restarting when the job ends.

# COMMAND ----------

import time
import urllib.error
import urllib.parse
import urllib.request

dbutils.widgets.text("promise_id", "")
dbutils.widgets.text("url", "")
dbutils.widgets.text("hold_seconds", "0")
promise_id = dbutils.widgets.get("promise_id")
url = dbutils.widgets.get("url")

time.sleep(float(dbutils.widgets.get("hold_seconds")))  # stands for the hours a real job takes
rows = 3  # the "complex operation" of the seed's notebook
value = f"processed {rows} rows"

# COMMAND ----------

query = urllib.parse.urlencode({"id": promise_id, "value": value})
last_error = None
for _attempt in range(120):
    try:
        with urllib.request.urlopen(urllib.request.Request(f"{url}/resolve?{query}", method="POST"), timeout=10) as r:
            print(f"resolved: {r.read().decode()}")
            break
    except urllib.error.HTTPError as exc:  # the backend answered: retrying will not change its mind
        raise RuntimeError(f"the backend refused the callback: {exc.code} {exc.read().decode()}") from None
    except (urllib.error.URLError, ConnectionError) as exc:  # not up (restarting): try again
        last_error = exc
        time.sleep(1)
else:
    raise RuntimeError(f"could not resolve promise at {url}: {last_error}")
dbutils.notebook.exit(value)
