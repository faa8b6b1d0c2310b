"""Task tokens, `States.UUID()` values and Map run ids drawn from the simulator's seeded id source
(see `sim.aws.moto_seams.ids`, which explains why)."""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.asl.component.intrinsic.function.statesfunction.unique_id_generation import (
    uuid as unique_id_uuid,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor import (
    map_run_record,
)
from moto.stepfunctions.parser.asl.eval import states

from sim.aws.moto_seams.core import Seam, register
from sim.aws.moto_seams.ids import uid_of

__all__: list[str] = []

_SAME_SEED = "tests/sim/test_same_seed.py::test_two_flights_with_the_same_seed_are_byte_identical"
# owner, name, stand-in, what it restores, proved by. (Not `statesfunction.states_function_uuid`: moto's
# interpreter never imports that module; States.UUID() is `unique_id_generation.uuid`.)
_GLOBALS: list[tuple[Any, str, Any, str, str]] = [
    (states, "long_uid", uid_of("task-token"), "task tokens of .waitForTaskToken tasks are seeded ids",
     "tests/sim/test_same_seed.py::test_task_tokens_and_map_run_ids_follow_the_seed"),
    (unique_id_uuid, "long_uid", uid_of("states-uuid"), "States.UUID() draws seeded ids", _SAME_SEED),
    (map_run_record, "long_uid", uid_of("map-run"), "Map run ids are seeded ids",
     "tests/sim/test_same_seed.py::test_task_tokens_and_map_run_ids_follow_the_seed"),
]

register([(owner, name, value) for owner, name, value, _, _ in _GLOBALS],
         [Seam(owner, name, (), restores, proved_by=test) for owner, name, _, restores, test in _GLOBALS])
