"""Choice rules are re-evaluated to attribute coverage to the rule an execution took (first match wins)."""

from __future__ import annotations

import pytest

from harness.choice_rules import first_matching_rule

RULES = [
    {"Variable": "$.isValid", "BooleanEquals": False, "Next": "Reject"},
    {"And": [{"Variable": "$.rows", "NumericGreaterThan": 100}, {"Variable": "$.kind", "StringEquals": "csv"}],
     "Next": "Big"},
    {"Variable": "$.kind", "StringMatches": "json*", "Next": "Json"},
    {"Not": {"Variable": "$.limit", "IsPresent": True}, "Next": "NoLimit"},
    {"Variable": "$.rows", "NumericLessThanEqualsPath": "$.limit", "Next": "WithinLimit"},
]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"isValid": False}, 0),
        ({"isValid": True, "rows": 500, "kind": "csv", "limit": 1}, 1),
        ({"isValid": True, "rows": 5, "kind": "jsonl", "limit": 1}, 2),
        ({"isValid": True, "rows": 5, "kind": "csv"}, 3),
        ({"isValid": True, "rows": 5, "kind": "csv", "limit": 10}, 4),
        ({"isValid": True, "rows": 50, "kind": "csv", "limit": 10}, -1),
    ],
)
def test_the_first_matching_rule_is_the_one_taken(data, expected):
    assert first_matching_rule(RULES, data) == expected


def test_a_jsonata_condition_is_unknown_rather_than_guessed():
    assert first_matching_rule([{"Condition": "{% $states.input.x %}", "Next": "A"}], {"x": True}) is None


def test_a_type_mismatch_never_matches_as_the_spec_says():
    assert first_matching_rule([{"Variable": "$.n", "NumericEquals": 1, "Next": "A"}], {"n": "1"}) == -1
