"""The simulator context: everything one simulator owns that used to be a module global.

One `SimContext` per `Simulator` holds its seed, clock, fault plan, error sink, state directory and id
source. Code asks `current()` for the context it works for instead of reading module state, so two
simulators can run side by side in one process:

- the thread that started a simulator is bound to its context for the simulator's lifetime (a
  `ContextVar`, so nested or concurrent simulators in other threads do not see it);
- every thread the simulator starts is a `sim.context.Thread`, which carries the binding (and every
  other context variable) of the thread that created it and reports an exception it dies of to the context's error sink;
- the servers bind their request threads (moto's werkzeug server, the workspace's FastAPI app);
- a thread nobody bound (one started by a library we do not own) gets the newest running simulator's
  context, and without any simulator the process's base context (real time, no faults).

The base context and the stack of running contexts are the module's only mutable state: the fallback
for threads that nobody bound, listed as an exception in docs/architecture.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import random
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.clock import Clock
from sim.faults.plan import FaultPlan

__all__ = ["BackgroundFailure", "ErrorSink", "IdSource", "SimContext", "Thread", "base", "bind", "current", "running",
           "spawn"]

log = logging.getLogger("stepbricks")


class BackgroundFailure(RuntimeError):
    """Raised in the test or command that started work which failed in a background thread."""


@dataclass(frozen=True)
class Failure:
    where: str
    error: BaseException
    trace: str


class ErrorSink:
    """Where background threads report what killed them; the owner raises it (`raise_if_any`).

    A thread the simulator started has no caller to raise to: without the sink its failure would only be
    logged, and the test that started the work would pass or time out with no cause."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: list[Failure] = []

    def report(self, error: BaseException, where: str) -> None:
        trace = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        log.error("background failure in %s:\n%s", where, trace)
        with self._lock:
            self._failures.append(Failure(where, error, trace))

    def failures(self) -> list[Failure]:
        with self._lock:
            return list(self._failures)

    def drain(self) -> list[Failure]:
        """The failures reported so far, forgetting them (each is raised once)."""
        with self._lock:
            failures, self._failures = self._failures, []
        return failures

    def raise_if_any(self) -> None:
        """Raise `BackgroundFailure` naming every failure reported since the last call."""
        failures = self.drain()
        if not failures:
            return
        detail = "\n".join(f"--- {f.where}\n{f.trace}" for f in failures)
        raise BackgroundFailure(f"{len(failures)} background failure(s) in the simulator:\n{detail}") from failures[0].error


class IdSource:
    """Seeded ids: the same seed gives the same sequence of ids of each kind.

    Each kind (`"execution"`, `"request"`, ...) has its own stream derived from (seed, kind), so ids of
    one kind do not shift when another kind is drawn more or less often (e.g. by a retried request)."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._lock = threading.Lock()
        self._streams: dict[str, random.Random] = {}

    def _stream(self, kind: str) -> random.Random:
        stream = self._streams.get(kind)
        if stream is None:
            digest = hashlib.sha256(f"{self.seed}:{kind}".encode()).digest()
            stream = self._streams[kind] = random.Random(int.from_bytes(digest[:8], "big"))
        return stream

    def bits(self, kind: str, n: int) -> int:
        with self._lock:
            return self._stream(kind).getrandbits(n)

    def uuid(self, kind: str) -> str:
        """A version-4 shaped UUID string."""
        return str(uuid.UUID(int=self.bits(kind, 128), version=4))

    def fraction(self, kind: str) -> float:
        """A float in [0, 1)."""
        with self._lock:
            return self._stream(kind).random()

    def hex(self, kind: str, chars: int) -> str:
        return f"{self.bits(kind, chars * 4):0{chars}x}"

    def random(self, kind: str) -> random.Random:
        """A private generator for `kind`, seeded from (seed, kind) (for callers that draw many values)."""
        digest = hashlib.sha256(f"{self.seed}:{kind}".encode()).digest()
        return random.Random(int.from_bytes(digest[:8], "big"))


@dataclass(eq=False)
class SimContext:
    """One simulator's seed, clock, fault plan, error sink, state directory and id source."""

    seed: int = 0
    clock: Clock = field(default_factory=Clock)
    faults: FaultPlan = field(default_factory=FaultPlan)
    errors: ErrorSink = field(default_factory=ErrorSink)
    state_dir: Path | None = None
    ids: IdSource = field(init=False)
    name: str = "base"
    aws_account_id: str = "123456789012"  # moto's account this simulator's AWS state lives in
    deterministic: bool = False  # time frozen between timer jumps, ids seeded everywhere (replayable flights)

    def __post_init__(self) -> None:
        self.ids = IdSource(self.seed)
        self.lock = threading.RLock()
        self._memo: dict[Any, Any] = {}

    def memo(self, key: Any, factory: Callable[[], Any]) -> Any:
        """This simulator's value for `key`, made by `factory` the first time (per-simulator state that used
        to be a module dict, e.g. Retry's jitter generator per execution)."""
        with self.lock:
            if key not in self._memo:
                self._memo[key] = factory()
            return self._memo[key]

    @contextmanager
    def bound(self) -> Iterator[SimContext]:
        """Make this the calling thread's context for the block."""
        token = _bound.set(self)
        try:
            yield self
        finally:
            _bound.reset(token)

    @contextmanager
    def running(self) -> Iterator[SimContext]:
        """Register this context as running (the fallback for unbound threads) and bind it for the block."""
        with _lock:
            _running.append(self)
        try:
            with self.bound():
                yield self
        finally:
            with _lock:
                _running.remove(self)

    def wsgi(self, app: Callable[..., Any]) -> Callable[..., Any]:
        """`app` with every request handled in this context (a werkzeug server's request threads)."""

        def bound_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            with self.bound():
                return app(environ, start_response)

        return bound_app


_base = SimContext()
_bound: contextvars.ContextVar[SimContext | None] = contextvars.ContextVar("stepbricks_context", default=None)
_running: list[SimContext] = []
_lock = threading.Lock()


def base() -> SimContext:
    """The process's context outside any simulator: real time, the plan `sim.faults.activate` installs."""
    return _base


def current() -> SimContext:
    """The context the calling thread works for (see the module docstring for the order)."""
    ctx = _bound.get()
    if ctx is not None:
        return ctx
    with _lock:
        return _running[-1] if _running else _base


def running() -> list[SimContext]:
    """The contexts of the simulators running in this process, oldest first."""
    with _lock:
        return list(_running)


@contextmanager
def bind(ctx: SimContext) -> Iterator[SimContext]:
    with ctx.bound():
        yield ctx


class Thread(threading.Thread):
    """A `threading.Thread` that works for the context of the thread that created it.

    Created in a simulator's thread, it sees that simulator's clock, plan and ids; an exception it dies
    of goes to that simulator's error sink (and is raised in the test or command that owns it)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sim_context = current()
        # Every context variable of the creating thread, not only the binding: a thread started while a
        # request is served keeps serving that request's simulator (`sim.aws.moto_seams.core.serving`).
        self._variables = contextvars.copy_context()

    def run(self) -> None:
        self._variables.run(self._run_bound)

    def _run_bound(self) -> None:
        with self.sim_context.bound():
            try:
                super().run()
            except BaseException as error:
                self.sim_context.errors.report(error, f"thread {self.name}")


def spawn(target: Callable[..., Any], *args: Any, name: str | None = None, daemon: bool = True) -> Thread:
    """Start `target(*args)` in a context-carrying thread."""
    thread = Thread(target=target, args=args, name=name, daemon=daemon)
    thread.start()
    return thread
