"""What a fault plan's `lambda` fault makes an invocation return, shaped as Lambda reports it.

Effects (`sim.faults.plan.EFFECTS["lambda"]`): `error` (an error type name, or a mapping with `errorType`
and `errorMessage`) → `X-Amz-Function-Error: Unhandled` with `{"errorMessage", "errorType", "stackTrace"}`,
as an uncaught exception in the handler gives; `timeout: true` → `Sandbox.Timedout` after the function's
timeout, with Lambda's message; `delay_seconds` → the invocation starts that much later (simulated
time); `return` → a successful invocation with that JSON payload, the handler not run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sim.aws.lambda_runtime.models import platform_error
from sim.faults import Effect

__all__ = ["FaultOutcome", "fault_outcome"]


@dataclass(frozen=True)
class FaultOutcome:
    delay_seconds: float = 0.0
    payload: bytes | None = None  # None: run the handler for real (after the delay)
    status: str = "success"  # success | error | timeout, as InvocationResult.status
    duration_ms: float = 1.0


def fault_outcome(effect: Effect, request_id: str, timeout_s: float) -> FaultOutcome:
    delay = float(effect.get("delay_seconds", 0) or 0)
    if effect.get("timeout"):
        body = platform_error("Sandbox.Timedout", request_id, f"Task timed out after {timeout_s:.2f} seconds")
        return FaultOutcome(delay + timeout_s, body, "timeout", timeout_s * 1000)
    if "error" in effect:
        error_type, message = _error(effect["error"])
        body = {"errorMessage": message, "errorType": error_type, "requestId": request_id, "stackTrace": []}
        return FaultOutcome(delay, json.dumps(body).encode(), "error")
    if "return" in effect:
        return FaultOutcome(delay, json.dumps(effect["return"]).encode(), "success")
    return FaultOutcome(delay)


def _error(raw: Any) -> tuple[str, str]:
    if isinstance(raw, Mapping):
        error_type = str(raw.get("errorType") or raw.get("Error") or "Exception")
        return error_type, str(raw.get("errorMessage") or raw.get("Cause") or f"Injected fault: {error_type}")
    return str(raw), f"Injected fault: {raw}"
