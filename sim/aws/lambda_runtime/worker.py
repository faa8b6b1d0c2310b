"""The parent side of one execution environment: starts `bootstrap.py`, sends events, collects logs."""

from __future__ import annotations

import json
import subprocess
import threading
from collections import deque
from pathlib import Path
from typing import IO, Any

from sim import clock
from sim import context as sim_context
from sim.aws.lambda_runtime.models import LogEvent

BOOTSTRAP = Path(__file__).with_name("bootstrap.py")


class Worker:
    """A warm worker process; `invoke` may be called again until it is killed or dies."""

    def __init__(self, *, python: str, env: dict[str, str], task_root: Path, log_stream: str) -> None:
        self.log_stream = log_stream
        self._log_lock = threading.Lock()
        self._collector: list[LogEvent] = []
        self._messages: deque[dict[str, Any]] = deque()
        self._eof = False
        self._arrived = clock.ClockEvent()  # set while a message is queued or the worker has exited
        self._peak_mb = 0
        self.process = subprocess.Popen(
            # -I: ignore PYTHON* variables and the user site; -S: no site-packages. sys.path is then the
            # standard library only, and bootstrap.py adds the task root and the runtime layer.
            [python, "-I", "-S", str(BOOTSTRAP)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=task_root,
            start_new_session=True,
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        sim_context.Thread(target=self._read_protocol, args=(self.process.stdout,), daemon=True).start()
        sim_context.Thread(target=self._read_stderr, args=(self.process.stderr,), daemon=True).start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None and not self._eof

    def exit_status(self) -> int | None:
        """The exit status once the process has closed its protocol pipe (it is exiting)."""
        try:
            return self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return None

    def collect_into(self, log: list[LogEvent]) -> None:
        """Route the worker's output (prints, logging, tracebacks) into `log` from now on."""
        with self._log_lock:
            self._collector = log

    def append_log(self, message: str) -> None:
        with self._log_lock:
            self._collector.append(LogEvent(clock.now_ms(), message))

    def wait_init(self, timeout_s: float) -> dict[str, Any] | None:
        """The init message, or None when the worker died or did not finish init in time."""
        return self._next_message(timeout_s)

    def invoke(self, request: dict[str, Any], timeout_s: float) -> dict[str, Any] | None:
        """Send one event; the result message, or None on timeout or death (then kill the worker)."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write((json.dumps(request) + "\n").encode("utf-8"))
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            return None
        return self._next_message(timeout_s)

    def max_memory_used_mb(self) -> int:
        """Peak resident set size (VmHWM), reported as REPORT's "Max Memory Used"."""
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    self._peak_mb = max(self._peak_mb, int(line.split()[1]) // 1024, 1)
        except (OSError, ValueError, IndexError):
            pass  # gone already (or no /proc): the last reading stands
        return self._peak_mb

    def kill(self) -> None:
        if self.alive():
            self.max_memory_used_mb()
            self.process.kill()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass

    def _next_message(self, timeout_s: float) -> dict[str, Any] | None:
        # The invocation is real work (busy): its timeout runs at wall speed and is never skipped to.
        if not clock.get().wait(self._arrived, timeout_s, release=False):
            return None
        with self._log_lock:
            if not self._messages:
                return None  # exited
            message = self._messages.popleft()
            if not self._messages and not self._eof:
                self._arrived.clear()
            return message

    def _read_protocol(self, stream: IO[bytes]) -> None:
        for raw in stream:
            try:
                message = json.loads(raw)
            except ValueError:
                self.append_log(raw.decode("utf-8", "replace"))
                continue
            if message.get("type") == "log":
                for line in message["text"].splitlines():
                    self.append_log(line)
            else:
                with self._log_lock:
                    self._messages.append(message)
                    self._arrived.set()
        with self._log_lock:
            self._eof = True  # the worker exited: whoever waits next gets None at once
            self._arrived.set()

    def _read_stderr(self, stream: IO[bytes]) -> None:
        for raw in stream:
            self.append_log(raw.decode("utf-8", "replace").rstrip("\n"))
