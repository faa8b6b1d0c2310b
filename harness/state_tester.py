"""Test one state of a state machine through Step Functions' TestState API, in milliseconds.

What the pytest plugin's `test_state` fixture calls. A shipped state machine (asl/definitions, by its
name or its variant's) is rendered as `deploy` renders it (`harness.deploy.nominal_substitutions`: the
ARNs, buckets and job ids a deploy into a fresh `stepbricks up` gives), then one of its states is sent
with boto3's `test_state` to a moto server of its own: the request is checked and answered as AWS does
(sim/aws/moto_seams/sfn_test_state*.py), with no Spark, no workspace, no Lambda deployed. That server
starts in well under a second and is shared by a whole test session (`state_tester_server`).

A Task is tested with a `mock` (its result or its error stands in for the call, as on AWS); a Choice, Pass,
Wait, Succeed or Fail runs as it is; a Map or Parallel needs a mock (AWS refuses it otherwise).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from asl import loader as asl_loader
from harness.deploy import VARIANTS, DeployConfig, nominal_substitutions, state_machine_role_arn

__all__ = ["StateTester", "TestStateResult", "state_tester_server"]

# The first account tried (the next free one after it): not one a simulator of the process starts in (they
# count up from moto's 123456789012), so the throwaway machines TestState runs never show up in its listings.
TESTER_ACCOUNT = "210987654321"


@dataclass(frozen=True)
class TestStateResult:
    """TestState's answer with its JSON text read: `output` and each `inspection_data` entry are values."""

    __test__ = False  # a result, not a pytest test class

    status: str
    output: Any = None
    next_state: str | None = None
    error: str | None = None
    cause: str | None = None
    inspection_data: dict[str, Any] = field(default_factory=dict)
    response: dict[str, Any] = field(default_factory=dict, repr=False)  # as boto3 returned it

    @classmethod
    def from_response(cls, response: Mapping[str, Any]) -> TestStateResult:
        raw = {k: v for k, v in response.items() if k != "ResponseMetadata"}
        inspection = {k: _read(v) for k, v in (raw.get("inspectionData") or {}).items()}
        return cls(status=raw["status"], output=_read(raw["output"]) if "output" in raw else None,
                   next_state=raw.get("nextState"), error=raw.get("error"), cause=raw.get("cause"),
                   inspection_data=inspection, response=raw)

    @property
    def error_details(self) -> dict[str, Any]:
        """`inspectionData.errorDetails` (retryIndex, retryBackoffIntervalSeconds, catchIndex), DEBUG/TRACE."""
        return dict(self.inspection_data.get("errorDetails") or {})


def _read(value: Any) -> Any:
    """JSON text as its value (AWS sends output and inspection data as text); anything else as it is."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


class StateTester:
    """`tester(machine, state=..., input=..., mock=..., ...)` → `TestStateResult` (see `__call__`)."""

    def __init__(self, client: Any, *, config: DeployConfig | None = None) -> None:
        self.client = client
        self.config = config or DeployConfig()
        self._definitions: dict[str, str] = {}

    def definition(self, machine: str | Mapping[str, Any], substitutions: Mapping[str, Any] | None = None) -> str:
        """The definition text TestState gets: a shipped machine rendered as deploy renders it (by definition
        name, e.g. `pipeline_map`, or variant, e.g. `map`), or a definition given as a dict or JSON text."""
        if isinstance(machine, Mapping):
            return _text(machine)
        name = VARIANTS.get(machine, machine)
        if name not in asl_loader.names():
            if machine.lstrip().startswith("{"):
                return machine
            raise ValueError(f"no shipped state machine {machine!r}: use one of {asl_loader.names()} or a variant "
                             f"({', '.join(VARIANTS)}), or pass a definition")
        if substitutions:
            return asl_loader.render(name, {**nominal_substitutions(self.config), **substitutions})
        if name not in self._definitions:
            self._definitions[name] = asl_loader.render(name, nominal_substitutions(self.config))
        return self._definitions[name]

    def __call__(self, machine: str | Mapping[str, Any], state: str | None = None, *, input: Any = None,
                 mock: Mapping[str, Any] | None = None, state_configuration: Mapping[str, int | str] | None = None,
                 inspection_level: str = "INFO", context: Mapping[str, Any] | None = None,
                 variables: Mapping[str, Any] | None = None, role_arn: str | None = None,
                 reveal_secrets: bool | None = None, substitutions: Mapping[str, Any] | None = None) -> TestStateResult:
        """Test `state` of `machine` (omit `state` when `machine` is a single state's definition).

        `input`, `context` and `variables` are values (sent as JSON text). `mock` is AWS's MockInput with the
        result as a value: `{"result": {...}}` or `{"errorOutput": {"error": ..., "cause": ...}}`, optionally
        with `fieldValidationMode`. `state_configuration` is AWS's TestStateConfiguration
        (`retrierRetryCount`, `errorCausedByState`, `mapIterationFailureCount`, `mapItemReaderData`).
        A refusal raises botocore's ClientError with AWS's code and message (e.g. ValidationException)."""
        request: dict[str, Any] = {
            "definition": self.definition(machine, substitutions),
            "input": _text({} if input is None else input),
            "inspectionLevel": inspection_level,
            "roleArn": role_arn or state_machine_role_arn(self.config),
        }
        if state is not None:
            request["stateName"] = state
        if mock is not None:
            request["mock"] = {k: _text(v) if k == "result" else v for k, v in mock.items()}
        if state_configuration is not None:
            request["stateConfiguration"] = dict(state_configuration)
        if context is not None:
            request["context"] = _text(context)
        if variables is not None:
            request["variables"] = _text(variables)
        if reveal_secrets is not None:
            request["revealSecrets"] = reveal_secrets
        return TestStateResult.from_response(self.client.test_state(**request))


@contextmanager
def state_tester_server(state_dir: Path | None = None) -> Iterator[Any]:
    """A moto server with stepbricks' TestState and nothing else started (no Spark, no workspace), on a
    virtual clock (a Wait state does not hold the test up), in an account of its own, auxiliary (a simulator
    started beside it still seeds moto's ids and owns Glue); yields a boto3 Step Functions client for it.
    AWS serves TestState under the `sync-` host prefix, which cannot resolve on the loopback, so the client
    does not add it."""
    from sim import clock as sim_clock
    from sim import context as sim_context
    from sim.aws import AwsSimulator, moto_seams

    account = int(TESTER_ACCOUNT)
    while str(account) in moto_seams.accounts_in_use():  # a second server keeps its throwaway machines apart
        account += 1
    context = sim_context.SimContext(clock=sim_clock.VirtualClock(), name="test-state", aws_account_id=str(account))
    with tempfile.TemporaryDirectory(prefix="stepbricks-test-state-") as scratch, \
            AwsSimulator.start(state_dir=state_dir or Path(scratch), context=context, account_id=str(account),
                               auxiliary=True) as aws:
        try:
            yield aws.client("stepfunctions", inject_host_prefix=False)
        finally:
            context.clock.close()
