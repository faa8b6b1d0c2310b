"""Run an execution of a test state machine to its end."""

from __future__ import annotations

import json
import time


def run_to_end(stepbricks, machine_arn: str, payload: dict, name: str) -> str:
    from harness.follow import follow

    sfn = stepbricks.client("stepfunctions")
    arn = sfn.start_execution(stateMachineArn=machine_arn, name=name, input=json.dumps(payload))["executionArn"]
    follow(sfn, arn, sleep=time.sleep, timeout=120, interval=0.2)
    return arn
