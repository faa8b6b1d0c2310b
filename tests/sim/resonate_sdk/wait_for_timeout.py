"""A Resonate worker whose function waits on promise `argv[1]` (created here with a one-hour timeout).

Prints `waiting` once the function is suspended on it, then the outcome of the function: `timedout` when
the promise timed out (the SDK raises ResonateTimedoutError into the function), else `result <value>`.
Run inside .venv-resonate by tests/sim/resonate/test_with_the_real_sdk.py, which owns the server's clock.
"""

from __future__ import annotations

import sys
import time

from resonate import Resonate
from resonate.errors import ResonateTimedoutError

promise_id = sys.argv[1]
resonate = Resonate.remote(ttl=5)
resonate.promises.create(promise_id, int((time.time() + 3600) * 1000), ikey=promise_id)


@resonate.register
def waits(ctx, pid: str):
    p = yield ctx.promise(id=pid)  # the promise created above (its id is its idempotency key)
    try:
        v = yield p
    except ResonateTimedoutError:
        return "timedout"
    return f"result {v}"


handle = waits.begin_run(f"{promise_id}-waiter", promise_id)
print("waiting", flush=True)
print(handle.result(timeout=120), flush=True)
resonate.stop()
