"""Stop a `socketserver` server without waiting for its next poll.

`socketserver.BaseServer.shutdown()` sets a flag that `serve_forever` reads between `select` calls, which
wake every `poll_interval` (0.5 s by default in CPython 3.11's socketserver and in werkzeug's
`BaseWSGIServer.serve_forever`, which moto's `ThreadedMotoServer` calls without one; our Lambda endpoint
uses the default too), so each stop slept ~0.5 s: ~1 s of every `AwsSimulator` teardown, in every test
that starts one and at the end of every `stepbricks run`. A connection wakes the `select` at once; the
server accepts it, finds the flag set and returns.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

_POKE_EVERY_S = 0.02


def stop_promptly(stop: Callable[[], None], address: tuple[str, int]) -> None:
    """Run `stop` (which calls the server's `shutdown()` and waits for it) while waking the server's loop."""
    done = threading.Event()

    def stopping() -> None:
        try:
            stop()
        finally:
            done.set()

    thread = threading.Thread(target=stopping, name="server-stop", daemon=True)
    thread.start()
    while not done.wait(_POKE_EVERY_S):
        try:
            socket.create_connection(address, timeout=0.5).close()
        except OSError:  # not accepting any more: it is on its way out
            pass
    thread.join()
