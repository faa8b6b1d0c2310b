"""The local Lambda service: warm execution environments, timeouts, concurrency, async retries, logs.

Mirrors the Lambda execution environment lifecycle (Lambda developer guide, "Lambda execution
environment lifecycle"): an environment is created on a cold start (INIT), reused warm while its code
and configuration are unchanged, and replaced after a timeout or a crash. Logs are shaped like the
ones AWS writes to CloudWatch (INIT_START / START / END / REPORT).
"""

from __future__ import annotations

import json
import math
import random
import threading
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from sim import clock, faults
from sim import context as sim_context
from sim.aws.lambda_runtime.capacity import Capacity, CapacityStats
from sim.aws.lambda_runtime.code import CodeStore
from sim.aws.lambda_runtime.faults import FaultOutcome, fault_outcome
from sim.aws.lambda_runtime.interpreters import interpreter_for
from sim.aws.lambda_runtime.layer import build_runtime_layer
from sim.aws.lambda_runtime.models import (
    FunctionConfig,
    InvocationResult,
    LogEvent,
    TooManyRequests,
    platform_error,
)
from sim.aws.lambda_runtime.worker import Worker

# AWS gives the init phase up to 10 s on on-demand functions before it retries it inside the invoke.
INIT_TIMEOUT_S = 10.0
# Default delays between async retries on AWS: about one minute, then two (Lambda guide, "Asynchronous invocation").
AWS_ASYNC_RETRY_DELAYS_S = (60.0, 120.0)
# A synchronous response may be 6 MB; beyond it Lambda answers this error (Lambda quotas, "Invocation
# payload (request and response)"; the service's own compact JSON, errorMessage first).
MAX_RESPONSE_BYTES = 6291556
RESPONSE_TOO_LARGE = (b'{"errorMessage":"Response payload size exceeded maximum allowed payload size (6291556 bytes).",'
                      b'"errorType":"Function.ResponseSizeTooLarge"}')
# Variables the managed Python runtime defines besides the function's own (Lambda developer guide,
# "Defined runtime environment variables"); the directories are AWS's, the addresses those Lambda uses.
MANAGED_RUNTIME_ENV = {
    "PATH": "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin",
    "LANG": "en_US.UTF-8",
    "TZ": ":UTC",
    "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
    "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
}
# How long a throttled async event waits before Lambda tries it again.
ASYNC_THROTTLE_BACKOFF_S = 0.05


class RuntimeClosed(RuntimeError):
    """An invocation arrived after `close()`: the simulator is stopping."""


class LogSink(Protocol):
    def __call__(self, config: FunctionConfig, log_stream: str, events: list[LogEvent]) -> None: ...


class CredentialSource(Protocol):
    """The execution role's temporary credentials for a new execution environment of `config`."""

    def __call__(self, config: FunctionConfig) -> Mapping[str, str]: ...


# Idle environments kept, least recently used reclaimed first (Lambda reclaims idle ones as it likes). Each
# is a ~45-52 MB interpreter; a burst (30 files uploaded at once) starts one per invocation in flight either
# way, so the cap sets what stays behind, not the cold starts: a 30-file load started 32-33 environments at 8
# and 34-35 at 16, and peaked at 2,440-2,463 MB against 2,919-2,962 MB. At 4 it started 79.
MAX_IDLE_WORKERS = 8


