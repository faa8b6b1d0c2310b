"""The parent of a cluster worker that may outlive its process: it keeps the worker's exit status.

A process that leases a worker another process started (sim.compute.shared_pool) is not its parent, so it
cannot wait for it, and the exit status that names why a worker died ("cluster worker died (exit code 70)":
its driver JVM died; 1: a task called `os._exit(1)`; -11: a segfault) would be lost. So such a worker is
started under this keeper, which stays its parent: it waits for the worker, writes its status to the file
named on its command line, and ends with the same status (the same code, or killed by the same signal), so
a manager that did start it sees exactly what it saw before. Both are in one process group: killing the group
kills both, and the worker's JVM.

    python -m sim.compute.keeper STATUS_FILE HOST:PORT   # then as `python -m sim.compute.worker HOST:PORT`
"""

from __future__ import annotations

import os
import signal
import sys


def main() -> None:
    status_file, address = sys.argv[1], sys.argv[2]
    pid = os.fork()
    if pid == 0:
        os.execv(sys.executable, [sys.executable, "-m", "sim.compute.worker", address])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the worker decides; the keeper only reports
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
    code = os.waitstatus_to_exitcode(status)
    try:
        partial = f"{status_file}.partial"
        with open(partial, "w") as out:
            out.write(str(code))
        os.replace(partial, status_file)
    except OSError:  # the pool's directory was removed: nobody asks any more
        pass
    if code < 0:
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
    os._exit(code & 0xFF)


if __name__ == "__main__":
    main()
