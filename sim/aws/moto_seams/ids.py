"""The ids moto makes up for SNS (here) and Step Functions' interpreter (`sfn_ids`) come from the simulator's seeded id source.

moto's interpreter draws task tokens (`.waitForTaskToken`), `States.UUID()` values and Map run ids from
`uuid4` through `moto.stepfunctions.parser.utils.long_uid`; each module imported the name, so the seam
replaces it where it is used. With the simulator's seed they repeat from flight to flight, which is
what makes a recorded history (its task tokens included) replayable. SNS message ids come from moto's
process-wide `mock_random`, which every moto request draws from (a client polling at wall speed draws
a different number of times per flight): SNS gets a stand-in whose `uuid4` is seeded per simulator.
"""

from __future__ import annotations

import uuid
from typing import Any

from moto.moto_api._internal import mock_random
from moto.sns import models as sns_models

from sim import context
from sim.aws.moto_seams.core import Seam, register

__all__ = ["seeded_uid", "uid_of"]


def uid_of(kind: str) -> Any:
    def seeded_uid() -> str:
        """Replaces `long_uid` (a `uuid4` string): a seeded uuid of the simulator's id source."""
        return context.current().ids.uuid(kind)

    return seeded_uid


seeded_uid = uid_of("sfn-uid")


class _SeededMotoRandom:
    """moto's `mock_random` with `uuid4` drawn from the simulator's id source (`kind`); the rest is moto's."""

    def __init__(self, kind: str) -> None:
        self._kind = kind

    def uuid4(self) -> uuid.UUID:
        return uuid.UUID(context.current().ids.uuid(self._kind))

    def __getattr__(self, name: str) -> Any:
        return getattr(mock_random, name)

_GLOBALS: list[tuple[Any, str, Any, str, str]] = [  # owner, name, stand-in, what it restores, proved by
    (sns_models, "mock_random", _SeededMotoRandom("sns"), "SNS message and subscription ids are seeded ids",
     "tests/sim/test_same_seed.py::test_sns_message_ids_follow_the_seed_whatever_another_simulator_draws"),
]

register([(owner, name, value) for owner, name, value, _, _ in _GLOBALS],
         [Seam(owner, name, (), restores, proved_by=test) for owner, name, _, restores, test in _GLOBALS])
