"""Seed 002's `run_job`: trigger the Databricks job with the legacy databricks-cli `JobsApi`, as written.

The one change (databricks-jobs-api.md, "Clients"): databricks-cli 0.18's `ApiClient` rebuilds its
base URL from the host's *hostname* (`sdk/api_client.py`: `"%s://%s/api/" % (scheme, hostname)`),
dropping a port, so the URL is set again with the port kept.
"""

from __future__ import annotations


def run_job(host: str, token: str, promise_id: str, job: int, url: str) -> int:
    from databricks_cli.jobs.api import JobsApi
    from databricks_cli.sdk.api_client import ApiClient

    client = ApiClient(
        host=host,
        token=token,
    )
    client.url = f"{host.rstrip('/')}/api/"  # keep the port (see the module docstring)
    jobs = JobsApi(client)
    response = jobs.run_now(
        job_id=job,
        notebook_params={"promise_id": promise_id, "url": url},
        jar_params=None,
        python_params=None,
        spark_submit_params=None,
    )
    return int(response["run_id"])
