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


RAISES = """
def handler(event, context):
    raise Exception("Some exception was raised.")
"""


def _parallel(branch_states: dict) -> dict:
    return {"StartAt": "P", "States": {
        "P": {"Type": "Parallel", "End": True, "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Fallback"}],
              "Branches": [{"StartAt": next(iter(branch_states)), "States": branch_states}]},
        "Fallback": {"Type": "Pass", "End": True}}}


def test_task_failing_its_parallel_branch_is_recorded_as_aborted_after_its_failure(run_machine, make_function):
    function = make_function(RAISES)
    task = {"Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                     "Parameters": {"FunctionName": function, "Payload": {}}, "End": True}}
    run = run_machine(_parallel(task))
    assert run.status == "SUCCEEDED"
    types = run.types()
    assert types[types.index("TaskStarted"):types.index("ParallelStateExited")][:3] == [
        "TaskStarted", "TaskFailed", "TaskStateAborted"]


def test_task_whose_failure_is_caught_inside_the_branch_is_not_aborted(run_machine, make_function):
    function = make_function(RAISES)
    task = {"Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                     "Parameters": {"FunctionName": function, "Payload": {}}, "End": True,
                     "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Handled"}]},
            "Handled": {"Type": "Pass", "End": True}}
    run = run_machine(_parallel(task))
    assert run.status == "SUCCEEDED"
    assert "TaskStateAborted" not in run.types()
