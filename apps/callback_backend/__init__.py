"""Seed 002's backend: `GET /run` starts a durable pipeline that triggers a Databricks job and waits on a
promise; `POST /resolve` (called by the job's last step) resolves it and the pipeline resumes.

The seed uses Resonate. resonate-sdk 0.8.1 (Python ≥ 3.12) keeps promises in its in-process "local"
server only (`resonate/connections/local.py`: in memory, gone with the process); durability needs the
Resonate Server, a separate binary not available from any package registry here. So the same pattern
runs on Step Functions: the pipeline is a state machine execution, the promise is a
`.waitForTaskToken` task token, resolving it is `SendTaskSuccess` — all durable in Step Functions, so
the backend itself holds no state and can restart while the job runs.
"""
