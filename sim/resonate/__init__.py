"""A local durable-promise server: the HTTP API the Resonate Python SDK (0.6.x, `Resonate.remote()`) calls.

Promises with idempotency keys and strict mode, callbacks and subscriptions, tasks delivered over the
long-poll message source and claimed, heartbeated and completed by workers, cron schedules; SQLite
persistence and the simulator's clock. Its own room: it imports neither sim.aws nor sim.databricks.
"""

from sim.resonate.server import PromiseServer

__all__ = ["PromiseServer"]