class LambdaRuntime:
    """Runs Python Lambda handlers from their zips in warm worker processes."""

    def __init__(
        self,
        *,
        state_dir: Path,
        base_env: Mapping[str, str],
        log_sink: LogSink | None = None,
        async_retry_delays: Sequence[float] = AWS_ASYNC_RETRY_DELAYS_S,
        python: str | None = None,
        seed: int = 0,
        max_idle_workers: int = MAX_IDLE_WORKERS,
        credentials: CredentialSource | None = None,
        capacity: int | None = None,
    ) -> None:
        self._layer = build_runtime_layer(state_dir / "lambda" / "runtime")
        self._code = CodeStore(state_dir / "lambda" / "code")
        self._base_env = dict(base_env)
        self._log_sink = log_sink
        self._async_retry_delays = tuple(async_retry_delays)
        self._python = python
        self._ids = random.Random(seed)
        self._lock = threading.Lock()
        self._idle: dict[tuple[object, ...], list[Worker]] = defaultdict(list)
        self._workers: set[Worker] = set()
        self._idle_order: list[tuple[tuple[object, ...], Worker]] = []  # least recently used first
        self._max_idle = max_idle_workers
        self._credentials = credentials
        self._busy: Counter[str] = Counter()
        self._logs: dict[str, list[str]] = defaultdict(list)
        self._pending = 0
        self._settled = threading.Condition(self._lock)
        self._closed = False
        self._capacity = Capacity(capacity)

    # -- public -----------------------------------------------------------------------------------

    def invoke(self, config: FunctionConfig, code: Callable[[], bytes], payload: bytes) -> InvocationResult:
        """RequestResponse: run the handler now. Raises TooManyRequests when no slot is free."""
        return self._invoke(config, code, payload, self._new_request_id())

    def invoke_async(
        self,
        config: FunctionConfig,
        code: Callable[[], bytes],
        payload: bytes,
        on_done: Callable[[list[InvocationResult]], None] | None = None,
    ) -> str:
        """Event: queue the invocation and return its request id at once.

        As on AWS, a failed attempt is retried `config.max_async_retries` times (default 2) with the
        same request id, and a throttled one waits for a free slot instead of failing.
        """
        request_id = self._new_request_id()
        with self._lock:
            self._pending += 1
        thread = sim_context.Thread(
            target=self._run_async, args=(config, code, payload, request_id, on_done),
            name=f"lambda-event-{config.name}", daemon=True,
        )
        thread.start()
        return request_id

    def wait_for_async(self, timeout_s: float = 30.0) -> bool:
        """Block until every queued Event invocation (with its retries) has finished."""
        deadline = clock.get().monotonic() + timeout_s
        with self._settled:
            while self._pending:
                remaining = deadline - clock.get().monotonic()
                if remaining <= 0:
                    return False
                self._settled.wait(remaining)
        return True

    def logs(self, function_name: str) -> list[str]:
        """Every log line this function wrote, in order, across its execution environments."""
        with self._lock:
            return list(self._logs.get(function_name, []))

    def capacity(self) -> CapacityStats:
        """How many invocations ran at once, and how many had to wait for a slot of this machine."""
        return self._capacity.stats()

    def warm_workers(self, function_name: str) -> int:
        with self._lock:
            return sum(len(ws) for key, ws in self._idle.items() if key[0] == function_name)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers = list(self._workers)
            self._workers.clear()
            self._idle.clear()
            self._idle_order.clear()
        for worker in workers:  # all told at once: each takes ~10 ms to die, and one by one they added up
            worker.kill(wait=False)
        for worker in workers:
            worker.kill()

    # -- invocation ---------------------------------------------------------------------------------

    def _new_request_id(self) -> str:
        with self._lock:
            return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    def _run_async(self, config, code, payload, request_id, on_done) -> None:  # type: ignore[no-untyped-def]
        results: list[InvocationResult] = []
        try:
            attempt = 0
            while not self._closed:
                try:
                    result = self._invoke(config, code, payload, request_id)
                except TooManyRequests:
                    clock.sleep(ASYNC_THROTTLE_BACKOFF_S)
                    continue
                except RuntimeClosed:
                    break
                results.append(result)
                if result.function_error is None or attempt >= config.max_async_retries:
                    break
                delays = self._async_retry_delays or (0.0,)
                clock.sleep(delays[min(attempt, len(delays) - 1)])
                attempt += 1
            if on_done is not None:
                on_done(results)
        finally:
            with self._settled:
                self._pending -= 1
                self._settled.notify_all()

    def _invoke(
        self, config: FunctionConfig, code: Callable[[], bytes], payload: bytes, request_id: str
    ) -> InvocationResult:
        with self._lock:
            if self._closed:
                raise RuntimeClosed("the Lambda runtime is stopping; no new invocations")
            if config.reserved_concurrency is not None and self._busy[config.name] >= config.reserved_concurrency:
                raise TooManyRequests(config.name)
            self._busy[config.name] += 1
        log: list[LogEvent] = []
        try:
            if not config.runtime or not config.runtime.startswith("python"):
                payload_out = _error("Runtime.Unsupported",
                                     f"stepbricks runs Python runtimes only; this function uses {config.runtime!r}",
                                     request_id)
                return InvocationResult(request_id, payload_out, "Unhandled", "error")
            with clock.busy():  # an invocation is real work: the virtual clock must not skip past it
                effect = faults.active().take("lambda", config.name)
                outcome = fault_outcome(effect, request_id, config.timeout_s) if effect is not None else None
                if outcome is not None and outcome.delay_seconds:
                    clock.sleep(outcome.delay_seconds)  # simulated time: skipped by a virtual clock
                with self._capacity.slot():  # the wait for a slot is not the function's time (capacity.py)
                    if outcome is not None and outcome.payload is not None:
                        result = self._inject_fault(config, code, request_id, log, outcome)
                    else:
                        result = self._run(config, code, payload, request_id, log)
        finally:
            with self._lock:
                self._busy[config.name] -= 1
        return result

    def _inject_fault(
        self, config: FunctionConfig, code: Callable[[], bytes], request_id: str, log: list[LogEvent],
        outcome: FaultOutcome,
    ) -> InvocationResult:
        """The active fault plan's `lambda` fault for this invocation, instead of running the handler.

        The injected result still comes out of an execution environment of the function, as on AWS: a warm
        one, or a cold start reported with its Init Duration; REPORT's Max Memory Used is that environment's
        measured peak, and a timeout ends the environment as Lambda does.
        """
        assert outcome.payload is not None, "a fault without a payload runs the handler"
        started = self._start_invocation(config, code, request_id, log)
        if isinstance(started, InvocationResult):
            return started
        worker, cold, init_ms = started
        if outcome.status == "timeout":
            _append(log, f"{_iso_now()} {request_id} Task timed out after {config.timeout_s:.2f} seconds")
            worker.kill()  # reads the peak first
        return self._finish(config, worker, log, request_id, outcome.payload, outcome.status,
                            duration_ms=outcome.duration_ms, init_ms=init_ms, cold=cold,
                            keep=outcome.status != "timeout")

    def _run(
        self, config: FunctionConfig, code: Callable[[], bytes], payload: bytes, request_id: str,
        log: list[LogEvent],
    ) -> InvocationResult:
        begun = self._start_invocation(config, code, request_id, log)
        if isinstance(begun, InvocationResult):
            return begun
        worker, cold, init_ms = begun
        started = clock.get().monotonic()
        request = {
            "type": "invoke",
            "request_id": request_id,
            "payload": payload.decode("utf-8") if payload else "",
            "timeout_ms": int(config.timeout_s * 1000),
            "invoked_function_arn": config.arn,
            "trace_id": self._trace_id(),
        }
        message = worker.invoke(request, config.timeout_s)
        if message is None and worker.alive():
            # Timed out: AWS stops the environment and starts a fresh one for the next event.
            worker.kill()
            _append(log, f"{_iso_now()} {request_id} Task timed out after {config.timeout_s:.2f} seconds")
            body = platform_error("Sandbox.Timedout", request_id,
                                  f"Task timed out after {config.timeout_s:.2f} seconds")
            return self._finish(config, worker, log, request_id, body, "timeout",
                                duration_ms=config.timeout_s * 1000, init_ms=init_ms, cold=cold, keep=False)
        if message is None:
            return self._finish(config, worker, log, request_id, _exit_error(worker, request_id), "error",
                                duration_ms=(clock.get().monotonic() - started) * 1000, init_ms=init_ms, cold=cold,
                                keep=False)
        status = "success" if message["ok"] else "error"
        body = message["payload"].encode("utf-8")
        if status == "success" and len(body) > MAX_RESPONSE_BYTES:
            status, body = "error", RESPONSE_TOO_LARGE
        return self._finish(config, worker, log, request_id, body, status,
                            duration_ms=message["duration_ms"], init_ms=init_ms, cold=cold, keep=True)

    def _start_invocation(
        self, config: FunctionConfig, code: Callable[[], bytes], request_id: str, log: list[LogEvent],
    ) -> tuple[Worker, bool, float | None] | InvocationResult:
        """An environment for the invocation (warm, or a cold start), START logged; an init failure's
        result instead when the cold start failed."""
        worker = self._take_idle(config)
        cold, init_ms = worker is None, None
        if worker is None:
            worker, init_ms, init_error = self._cold_start(config, code, log, request_id)
            if init_error is not None:
                return self._finish(config, worker, log, request_id, init_error, "error",
                                    duration_ms=0.0, init_ms=init_ms, cold=True, keep=False, start=True)
        worker.collect_into(log)
        _append(log, f"START RequestId: {request_id} Version: {config.version}")
        return worker, cold, init_ms

    def _cold_start(
        self, config: FunctionConfig, code: Callable[[], bytes], log: list[LogEvent], request_id: str,
    ) -> tuple[Worker, float, bytes | None]:
        python, version = (self._python, "custom") if self._python else interpreter_for(config.runtime)
        _append(log, f"INIT_START Runtime Version: python:{version}.stepbricks\t"
                     f"Runtime Version ARN: arn:aws:lambda:{config.region}::runtime:stepbricks-{config.runtime}")
        stream = f"{clock.get().utcnow():%Y/%m/%d}/[{config.version}]{uuid.UUID(int=self._ids.getrandbits(128)).hex}"
        task_root = self._code.task_root(config.code_sha256, code())
        started = clock.get().monotonic()
        worker = Worker(python=python, env=self._environment(config, task_root, stream),
                        task_root=task_root, log_stream=stream, memory_mb=config.memory_mb, log=log)
        with self._lock:
            closed = self._closed
            if not closed:
                self._workers.add(worker)
        if closed:
            worker.kill()
            raise RuntimeClosed("the Lambda runtime is stopping; no new invocations")
        init = worker.wait_init(max(INIT_TIMEOUT_S, config.timeout_s))
        init_ms = (clock.get().monotonic() - started) * 1000
        if init is None:
            worker.kill()
            return worker, init_ms, _exit_error(worker, request_id)
        if not init["ok"]:
            worker.kill()
            body = json.loads(init["payload"])
            _append(log, f"INIT_REPORT Init Duration: {init_ms:.2f} ms\tPhase: init\tStatus: error\t"
                         f"Error Type: {body['errorType']}")
            return worker, init_ms, json.dumps(body).encode()
        return worker, init_ms, None

    def _finish(
        self, config: FunctionConfig, worker: Worker, log: list[LogEvent], request_id: str, payload: bytes,
        status: str, *, duration_ms: float, init_ms: float | None, cold: bool, keep: bool, start: bool = False,
    ) -> InvocationResult:
        if start:
            _append(log, f"START RequestId: {request_id} Version: {config.version}")
        if status != "success":
            payload = _with_request_id(payload, request_id)
        _append(log, f"END RequestId: {request_id}")
        # An environment killed for its memory used all of it (AWS reports Max Memory Used = Memory Size).
        used = config.memory_mb if worker.out_of_memory else min(worker.max_memory_used_mb(), config.memory_mb)
        report = (f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
                  f"Billed Duration: {max(math.ceil(duration_ms), 1)} ms\tMemory Size: {config.memory_mb} MB\t"
                  f"Max Memory Used: {used} MB\t")
        if cold and init_ms is not None:
            report += f"Init Duration: {init_ms:.2f} ms\t"
        if status == "timeout":
            report += "Status: timeout"
        elif status == "error" and not keep:
            error_type = _error_type(payload)
            report += f"Status: error\tError Type: {error_type}" if error_type else "Status: error"
        _append(log, report)
        worker.collect_into([])
        self._release(config, worker, keep=keep and worker.alive())
        self._deliver_logs(config, worker.log_stream, log)
        return InvocationResult(request_id, payload, None if status == "success" else "Unhandled", status,
                                cold_start=cold, log=log)

    # -- environments -------------------------------------------------------------------------------

    def _take_idle(self, config: FunctionConfig) -> Worker | None:
        with self._lock:
            idle = self._idle.get(config.environment_key())
            while idle:
                worker = idle.pop()
                self._idle_order.remove((config.environment_key(), worker))
                if worker.alive():
                    return worker
                self._workers.discard(worker)
        return None

    def _release(self, config: FunctionConfig, worker: Worker, *, keep: bool) -> None:
        evicted: list[Worker] = []
        with self._lock:
            if keep and not self._closed:
                key = config.environment_key()
                self._idle[key].append(worker)
                self._idle_order.append((key, worker))
                # Lambda reclaims idle environments; here the least recently used go beyond the cap.
                while len(self._idle_order) > self._max_idle:
                    old_key, old = self._idle_order.pop(0)
                    self._idle[old_key].remove(old)
                    self._workers.discard(old)
                    evicted.append(old)
            else:
                self._workers.discard(worker)
                evicted.append(worker)
        for old in evicted:
            old.kill()

    def _environment(self, config: FunctionConfig, task_root: Path, log_stream: str) -> dict[str, str]:
        """What a handler sees in os.environ: the Lambda defaults, the simulator, the function's own."""
        env = dict(MANAGED_RUNTIME_ENV)
        env.update(self._base_env)
        env.update(dict(config.environment))
        # Reserved variables (Lambda guide, "Defined runtime environment variables"): the function
        # cannot override these on AWS either.
        env.update({
            "_HANDLER": config.handler,
            # The real directories (AWS: /var/task, /var/runtime): code opens its files through them.
            # Frames, tracebacks and logs name them as on AWS (bootstrap `_as_on_aws`).
            "LAMBDA_TASK_ROOT": str(task_root),
            "LAMBDA_RUNTIME_DIR": str(self._layer),
            "AWS_REGION": config.region,
            "AWS_DEFAULT_REGION": config.region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{config.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": config.name,
            "AWS_LAMBDA_FUNCTION_VERSION": config.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": config.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        })
        env.update(self._role_credentials(config))
        return env

    def _role_credentials(self, config: FunctionConfig) -> dict[str, str]:
        """AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, as the managed runtime hands them
        to each execution environment: the execution role's temporary credentials when a credential source
        is given (the simulator enforces IAM), else the simulator's own (no policy is evaluated)."""
        if self._credentials is not None:
            given = self._credentials(config)
            return {key: given[key] for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")}
        return {"AWS_ACCESS_KEY_ID": self._base_env.get("AWS_ACCESS_KEY_ID", "testing"),
                "AWS_SECRET_ACCESS_KEY": self._base_env.get("AWS_SECRET_ACCESS_KEY", "testing"),
                "AWS_SESSION_TOKEN": self._base_env.get("AWS_SESSION_TOKEN", "testing")}

    def _trace_id(self) -> str:
        """`_X_AMZN_TRACE_ID` for one invocation, as Lambda hands it to the runtime without active tracing."""
        with self._lock:
            root, parent = self._ids.getrandbits(96), self._ids.getrandbits(64)
        return f"Root=1-{int(clock.now()):08x}-{root:024x};Parent={parent:016x};Sampled=0"

    def _deliver_logs(self, config: FunctionConfig, log_stream: str, log: list[LogEvent]) -> None:
        with self._lock:
            self._logs[config.name].extend(event.message for event in log)
        if self._log_sink is not None and log:
            self._log_sink(config, log_stream, list(log))


def _append(log: list[LogEvent], message: str) -> None:
    log.append(LogEvent(clock.now_ms(), message))


def _iso_now() -> str:
    return datetime.fromtimestamp(clock.now(), tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _exit_error(worker: Worker, request_id: str) -> bytes:
    """The worker died: killed for exceeding its memory (Runtime.OutOfMemory), or exited by itself
    (Runtime.ExitError), with Go's wording of the exit ("exit status 3", "signal: killed")."""
    status = worker.exit_status()
    if status is None or status >= 0:
        how = f"exit status {status}"
    else:
        how = f"signal: {_SIGNAL_NAMES.get(-status, f'signal {-status}')}"
    error_type = "Runtime.OutOfMemory" if worker.out_of_memory else "Runtime.ExitError"
    return platform_error(error_type, request_id, f"Runtime exited with error: {how}")


# Go's os.ProcessState wording for the signals a worker commonly dies of.
_SIGNAL_NAMES = {6: "aborted", 9: "killed", 11: "segmentation fault", 15: "terminated"}


def _error(error_type: str, message: str, request_id: str) -> bytes:
    return json.dumps({"errorMessage": message, "errorType": error_type, "requestId": request_id,
                       "stackTrace": []}).encode()


def _error_type(payload: bytes) -> str | None:
    try:
        return json.loads(payload).get("errorType")
    except (ValueError, AttributeError):
        return None


def _with_request_id(payload: bytes, request_id: str) -> bytes:
    """awslambdaric stamps the failing invocation's request id on init errors too."""
    try:
        body = json.loads(payload)
    except ValueError:
        return payload
    if isinstance(body, dict) and "requestId" in body and not body["requestId"]:
        body["requestId"] = request_id
        return json.dumps(body).encode()
    return payload
