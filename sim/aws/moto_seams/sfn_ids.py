"""Task tokens, `States.UUID()` values and Map run ids drawn from the simulator's seeded id source
(see `sim.aws.moto_seams.ids`, which explains why)."""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.asl.component.intrinsic.function.statesfunction import states_function_uuid
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

_GLOBALS: list[tuple[Any, str, Any, str]] = [
    (states, "long_uid", uid_of("task-token"), "task tokens of .waitForTaskToken tasks are seeded ids"),
    (states_function_uuid, "long_uid", uid_of("states-uuid"), "States.UUID() draws seeded ids"),
    (unique_id_uuid, "long_uid", uid_of("states-uuid"), "States.UUID() draws seeded ids"),
    (map_run_record, "long_uid", uid_of("map-run"), "Map run ids are seeded ids"),
]

register([(owner, name, value) for owner, name, value, _ in _GLOBALS],
         [Seam(owner, name, (), restores) for owner, name, _, restores in _GLOBALS])
