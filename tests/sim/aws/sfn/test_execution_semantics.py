"""The context object and failure semantics of an execution as recorded on AWS
(sim/aws/moto_seams/sfn_execution.py; LocalStack's snapshot tests recorded on AWS,
tests/aws/services/stepfunctions/v2/context_object/)."""

from __future__ import annotations


def test_context_object_execution_has_redrive_count_zero_on_a_first_run(run_machine):
    run = run_machine({"StartAt": "Ctx", "States": {"Ctx": {"Type": "Pass", "Parameters": {"ctx.$": "$$"}, "End": True}}},
                      {"input-value": 0})
    execution = run.output["ctx"]["Execution"]
    assert list(execution) == ["Id", "Input", "StartTime", "Name", "RoleArn", "RedriveCount"]
    assert (execution["RedriveCount"], execution["Input"]) == (0, {"input-value": 0})


def test_states_context_redrive_count_is_readable_from_jsonata(run_machine):
    run = run_machine({"QueryLanguage": "JSONata", "StartAt": "Ctx", "States": {
        "Ctx": {"Type": "Pass", "Output": "{% $states.context.Execution.RedriveCount %}", "End": True}}})
    assert (run.status, run.output) == ("SUCCEEDED", 0)
