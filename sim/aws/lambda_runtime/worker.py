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


# How often the memory watchdog samples a busy worker's resident set, in seconds.
MEMORY_POLL_S = 0.005
# The address-space backstop above MemorySize (see bootstrap `_limit_address_space`): room for the
# interpreter's virtual reservations (thread stacks, malloc arenas), which are not memory in use.
ADDRESS_SPACE_HEADROOM_MB = 3072


class Worker:
    """A warm worker process; `invoke` may be called again until it is killed or dies.

    `memory_mb` is enforced as Lambda enforces MemorySize: while the worker runs code, a watchdog samples
    its resident set and kills it (SIGKILL) once it uses more; `out_of_memory` then tells why it died.
    """

    def __init__(self, *, python: str, env: dict[str, str], task_root: Path, log_stream: str,
                 memory_mb: int | None = None, log: list[LogEvent] | None = None) -> None:
        self.log_stream = log_stream
        self.out_of_memory = False
        self._memory_kb = None if memory_mb is None else memory_mb * 1024
        self._log_lock = threading.Lock()
        # Collecting from the first byte: the init phase may print before the caller could route the log.
        self._collector: list[LogEvent] = [] if log is None else log
        self._messages: deque[dict[str, Any]] = deque()
        self._eof = False
        self._arrived = clock.ClockEvent()  # set while a message is queued or the worker has exited
        self._busy = threading.Event()  # the watchdog samples only while code runs
        self._peak_mb = 0
        limit = [] if memory_mb is None else ["--address-space-mb", str(memory_mb + ADDRESS_SPACE_HEADROOM_MB)]
        self.process = subprocess.Popen(
            # -I: ignore PYTHON* variables and the user site; -S: no site-packages. sys.path is then the
            # standard library only, and bootstrap.py adds the task root and the runtime layer.
            # --aws-paths: mount them on /var/task and /var/runtime where the system allows it.
            [python, "-I", "-S", str(BOOTSTRAP), "--aws-paths", *limit],
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
        if self._memory_kb is not None:
            self._busy.set()  # the init phase runs code too
            sim_context.Thread(target=self._watch_memory, daemon=True).start()

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
        try:
            return self._next_message(timeout_s)
        finally:
            self._busy.clear()

    def invoke(self, request: dict[str, Any], timeout_s: float) -> dict[str, Any] | None:
        """Send one event; the result message, or None on timeout or death (then kill the worker)."""
        assert self.process.stdin is not None
        self._busy.set()
        try:
            self.process.stdin.write((json.dumps(request) + "\n").encode("utf-8"))
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            return None
        try:
            return self._next_message(timeout_s)
        finally:
            self._busy.clear()

    def max_memory_used_mb(self) -> int:
        """Peak resident set size (VmHWM), reported as REPORT's "Max Memory Used"."""
        self._sample_memory()
        return max(self._peak_mb, 1)

    def _sample_memory(self) -> int | None:
        """The resident set now in kB (None once gone); records the peak on the way."""
        rss = None
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    self._peak_mb = max(self._peak_mb, int(line.split()[1]) // 1024)
                elif line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
        except (OSError, ValueError, IndexError):
            return None  # gone already (or no /proc): the last reading stands
        return rss

    def _watch_memory(self) -> None:
        """Kill the worker the moment its resident set exceeds MemorySize, as Lambda's sandbox does."""
        assert self._memory_kb is not None
        pause = threading.Event()  # real time: the watchdog watches real memory, never the virtual clock
        while self.process.poll() is None:
            if not self._busy.wait(1.0):
                continue
            rss = self._sample_memory()
            if rss is not None and rss > self._memory_kb:
                self.out_of_memory = True
                self.process.kill()
                return
            pause.wait(MEMORY_POLL_S)

    def kill(self, *, wait: bool = True) -> None:
        """Kill the environment (its peak memory read first) and, unless `wait=False`, reap it and close its pipes."""
        if self.alive():
            self.max_memory_used_mb()
            self.process.kill()
        if not wait:
            return
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
            if message.get("type") == "log" and message.get("event"):
                self.append_log(message["text"])  # one event, as the runtime framed it
            elif message.get("type") == "log":
                for line in message["text"].splitlines():
                    self.append_log(line)
            elif message.get("type") == "oom":
                self.out_of_memory = True  # MemoryError under the address-space cap; the worker kills itself
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
