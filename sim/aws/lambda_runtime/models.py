"""Values passed between the runtime and its callers (the moto seam, the tests, the CLI)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field

# AWS returns at most the last 4 KB of the execution log in `LogResult` (Invoke API reference).
LOG_TAIL_BYTES = 4096


@dataclass(frozen=True)
class FunctionConfig:
    """What the runtime needs to know about one function version; built from `GetFunctionConfiguration`."""

    name: str
    version: str  # "$LATEST" or a published version number
    arn: str  # the function ARN as invoked (qualified when a version/alias was named)
    handler: str
    runtime: str  # e.g. "python3.11"
    timeout_s: float
    memory_mb: int
    region: str
    account_id: str
    code_sha256: str  # hex digest of the deployment package
    environment: tuple[tuple[str, str], ...] = ()
    reserved_concurrency: int | None = None
    max_async_retries: int = 2  # PutFunctionEventInvokeConfig MaximumRetryAttempts; AWS default 2
    role: str = ""  # the execution role's ARN: its credentials are the handler's when IAM is enforced

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.name}"

    def environment_key(self) -> tuple[object, ...]:
        """Execution environments are reused only for identical code and configuration, as on AWS."""
        return (self.name, self.version, self.handler, self.runtime, self.timeout_s, self.memory_mb,
                self.code_sha256, self.environment, self.role)


@dataclass
class LogEvent:
    timestamp_ms: int
    message: str


@dataclass
class InvocationResult:
    """One invocation as the Invoke API reports it, plus its execution log."""

    request_id: str
    payload: bytes
    function_error: str | None = None  # "Unhandled" for any failure, as on AWS
    status: str = "success"  # success | error | timeout
    cold_start: bool = False
    log: list[LogEvent] = field(default_factory=list)

    @property
    def error_type(self) -> str | None:
        if self.function_error is None:
            return None
        try:
            return json.loads(self.payload).get("errorType")
        except (ValueError, AttributeError):
            return None

    def log_text(self) -> str:
        return "".join(event.message if event.message.endswith("\n") else event.message + "\n"
                       for event in self.log)

    def log_result(self) -> str:
        """`x-amz-log-result`: base64 of the last 4 KB of this invocation's log."""
        return base64.b64encode(self.log_text().encode("utf-8")[-LOG_TAIL_BYTES:]).decode("ascii")


def platform_error(error_type: str, request_id: str, error: str) -> bytes:
    """An error the Lambda service itself reports (timeout, crash, out of memory), not the runtime: compact
    JSON, errorType first, no stackTrace, as AWS answers, e.g. `{"errorType":"Runtime.ExitError",
    "errorMessage":"RequestId: d42a… Error: Runtime exited with error: signal: killed"}`."""
    return json.dumps({"errorType": error_type, "errorMessage": f"RequestId: {request_id} Error: {error}"},
                      separators=(",", ":")).encode()


class TooManyRequests(Exception):
    """All reserved-concurrency slots are busy: Invoke answers 429 TooManyRequestsException."""

    reason = "ReservedFunctionConcurrentInvocationLimitExceeded"

    def __init__(self, function_name: str) -> None:
        super().__init__("Rate Exceeded.")
        self.function_name = function_name
