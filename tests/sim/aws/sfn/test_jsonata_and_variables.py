"""JSONata and variables as AWS evaluates them; each test names the behaviour a seam in
sim/aws/moto_seams/sfn_language.py restores, and fails if moto's interpreter changes underneath."""

from __future__ import annotations

import json

import pytest

from sim.aws.moto_seams import sfn_jsonata


def _jsonata(states: dict, **top) -> dict:
    return {"QueryLanguage": "JSONata", "StartAt": next(iter(states)), "States": states, **top}


def test_jsonata_output_reads_states_input_and_context(run_machine):
    run = run_machine(_jsonata({"P": {"Type": "Pass", "Output": {
        "sum": "{% $sum($states.input.values) %}", "state": "{% $states.context.State.Name %}",
        "execution": "{% $contains($states.context.Execution.Id, ':' & $states.context.Execution.Name) %}",
    }, "End": True}}), {"values": [1, 2, 3.5]})
    assert run.output == {"sum": 6.5, "state": "P", "execution": True}


def test_json_null_in_the_input_stays_null_not_undefined(run_machine):
    run = run_machine(_jsonata({"P": {"Type": "Pass", "Output": {"n": "{% $states.input.n %}",
                                                                  "t": "{% $type($states.input.n) %}"}, "End": True}}),
                      {"n": None})
    assert run.output == {"n": None, "t": "null"}


def test_undefined_result_fails_with_query_evaluation_error_and_an_evaluation_failed_event(run_machine):
    run = run_machine(_jsonata({"P": {"Type": "Pass", "Assign": {"x": "{% $states.input.nope %}"}, "End": True}}))
    assert run.status == "FAILED"
    assert run.types()[-2:] == ["EvaluationFailed", "ExecutionFailed"]
    [evaluation] = run.details("EvaluationFailed")
    assert evaluation == {
        "error": "States.QueryEvaluationError", "state": "P",
        "cause": "An error occurred while executing the state 'P' (entered at the event id #2). The JSONata "
                 "expression '$states.input.nope' specified for the field 'Assign/x' returned nothing (undefined).",
    }


def test_runtime_error_cause_carries_the_jsonata_code(run_machine):
    run = run_machine(_jsonata({"P": {"Type": "Pass", "Output": "{% $states.input.s + 1 %}", "End": True}}),
                      {"s": "abc"})
    assert run.description["error"] == "States.QueryEvaluationError"
    assert "The JSONata expression '$states.input.s + 1' specified for the field 'Output' threw an error during " \
           "evaluation. T2001: The left side of the " in run.description["cause"]


def test_eval_is_not_available_use_parse(run_machine):
    run = run_machine(_jsonata({"P": {"Type": "Pass", "Output": "{% $eval('1') %}", "End": True}}))
    assert run.description["error"] == "States.QueryEvaluationError"
    assert "$parse" in run.description["cause"]


def test_choice_condition_routes_on_a_variable(run_machine):
    run = run_machine(_jsonata({
        "Init": {"Type": "Pass", "Assign": {"limit": "{% $states.input.limit %}"}, "Next": "C"},
        "C": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input.amount > $limit %}", "Next": "High"}],
              "Default": "Low"},
        "High": {"Type": "Pass", "Output": "high", "End": True},
        "Low": {"Type": "Pass", "Output": "low", "End": True},
    }), {"amount": 11, "limit": 10})
    assert run.output == "high"


def test_output_sees_variables_as_they_were_before_the_same_states_assign(run_machine):
    run = run_machine(_jsonata({
        "A": {"Type": "Pass", "Assign": {"n": 1}, "Next": "B"},
        "B": {"Type": "Pass", "Assign": {"n": "{% $n + 1 %}"}, "Output": {"n": "{% $n %}"}, "Next": "C"},
        "C": {"Type": "Pass", "Output": {"before": "{% $states.input.n %}", "now": "{% $n %}"}, "End": True},
    }))
    assert run.output == {"before": 1, "now": 2}


def test_assigned_variables_in_history_are_json_text(run_machine):
    run = run_machine({"StartAt": "A", "States": {"A": {"Type": "Pass", "Assign": {
        "quote": 'say "hi"', "obj.$": "$"}, "End": True}}}, {"k": [1, None]})
    [exited] = run.details("PassStateExited")
    assert {k: json.loads(v) for k, v in exited["assignedVariables"].items()} == {"quote": 'say "hi"',
                                                                               "obj": {"k": [1, None]}}


