"""moto's request routing, without re-reading its own package on every request.

`DomainDispatcherApplication.get_backend_for_host` asks `moto.backends.list_of_moto_modules()` whether the
Host header names a service, and that lists moto's package directory and stats each of its ~150 entries,
on every request: 7% of the simulator's CPU under 50 concurrent executions (py-spy, bench/bench_clock.py).
The installed package does not change while the process runs, so the list is read once.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from moto import backends

from sim.aws.moto_seams.core import Seam, register

__all__: list[str] = []

_ORIGINAL = backends.list_of_moto_modules


@functools.lru_cache(maxsize=1)
def _modules() -> tuple[str, ...]:
    return tuple(_ORIGINAL())


def _list_of_moto_modules() -> Iterable[str]:
    """Replaces `moto.backends.list_of_moto_modules`.

    Adds: moto's service packages are listed once per process (moto listed and stat-ed its package
    directory for every request it routed)."""
    return iter(_modules())


register(
    [(backends, "list_of_moto_modules", _list_of_moto_modules)],
    [Seam(backends, "list_of_moto_modules", (), _list_of_moto_modules.__doc__ or "",
          proved_by="tests/sim/aws/test_routing.py::test_routing_a_request_does_not_list_motos_package_directory")],
)
