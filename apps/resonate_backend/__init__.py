"""Seed 002's backend as written: a FastAPI app on the Resonate Python SDK (resonate-sdk 0.6.x, Python
>= 3.12, so it runs in its own environment, `.venv-resonate`), against the simulator's durable-promise
server (`sim.resonate`). `apps/callback_backend` is the Step Functions flavour of the same pattern.
"""