def test_jsonpath_reads_variable_paths_and_a_missing_variable_is_a_runtime_error(run_machine):
    ok = run_machine({"StartAt": "A", "States": {
        "A": {"Type": "Pass", "Assign": {"order.$": "$"}, "Next": "B"},
        "B": {"Type": "Pass", "Parameters": {"first.$": "$order.items[0].sku", "total.$": "$order.total"}, "End": True},
    }}, {"items": [{"sku": "s-1"}], "total": 3})
    assert ok.output == {"first": "s-1", "total": 3}
    missing = run_machine({"StartAt": "B", "States": {
        "B": {"Type": "Pass", "Parameters": {"x.$": "$never"}, "End": True}}})
    assert missing.description["error"] == "States.Runtime"
    assert "The JSONPath '$never' specified for the field 'x.$' could not be found" in missing.description["cause"]


def test_map_iteration_error_keeps_its_states_name_so_the_maps_catch_matches(run_machine):
    run = run_machine(_jsonata({
        "M": {"Type": "Map", "Items": "{% [1] %}", "ItemProcessor": {"ProcessorConfig": {"Mode": "INLINE"},
              "StartAt": "Bad", "States": {"Bad": {"Type": "Pass", "Output": "{% $states.input.x %}", "End": True}}},
              "Catch": [{"ErrorEquals": ["States.QueryEvaluationError"], "Next": "Caught"}], "End": True},
        "Caught": {"Type": "Pass", "Output": "{% $states.input.Error %}", "End": True},
    }))
    assert (run.status, run.output) == ("SUCCEEDED", "States.QueryEvaluationError")


def test_aws_functions_evaluate_without_a_state_machine():
    assert sfn_jsonata.evaluate("$partition([1,2,3,4,5], 2)", {}) == [[1, 2], [3, 4], [5]]
    assert sfn_jsonata.evaluate("$range(1, 2, 0.5)", {}) == [1, 1.5, 2.0]
    assert sfn_jsonata.evaluate("$x", {"x": "user variable shadows nothing"}) == "user variable shadows nothing"
    assert sfn_jsonata.evaluate("$hash('abc', 'SHA-1')", {}) == "a9993e364706816aba3e25717850c26c9cd0d89d"


def test_a_variable_over_256_kib_fails_the_state_with_states_runtime(run_machine):
    run = run_machine(_jsonata({"Big": {"Type": "Pass", "Assign": {"blob": "{% $pad('', 262145, 'x') %}"},
                                        "End": True}}))
    assert (run.status, run.description["error"]) == ("FAILED", "States.Runtime")
    assert "'blob'" in run.description["cause"] and "262147 bytes" in run.description["cause"]


def test_one_assign_over_256_kib_in_total_fails_even_if_each_variable_fits(run_machine):
    run = run_machine(_jsonata({"Two": {"Type": "Pass", "Assign": {
        "a": "{% $pad('', 140000, 'x') %}", "b": "{% $pad('', 140000, 'y') %}"}, "End": True}}))
    assert run.description["error"] == "States.Runtime"
    assert "one Assign" in run.description["cause"]


def test_variables_just_under_the_limit_are_stored(run_machine):
    run = run_machine(_jsonata({
        "Fill": {"Type": "Pass", "Assign": {"blob": "{% $pad('', 262142, 'x') %}"}, "Next": "Read"},
        "Read": {"Type": "Pass", "Output": "{% $length($blob) %}", "End": True}}))
    assert run.output == 262142


def test_now_and_millis_read_the_simulators_clock():
    from sim import clock

    virtual = clock.VirtualClock(start=1_700_000_000.0, auto_skip=False)
    previous = clock.install(virtual)
    try:
        # The virtual clock starts in November 2023 (and moves with real time unless told to skip).
        assert 1_700_000_000_000 <= sfn_jsonata.evaluate("$millis()", {}) < 1_700_000_060_000
        assert sfn_jsonata.evaluate("$now()", {}).startswith("2023-11-14T22:1")
    finally:
        clock.install(previous)
        virtual.close()


def test_definite_jsonpath_through_an_array_index_selects_one_value_and_a_filter_selects_a_list(run_machine):
    run = run_machine({"StartAt": "A", "States": {"A": {"Type": "Pass", "Parameters": {
        "sku.$": "$.items[1].sku", "first.$": "$.items[0]",
        # moto#7825's case: a filter is indefinite, so AWS answers a list.
        "filtered.$": "$.items[?(@.sku == 's-2')].sku", "all.$": "$.items[*].sku"}, "End": True}}},
        {"items": [{"sku": "s-1"}, {"sku": "s-2"}]})
    assert run.output == {"sku": "s-2", "first": {"sku": "s-1"}, "filtered": ["s-2"], "all": ["s-1", "s-2"]}


