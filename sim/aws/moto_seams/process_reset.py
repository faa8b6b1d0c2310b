"""moto's process-wide reset spares the accounts of running simulators.

`mock_aws` resets every backend of the process when it starts and stops (`BackendDict.reset`, a class
method that resets and then drops every account). A test suite that mixes moto's in-process unit tests
with stepbricks flights (the common case: both are pytest fixtures) had the simulator's whole deployment
wiped under it by the next `mock_aws` test: its topic, functions and buckets gone, "Topic does not exist"
at the following flight. While simulators run, that reset now clears every account but theirs (each one
with `core.reset_account`, which also keeps S3 objects of other accounts open), so `mock_aws` still
starts from a clean slate in every account no simulator serves. With no simulator running, moto's
reset runs unchanged (the row is installed only while one runs).
"""

from __future__ import annotations

from typing import Any

from moto.core.base_backend import BackendDict, backend_lock

from sim.aws.moto_seams import core


def _reset_sparing_simulators(cls: type[BackendDict]) -> None:
    """`BackendDict.reset` for every account no running simulator serves."""
    kept = core.accounts_in_use()
    with backend_lock:
        accounts = {account for backends in list(BackendDict._instances) for account in list(backends.keys())}
    for account in accounts - kept:
        core.reset_account(account)
    with backend_lock:
        for backends in list(BackendDict._instances):
            for account in list(backends.keys()):
                if account not in kept:
                    dict.pop(backends, account, None)  # moto's reset drops them too (backend.clear())


_reset: Any = classmethod(_reset_sparing_simulators)

core.register([(BackendDict, "reset", _reset)], [core.Seam(
    BackendDict, "reset", ("cls",),
    _reset_sparing_simulators.__doc__ or "",
    proved_by="tests/sim/aws/test_aws_simulator.py::test_mock_aws_beside_a_running_simulator_leaves_its_state_alone")])
