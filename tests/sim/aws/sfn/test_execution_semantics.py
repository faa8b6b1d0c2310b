"""The context object and failure semantics of an execution as recorded on AWS
(sim/aws/moto_seams/sfn_execution.py; LocalStack's snapshot tests recorded on AWS,
tests/aws/services/stepfunctions/v2/context_object/)."""

from __future__ import annotations

import threading


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


def test_an_execution_stopped_before_its_thread_runs_is_aborted_not_a_500(aws, sfn, create_machine, wait_for,
                                                                          monkeypatch):
    """A `StopExecution` right after `StartExecution` (a redelivered trigger, an operator's reflex) aborts it, as
    on AWS. moto built the execution's environment on its own thread, after parsing the definition; a stop that
    came first answered 500 (`'NoneType' object has no attribute 'set_stop'`): seen once in the suite."""
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    parse = ExecutionWorker._get_evaluation_entrypoint
    slow_to_start = threading.Event()

    def slow_parse(self):  # the execution's thread is held up before it reaches its environment
        slow_to_start.wait(0.5)
        return parse(self)

    monkeypatch.setattr(ExecutionWorker, "_get_evaluation_entrypoint", slow_parse)
    machine = create_machine({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}})
    execution = aws.start_execution(machine, {})
    sfn.stop_execution(executionArn=execution, error="Operator", cause="stopped at once")

    assert wait_for(sfn, execution)["status"] == "ABORTED"
    events = [e["type"] for e in sfn.get_execution_history(executionArn=execution)["events"]]
    assert (events[0], events[-1]) == ("ExecutionStarted", "ExecutionAborted"), events


def test_a_program_stopped_before_its_body_ran_records_its_abort(aws, sfn, create_machine, wait_for, monkeypatch):
    """moto's program body runs only while the program is running and is what records the terminal event: a stop
    between the program's start and its body's first step left ABORTED with a history of ExecutionStarted alone
    (1 stop in 5 right after the start, on a loaded machine)."""
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
    from moto.stepfunctions.parser.asl.component.program.program import Program

    evaluate = EvalComponent.eval
    held = threading.Event()

    def late_body(self, env):  # the program's body thread is held up before its first step
        if type(self) is Program:
            held.wait(0.5)
        return evaluate(self, env)

    monkeypatch.setattr(EvalComponent, "eval", late_body)
    machine = create_machine({"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": 3600, "End": True}}})
    execution = aws.start_execution(machine, {})
    sfn.stop_execution(executionArn=execution, error="Operator", cause="stopped at once")

    assert wait_for(sfn, execution)["status"] == "ABORTED"
    history = sfn.get_execution_history(executionArn=execution)["events"]
    assert [e["type"] for e in history] == ["ExecutionStarted", "ExecutionAborted"]
