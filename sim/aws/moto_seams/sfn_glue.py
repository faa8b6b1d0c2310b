"""Step Functions' `arn:aws:states:::glue:startJobRun.sync`, waiting for a Glue run that really runs.

Loaded with the other Step Functions seams when moto's Step Functions is first imported (see
`sim.aws.moto_seams.sfn_group`); the Glue API itself is `sim.aws.moto_seams.glue`.
"""

from __future__ import annotations

from typing import Any

from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import ResourceCondition
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_glue import (
    StateTaskServiceGlue,
)

from sim.aws.moto_seams.core import Seam, register

__all__: list[str] = []


def _glue_eval_integration_pattern(self: StateTaskServiceGlue, env: Any, resource_runtime_part: Any,
                                   normalised_parameters: dict, state_credentials: Any) -> None:
    """Replaces `StateTaskServiceGlue._eval_integration_pattern` (inherited from StateTaskServiceCallback).

    Restores: `arn:aws:states:::glue:startJobRun.sync` waits for the run and outputs its JobRun, or fails
    the state with States.TaskFailed and the JobRun as cause (FAILED/TIMEOUT/ERROR), as AWS does. moto's
    inherited code always ended in `callback_endpoint.interrupt_all()` on a None endpoint (Glue has no
    .waitForTaskToken), so every .sync state failed with States.Runtime "'NoneType' object has no
    attribute 'interrupt_all'". Polls GetJobRun through moto's resolver, on the simulator's clock.
    """
    task_output = env.stack.pop()
    self.timeout.eval(env=env)
    timeout_seconds = env.stack.pop()
    if self.heartbeat:  # a Glue run sends no heartbeats; the value is evaluated to keep the stack balanced
        self.heartbeat.eval(env=env)
        env.stack.pop()
    if self.resource.condition != ResourceCondition.Sync:
        raise RuntimeError(f"Unsupported integration pattern in resource {self.resource.resource_arn}")
    env.stack.append(task_output)
    resolver = self._build_sync_resolver(env=env, resource_runtime_part=resource_runtime_part,
                                         normalised_parameters=normalised_parameters,
                                         state_credentials=state_credentials)
    outcome = self._eval_sync(env=env, sync_resolver=resolver, timeout_seconds=timeout_seconds,
                              callback_endpoint=None, heartbeat_endpoint=None)
    env.stack.append(outcome)



register(
    [(StateTaskServiceGlue, "_eval_integration_pattern", _glue_eval_integration_pattern)],
    [
        Seam(StateTaskServiceGlue, "_eval_integration_pattern",
             ("self", "env", "resource_runtime_part", "normalised_parameters", "state_credentials"),
             _glue_eval_integration_pattern.__doc__ or "",
             proved_by="tests/sim/aws/glue/test_glue_job_runs.py::test_start_job_run_sync_fails_the_state_with_the_job_run_as_cause"),
        Seam(StateTaskServiceGlue, "_eval_sync",
             ("self", "env", "sync_resolver", "timeout_seconds", "callback_endpoint", "heartbeat_endpoint"),
             "the .sync polling loop the Glue integration reuses",
             proved_by="tests/sim/aws/glue/test_glue_job_runs.py::test_start_job_run_sync_fails_the_state_with_the_job_run_as_cause"),
    ],
)
