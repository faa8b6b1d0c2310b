"""A MockConfigFile kept in force while it is edited: re-read for the next execution, no restart.

`MockConfigWatcher.refresh()` is called on every StartExecution (sim/aws/moto_seams/sfn_faults.py). It costs
one `stat` when nothing changed: the file is read again only when its mtime, size or inode moved, or when
its mtime is too recent to tell two quick edits apart (git's "racy" rule), and parsed only when its bytes
changed. A good edit replaces the previous configuration's faults in the simulator's plan; a malformed one
(bad JSON, a test case naming a response that does not exist, a wrong shape) is reported once through
`report` with `<file>:<line>: <reason>` and leaves the last good configuration in force. `problem` keeps
that report for as long as the file stays malformed, so a refusal can say why a test case is missing.

A running execution reads the plan at each mocked state, so it sees an edit from its next state on.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sim import context as sim_context
from sim.faults.mock_config import MockConfigError, mock_config_from_text
from sim.faults.plan import Fault, FaultPlan

__all__ = ["MockConfigWatcher", "attach", "watcher"]

_RACY_S = 2.0  # an mtime this close to the last read may hide a second edit within the clock's granularity
_KEY = "sfn-mock-config-watcher"


class MockConfigWatcher:
    """One MockConfigFile, its last good configuration in `plan`, and the problem of its current text."""

    def __init__(self, path: Path | str, plan: FaultPlan, report: Callable[[str], None] | None = None) -> None:
        self.path = Path(path)
        self.plan = plan
        self.report = report or (lambda message: None)
        self.problem: MockConfigError | None = None
        self.loads = 0  # good configurations put in force (the first load included)
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._stat: tuple[int, int, int] | None = None
        self._read_at = 0.0
        self._digest = b""
        self.load()

    def load(self) -> None:
        """Read and apply the file now; raises MockConfigError (OSError for an unreadable file)."""
        with self._lock:
            data = self.path.read_bytes()
            self._apply(data)
            self._remember(data)

    def refresh(self) -> bool:
        """Apply the file if it changed since last seen; True when a new configuration came into force."""
        with self._lock:
            try:
                stat = os.stat(self.path)
            except OSError as exc:
                return self._refuse(MockConfigError(str(self.path), 0, f"cannot be read: {exc.strerror}"), b"")
            signature = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
            if signature == self._stat and stat.st_mtime_ns / 1e9 < self._read_at - _RACY_S:
                return False
            try:
                data = self.path.read_bytes()
            except OSError as exc:
                return self._refuse(MockConfigError(str(self.path), 0, f"cannot be read: {exc.strerror}"), b"")
            self._stat = signature
            self._read_at = time.time()
            digest = hashlib.sha256(data).digest()
            if digest == self._digest:
                return False
            self._digest = digest
            try:
                self._apply(data)
            except MockConfigError as exc:
                return self._refuse(exc, digest)
            self.report(f"{self.path}: reloaded, {len(self._scopes())} test case(s) in force")
            return True

    def _apply(self, data: bytes) -> None:
        """Parse `data` and swap its faults in for the previous configuration's (raises before any change)."""
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MockConfigError(str(self.path), 0, f"not UTF-8 text: {exc.reason}") from None
        fresh = mock_config_from_text(text, str(self.path))
        for fault in self._faults:
            self.plan.remove_fault(fault)
        self._faults = [self.plan.add_fault(fault) for fault in fresh.faults]
        self.problem = None
        self.loads += 1

    def _remember(self, data: bytes) -> None:
        stat = os.stat(self.path)
        self._stat = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        self._read_at = time.time()
        self._digest = hashlib.sha256(data).digest()

    def _refuse(self, problem: MockConfigError, digest: bytes) -> bool:
        if self.problem is None or str(self.problem) != str(problem):
            self.report(f"{problem} (the last good configuration stays in force)")
        self.problem = problem
        self._digest = digest
        return False

    def _scopes(self) -> set[str]:
        return {f.scope for f in self._faults if f.scope}


class _Slot:
    watcher: MockConfigWatcher | None = None


def attach(context: sim_context.SimContext, mock_config: MockConfigWatcher | None) -> None:
    """Make `mock_config` the watched MockConfigFile of the simulator of `context` (None: none)."""
    context.memo(_KEY, _Slot).watcher = mock_config


def watcher() -> MockConfigWatcher | None:
    """The watched MockConfigFile of the simulator the calling thread works for, if any."""
    return sim_context.current().memo(_KEY, _Slot).watcher
