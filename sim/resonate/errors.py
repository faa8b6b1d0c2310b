"""The promise server's errors, shaped as the Resonate server answers them.

Body `{"error": {"code": 40300, "message": ..., "details": [...]}}` (the Go server's `HandleRequestError`):
the SDK's `RemoteStore.call` reads `error.code` and `error.message` (resonate-sdk 0.6.7, `stores/remote.py`).
The five-digit codes and their messages are the Go server's (`internal/kernel/t_api/status.go`: 403xx
forbidden, 404xx not found, 409xx conflict); the HTTP status is their first three digits. The SDK's own
in-process model of the server (`stores/local.py`) still folds the task codes into one, 40305.
"""

from __future__ import annotations

from typing import Any

PROMISE_ALREADY = {"RESOLVED": 40300, "REJECTED": 40301, "REJECTED_CANCELED": 40302, "REJECTED_TIMEDOUT": 40303}
_MESSAGES = {
    40000: "The request is invalid",
    40300: "The promise has already been resolved",
    40301: "The promise has already been rejected",
    40302: "The promise has already been canceled",
    40303: "The promise has already timedout",
    40305: "The task is already claimed",
    40306: "The task is already completed",
    40307: "The task counter is invalid",
    40308: "The task state is invalid",
    40400: "The specified promise was not found",
    40401: "The specified schedule was not found",
    40403: "The specified task was not found",
    40900: "The specified promise already exists",
    40901: "The specified schedule already exists",
}


class StoreError(Exception):
    """A request the server refuses; `status` is the HTTP status, `code` the server's error code."""

    def __init__(self, code: int, message: str | None = None) -> None:
        self.code = code
        self.message = message or _MESSAGES[code]
        super().__init__(f"{code}: {self.message}")

    @property
    def status(self) -> int:
        return self.code // 100

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": [{
            "@type": "RequestError", "domain": "request",
            "message": "Request errors are not retryable since they are caused by invalid client requests",
            "metadata": {"url": f"https://docs.resonatehq.io/reference/error-codes#{self.code}"},
        }]}}  # fmt: skip


def already_completed(state: str) -> StoreError:
    return StoreError(PROMISE_ALREADY[state])
