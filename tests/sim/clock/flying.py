"""Fixtures shared by tests/sim/clock and tests/sim/faults: a simulator on the virtual clock (AWS only) per
module, and helpers to fly state machines on it and read their histories."""

from __future__ import annotations

import io
import itertools
import json
import textwrap
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

from sim.simulator import Simulator

_names = itertools.count(1)


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    with Simulator.start(state_dir=tmp_path_factory.mktemp("clock-sim"), databricks=False, keep_state=False) as s:
        yield s


@pytest.fixture(scope="module")
def role_arn(sim: Simulator) -> str:
    return sim.aws.client("iam").create_role(
        RoleName=f"stepbricks-clock-{next(_names)}", AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": []}'
    )["Role"]["Arn"]


def build_zip(source: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", textwrap.dedent(source))
    return buffer.getvalue()


@pytest.fixture
def make_function(sim: Simulator, role_arn: str) -> Callable[..., str]:
    """Create a Python function from its `app.py` source; returns its (unique) name."""

    def create(source: str, *, timeout: int = 30, name: str | None = None) -> str:
        function_name = name or f"clock-fn-{next(_names)}"
        sim.aws.client("lambda").create_function(
            FunctionName=function_name, Runtime="python3.11", Role=role_arn, Handler="app.handler",
            Code={"ZipFile": build_zip(source)}, Timeout=timeout,
        )
        return function_name

    return create


class Flight:
    """One finished execution: its description, history and the wall time it took."""

    def __init__(self, description: dict[str, Any], history: list[dict[str, Any]], wall_s: float) -> None:
        self.description = description
        self.history = history
        self.wall_s = wall_s

    @property
    def status(self) -> str:
        return self.description["status"]

    def events(self, event_type: str) -> list[dict[str, Any]]:
        return [e for e in self.history if e["type"] == event_type]

    def at(self, event: dict[str, Any]) -> datetime:
        return event["timestamp"]

    def seconds_between(self, first: dict[str, Any], second: dict[str, Any]) -> float:
        return (second["timestamp"] - first["timestamp"]).total_seconds()


@pytest.fixture
def fly(sim: Simulator, role_arn: str) -> Callable[..., Flight]:
    """Create a state machine from `definition`, run it (optionally on `<arn>#<case>`) to the end."""

    def run(definition: dict[str, Any], payload: Any = None, *, test_case: str | None = None,
            name: str | None = None, timeout_s: float = 120.0) -> Flight:
        sfn = sim.aws.client("stepfunctions")
        machine = sfn.create_state_machine(name=name or f"clock-sm-{next(_names)}", definition=json.dumps(definition),
                                           roleArn=role_arn)["stateMachineArn"]
        started = time.monotonic()
        arn = sim.aws.start_execution(machine + (f"#{test_case}" if test_case else ""), payload)
        description = wait_for(sfn, arn, timeout_s)
        wall = time.monotonic() - started
        history = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
        return Flight(description, history, wall)

    return run


def wait_for(sfn: Any, execution_arn: str, timeout_s: float) -> dict[str, Any]:
    pause = threading.Event()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        description = sfn.describe_execution(executionArn=execution_arn)
        if description["status"] != "RUNNING":
            return description
        pause.wait(0.05)
    raise AssertionError(f"execution {execution_arn} still RUNNING after {timeout_s} s of wall time")
