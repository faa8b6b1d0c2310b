"""harness.deploy: an engine that lacks the HTTP Task (Step Functions Local, LocalStack) still gets every
other variant, and the HTTP variant says why it is missing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from harness.deploy import VARIANTS, _ensure_state_machines
from tests.asl.conftest import ACCOUNT, REGION, substitution_values


class EngineWithoutHttpTask:
    """CreateStateMachine as an engine without `http:invoke` answers it: InvalidDefinition."""

    def __init__(self) -> None:
        self.created: list[str] = []

    def get_paginator(self, name: str) -> Any:
        class Pages:
            @staticmethod
            def paginate() -> list[dict]:
                return [{"stateMachines": []}]
        return Pages()

    def create_state_machine(self, *, name: str, definition: str, roleArn: str, type: str) -> dict:
        if "arn:aws:states:::http:invoke" in definition:
            raise ClientError({"Error": {"Code": "InvalidDefinition", "Message": "Unknown service 'http'"}},
                              "CreateStateMachine")
        json.loads(definition)
        self.created.append(name)
        return {"stateMachineArn": f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"}


def test_an_engine_without_the_http_task_gets_the_other_variants_and_a_reason():
    engine = EngineWithoutHttpTask()
    names = {v: f"sm-{v}" for v in VARIANTS}
    unsupported = _ensure_state_machines(engine, names, substitution_values(), "arn:aws:iam::123456789012:role/sfn")
    assert sorted(engine.created) == sorted(f"sm-{v}" for v in VARIANTS if v != "http")
    assert list(unsupported) == ["http"] and "Unknown service 'http'" in unsupported["http"]


def test_a_refused_required_variant_still_fails_the_deploy():
    class RefusesEverything(EngineWithoutHttpTask):
        def create_state_machine(self, **kwargs: Any) -> dict:
            raise ClientError({"Error": {"Code": "InvalidDefinition", "Message": "no"}}, "CreateStateMachine")

    with pytest.raises(ClientError):
        _ensure_state_machines(RefusesEverything(), {v: v for v in VARIANTS}, substitution_values(), "role")
