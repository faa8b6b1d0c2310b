"""Seed 002's backend: `GET /run` starts a durable pipeline that triggers a Databricks job and waits on a
promise; `POST /resolve` (called by the job's last step) resolves it and the pipeline resumes.

The seed uses Resonate; its own code runs in `apps/resonate_backend` against the simulator's durable-promise
server (docs/resonate.md). This is the Step Functions flavour of the same pattern: the pipeline is a state
machine execution, the promise is a `.waitForTaskToken` task token, resolving it is `SendTaskSuccess` — all
durable in Step Functions, so the backend itself holds no state and can restart while the job runs.
"""
