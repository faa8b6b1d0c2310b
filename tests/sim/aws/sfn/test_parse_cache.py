"""A definition and a JSONPath are parsed once (sim/aws/moto_seams/sfn_parse_cache.py): moto parsed the
definition with ANTLR on every StartExecution and built a JSONPath parser for every path it read."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from jsonpath_ng.parser import JsonPathParser
from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser

from tests.sim.aws.sfn.conftest import wait_for


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch):
    """Counts calls of a method while the test runs."""
    calls: dict[str, int] = {}

    def count(owner: Any, name: str) -> None:
        original = getattr(owner, name)

        def counting(*args: Any, **kwargs: Any) -> Any:
            calls[name] = calls.get(name, 0) + 1
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, counting)

    return calls, count


def test_a_definition_is_parsed_once_however_many_executions_start(sfn, create_machine, counted) -> None:
    calls, count = counted
    marker = uuid.uuid4().hex  # a definition no earlier test parsed
    count(ASLParser, "state_machine")
    arn = create_machine({"Comment": marker, "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    executions = [sfn.start_execution(stateMachineArn=arn, input=json.dumps({"n": n}))["executionArn"]
                  for n in range(3)]
    assert [wait_for(sfn, e)["output"] for e in executions] == ['{"n":0}', '{"n":1}', '{"n":2}']
    assert calls["state_machine"] == 1


def test_a_jsonpath_is_parsed_once_however_many_states_read_it(run_machine, counted) -> None:
    calls, count = counted
    count(JsonPathParser, "parse")
    path = f"$.v{uuid.uuid4().hex}"  # a path no earlier test parsed
    states = {f"S{i}": {"Type": "Pass", "InputPath": path, "ResultPath": path, "Next": f"S{i + 1}"}
              for i in range(4)}
    states["S4"] = {"Type": "Pass", "OutputPath": path, "End": True}
    run = run_machine({"StartAt": "S0", "States": states}, input={path[2:]: {"x": 1}})
    assert run.status == "SUCCEEDED" and run.output == {"x": 1}
    assert calls["parse"] <= 2  # once by moto's json_path module, once by its result_path module


def test_a_definition_with_a_syntax_error_is_refused_every_time(sfn) -> None:
    for _ in range(2):
        with pytest.raises(sfn.exceptions.InvalidDefinition):
            sfn.create_state_machine(name=f"bad-{uuid.uuid4().hex[:8]}", definition='{"StartAt": "A", "States": {"A": {"Type": "Pass", "End": true}}',
                                     roleArn="arn:aws:iam::123456789012:role/stepbricks-sfn")


def test_the_text_of_a_cached_definition_is_read_not_rebuilt(sfn, create_machine, monkeypatch) -> None:
    """moto's preprocessor asks every node of the tree for its text on each StartExecution; ANTLR rebuilt it
    from the node's subtree every time. A cached tree's nodes answer with their stored text, the same text."""
    from antlr4 import ParserRuleContext
    from antlr4.RuleContext import RuleContext

    from sim.aws.moto_seams import sfn_parse_cache

    states = {f"S{i}": {"Type": "Pass", "Result": {"i": i}, "ResultPath": f"$.r{i}", "Next": f"S{i + 1}"}
              for i in range(3)}
    states["S3"] = {"Type": "Succeed"}
    definition = {"Comment": uuid.uuid4().hex, "StartAt": "S0", "States": states}
    arn = create_machine(definition)
    tree = sfn_parse_cache.parse_tree(sfn.describe_state_machine(stateMachineArn=arn)["definition"])
    nodes, stack = [], [tree]
    while stack:
        node = stack.pop()
        nodes.append(node)
        stack.extend(c for c in (node.children or ()) if isinstance(c, RuleContext))
    rebuilt = [sfn_parse_cache._ORIGINAL_GET_TEXT(node) for node in nodes]  # ANTLR's own, walking the subtree

    def no_walking(self):
        raise AssertionError("a cached tree's text was rebuilt from its subtree")

    monkeypatch.setattr(ParserRuleContext, "getChildren", no_walking)
    assert [node.getText() for node in nodes] == rebuilt and len(nodes) > 40
    monkeypatch.undo()
    execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
    assert json.loads(wait_for(sfn, execution)["output"]) == {f"r{i}": {"i": i} for i in range(3)}
