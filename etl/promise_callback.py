"""Settle a backend's promise from a notebook: seed 002's last step, `POST <url>/resolve?id=&value=`.

Seed 002's job ends by calling its backend, which resolves (or rejects) the promise its durable function
waits on. Both backends answer the same request: `apps/callback_backend` (the promise is a Step Functions
task token) and `apps/resonate_backend` (a Resonate durable promise), so their notebooks share this.

The call is retried while the backend cannot be reached (it may be restarting when the job ends: the
pipeline is durable, the process is not); an HTTP error is the backend's answer and is not retried.
Standard library only: it runs on the cluster, like `etl.task_token`.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request

__all__ = ["settle_promise"]

ACTIONS = ("resolve", "reject")


def settle_promise(url: str, promise_id: str, value: str, *, action: str = "resolve", attempts: int = 120,
                   pause: float = 1.0, timeout: float = 10.0) -> tuple[int, str]:  # fmt: skip
    """`POST {url}/{action}?id=&value=`; returns the backend's status and body.

    Raises RuntimeError when the backend refuses (any HTTP error status) or stays unreachable for
    `attempts` tries `pause` seconds apart.
    """
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {ACTIONS}, not {action!r}")
    query = urllib.parse.urlencode({"id": promise_id, "value": value})
    request = urllib.request.Request(f"{url.rstrip('/')}/{action}?{query}", method="POST")
    last_error: Exception | None = None
    for attempt in range(attempts):
        if attempt:
            time.sleep(pause)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as exc:  # the backend answered: retrying will not change its mind
            raise RuntimeError(f"the backend refused to {action} {promise_id}: {exc.code} {exc.read().decode()}") from None
        except (urllib.error.URLError, ConnectionError) as exc:  # not up (restarting): try again
            last_error = exc
    raise RuntimeError(f"could not {action} promise {promise_id} at {url} after {attempts} attempts: {last_error}")
