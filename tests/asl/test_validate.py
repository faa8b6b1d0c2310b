"""asl.validate: structural problems come back naming the state and field at fault."""

from __future__ import annotations

import copy

import pytest

import asl

LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:f"


def _minimal() -> dict:
    return {
        "StartAt": "Work",
        "States": {
            "Work": {"Type": "Task", "Resource": LAMBDA, "Next": "Done"},
            "Done": {"Type": "Succeed"},
        },
    }


def test_a_minimal_machine_is_valid():
    assert asl.validate(_minimal()) == []


def test_bad_next_is_reported_naming_the_state_and_field():
    definition = _minimal()
    definition["States"]["Work"]["Next"] = "Nowhere"
    problems = asl.validate(definition)
    assert any(p.state == "Work" and p.field == "Next" and "Nowhere" in p.message for p in problems)


def test_bad_catch_target_is_reported_naming_the_catcher():
    definition = _minimal()
    definition["States"]["Work"]["Catch"] = [{"ErrorEquals": ["States.ALL"], "Next": "Gone"}]
    problems = asl.validate(definition)
    assert any(p.state == "Work" and p.field == "Catch[0].Next" for p in problems)


def test_unreachable_state_is_reported():
    definition = _minimal()
    definition["States"]["Orphan"] = {"Type": "Pass", "End": True}
    assert [p.state for p in asl.validate(definition)] == ["Orphan"]


def test_missing_start_at_target_is_reported():
    definition = _minimal()
    definition["StartAt"] = "Nope"
    assert any(p.field == "StartAt" for p in asl.validate(definition))


def test_state_without_next_or_end_is_reported():
    definition = _minimal()
    del definition["States"]["Work"]["Next"]
    definition["States"]["Done"] = {"Type": "Succeed"}
    problems = asl.validate(definition)
    assert any(p.state == "Work" for p in problems)


def test_choice_rule_without_next_is_reported_naming_the_rule():
    definition = _minimal()
    definition["States"]["Work"]["Next"] = "Pick"
    definition["States"]["Pick"] = {
        "Type": "Choice",
        "Choices": [{"Variable": "$.x", "BooleanEquals": True}],
        "Default": "Done",
    }
    problems = asl.validate(definition)
    assert any(p.state == "Pick" and p.field == "Choices[0]" for p in problems)


def test_mistyped_retrier_field_is_reported():
    definition = _minimal()
    definition["States"]["Work"]["Retry"] = [{"ErrorEquals": ["X"], "MaxAttempts": "3"}]
    problems = asl.validate(definition)
    assert [(p.state, p.field) for p in problems] == [("Work", "Retry[0].MaxAttempts")]


def test_task_without_resource_is_reported():
    definition = _minimal()
    del definition["States"]["Work"]["Resource"]
    assert any(p.state == "Work" and "Resource" in p.message for p in asl.validate(definition))


def test_integer_backoff_rate_is_accepted_as_aws_does():
    definition = _minimal()
    definition["States"]["Work"]["Retry"] = [{"ErrorEquals": ["X"], "BackoffRate": 2}]
    assert asl.validate(definition) == []


def test_problem_inside_a_map_names_the_nested_state(values):
    definition = copy.deepcopy(asl.substitute(asl.load("pipeline_map"), values))
    definition["States"]["ProcessFiles"]["ItemProcessor"]["States"]["WaitItemEtl"]["Next"] = "Elsewhere"
    problems = asl.validate(definition)
    assert any(p.state == "WaitItemEtl" and p.field == "Next" for p in problems)


def test_check_raises_with_every_problem_listed():
    definition = _minimal()
    definition["States"]["Work"]["Next"] = "Nowhere"
    with pytest.raises(asl.DefinitionInvalid, match=r"state 'Work', field 'Next'") as raised:
        asl.check(definition, name="tiny")
    assert raised.value.problems
