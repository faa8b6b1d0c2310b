"""The manager's handle on one worker subprocess (sim/compute/pool.py `WorkerProcess`)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection

from sim.compute.pool import WorkerProcess


class _SlowClose(Connection):
    """Closes its descriptor, then dawdles before forgetting it: the window two unguarded closers race in."""

    def _close(self, _close=os.close) -> None:  # type: ignore[override]
        _close(self._handle)
        time.sleep(0.2)


def test_two_threads_killing_one_worker_close_its_connection_once():
    """A cluster terminated while its boot thread leased a pooled worker killed it from both threads: the
    second `close()` hit the same descriptor (EBADF in CI, or another file's if the number was reused)."""
    ours, theirs = socket.socketpair()
    worker = WorkerProcess(subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                                            start_new_session=True))  # fmt: skip
    worker.connection = _SlowClose(ours.detach())
    failures: list[BaseException] = []

    def kill() -> None:
        try:
            worker.kill()
        except BaseException as failure:  # the assertion below reports it
            failures.append(failure)

    threads = [threading.Thread(target=kill) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    theirs.close()
    assert failures == []
    assert worker.process.poll() is not None and worker.connection.closed