def test_jsonata_lambda_task_reads_its_result_and_catches_the_functions_error(run_machine, make_function):
    name = make_function("""
class ValidationError(Exception):
    pass

def handler(event, context):
    if event["amount"] < 0:
        raise ValidationError("negative amount")
    return {"total": event["amount"] * 2}
""")
    definition = _jsonata({
        "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                 "Arguments": {"FunctionName": name, "Payload": {"amount": "{% $states.input.amount %}"}},
                 "Assign": {"total": "{% $states.result.Payload.total %}"},
                 "Output": {"doubled": "{% $states.result.Payload.total %}"},
                 "Catch": [{"ErrorEquals": ["ValidationError"], "Next": "Rejected",
                            "Output": {"why": "{% $parse($states.errorOutput.Cause).errorMessage %}"}}],
                 "Next": "Done"},
        "Done": {"Type": "Pass", "Output": {"total": "{% $total %}", "input": "{% $states.input %}"}, "End": True},
        "Rejected": {"Type": "Pass", "End": True},
    })
    assert run_machine(definition, {"amount": 21}).output == {"total": 42, "input": {"doubled": 42}}
    assert run_machine(definition, {"amount": -1}).output == {"why": "negative amount"}


def test_wait_seconds_from_a_jsonata_expression(run_machine):
    run = run_machine(_jsonata({"W": {"Type": "Wait", "Seconds": "{% $states.input.pause %}", "Next": "P"},
                                "P": {"Type": "Pass", "Output": "{% $states.input.pause %}", "End": True}}),
                      {"pause": 0})
    assert (run.status, run.output) == ("SUCCEEDED", 0)


FAILING = "{% $states.input.s + 1 %}"
FIELD_CASES = {  # the state (the first one runs), and the field path AWS names in the cause
    "Arguments": ({"T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                         "Arguments": {"FunctionName": "f", "Payload": FAILING}, "End": True}}, "Arguments/Payload"),
    "Items": ({"M": {"Type": "Map", "Items": FAILING, "ItemProcessor": {
        "ProcessorConfig": {"Mode": "INLINE"}, "StartAt": "I", "States": {"I": {"Type": "Pass", "End": True}}},
        "End": True}}, "Items"),
    "Condition": ({"C": {"Type": "Choice", "Choices": [{"Condition": FAILING, "Next": "D"}], "Default": "D"},
                   "D": {"Type": "Pass", "End": True}}, "Condition"),
    "Error": ({"F": {"Type": "Fail", "Error": FAILING, "Cause": "c"}}, "Error"),
    "Cause": ({"F": {"Type": "Fail", "Error": "E", "Cause": FAILING}}, "Cause"),
}


@pytest.mark.parametrize("field", FIELD_CASES)
def test_a_failing_expression_names_its_field_in_the_query_evaluation_error(run_machine, field):
    states, path = FIELD_CASES[field]
    run = run_machine(_jsonata(states), {"s": "abc"})
    assert run.description["error"] == "States.QueryEvaluationError"
    assert f"'$states.input.s + 1' specified for the field '{path}' threw an error" in run.description["cause"]


ITEMS = {"items": [{"n": 1, "s": "a", "b": True, "t": "2026-01-01T00:00:00Z"}, {"n": 2, "s": "b", "b": False,
                                                                               "t": "2026-01-02T00:00:00Z"}],
         "n": 1, "s": "a", "b": True, "t": "2026-01-01T00:00:00Z"}
CHOICE_PATHS = {"NumericEqualsPath": ("$.n", "$.items[0].n"), "StringEqualsPath": ("$.s", "$.items[0].s"),
                "BooleanEqualsPath": ("$.b", "$.items[0].b"), "TimestampEqualsPath": ("$.t", "$.items[0].t")}


@pytest.mark.parametrize("operator", CHOICE_PATHS)
def test_a_choice_rule_reads_one_value_through_an_array_index(run_machine, operator):
    """`...EqualsPath: $.items[0].x` compares with that one value (moto compared with a one-element list)."""
    variable, path = CHOICE_PATHS[operator]
    run = run_machine({"StartAt": "C", "States": {
        "C": {"Type": "Choice", "Choices": [{"Variable": variable, operator: path, "Next": "Same"}],
              "Default": "Other"},
        "Same": {"Type": "Pass", "Result": "same", "End": True},
        "Other": {"Type": "Pass", "Result": "other", "End": True}}}, ITEMS)
    assert run.output == "same"


def test_an_intrinsic_argument_reads_one_value_through_an_array_index(run_machine):
    run = run_machine({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {
        "text.$": "States.Format('first is {}', $.items[0].s)"}, "End": True}}}, ITEMS)
    assert run.output == {"text": "first is a"}


def test_the_context_object_reads_one_value_through_an_array_index(run_machine):
    run = run_machine({"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {
        "first.$": "$$.Execution.Input.items[0].n"}, "End": True}}}, ITEMS)
    assert run.output == {"first": 1}
