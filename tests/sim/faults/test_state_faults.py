"""`state` faults and Step Functions Local MockConfigFile test cases, flown on the simulator's interpreter.

MockConfigFile semantics (AWS Step Functions developer guide, "Configuration file for mocked service
integrations"): a test case runs when the execution starts on `<state machine ARN>#<TestCase>`; a mocked
state does not call its integration; numbered responses ("0", "1-2") advance with each invocation of the
state within the execution, retries included.
"""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from sim import faults

UNREACHABLE = """
def handler(event, context):
    raise RuntimeError("the integration must not be called while mocked")
"""

ECHO = """
def handler(event, context):
    return {"real": True}
"""


def _machine(function: str) -> dict:
    return {"StartAt": "Call", "States": {
        "Call": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "OutputPath": "$.Payload",
                 "Parameters": {"FunctionName": function, "Payload.$": "$"},
                 "Retry": [{"ErrorEquals": ["Lambda.ServiceException"], "IntervalSeconds": 2, "MaxAttempts": 3,
                            "BackoffRate": 2.0}],
                 "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Failed"}],
                 "Next": "Done"},
        "Failed": {"Type": "Fail", "Error": "CallFailed"},
        "Done": {"Type": "Succeed"},
    }}


@pytest.fixture
def plan():
    previous = faults.activate(faults.FaultPlan())
    yield faults.active()
    faults.activate(previous)


def test_mock_config_test_case_retries_through_numbered_responses_then_succeeds(fly, make_function, plan):
    function = make_function(UNREACHABLE)
    config = {
        "StateMachines": {"orders": {"TestCases": {"RetryPath": {"Call": "FlakyThenOk"}}}},
        "MockedResponses": {"FlakyThenOk": {
            "0-1": {"Throw": {"Error": "Lambda.ServiceException", "Cause": "service down"}},
            "2": {"Return": {"Payload": {"ok": True}, "StatusCode": 200}},
        }},
    }
    faults.activate(faults.from_mock_config(config))
    flight = fly(_machine(function), name="orders", test_case="RetryPath")
    assert flight.status == "SUCCEEDED"
    assert json.loads(flight.description["output"]) == {"ok": True}
    assert [e["taskFailedEventDetails"]["error"] for e in flight.events("TaskFailed")] == [
        "Lambda.ServiceException", "Lambda.ServiceException"]
    gaps = [flight.seconds_between(f, s) for f, s in
            zip(flight.events("TaskFailed"), flight.events("TaskScheduled")[1:], strict=False)]
    assert gaps == [pytest.approx(2, abs=0.5), pytest.approx(4, abs=0.5)]  # retries back off in virtual time
    assert [a.occurrence for a in faults.active().applied] == [1, 2, 3]
    assert {a.scope for a in faults.active().applied} == {"orders#RetryPath"}


def test_a_mocked_error_past_max_attempts_takes_the_catch_path(fly, make_function, plan):
    function = make_function(UNREACHABLE)
    plan.add("state", "billing", detail="Call", error={"Error": "Lambda.ServiceException", "Cause": "down"})
    flight = fly(_machine(function), name="billing")
    assert flight.status == "FAILED"
    assert flight.events("ExecutionFailed")[0]["executionFailedEventDetails"]["error"] == "CallFailed"
    assert len(flight.events("TaskScheduled")) == 4  # first attempt + MaxAttempts 3
    assert len(plan.applied) == 4


def test_numbered_responses_count_within_one_execution_not_across_executions(fly, make_function, plan):
    function = make_function(ECHO)
    plan.add("state", "counted", detail="Call", attempts=1, result={"Payload": {"mocked": True}})
    first = fly(_machine(function), name="counted")
    assert json.loads(first.description["output"]) == {"mocked": True}
    sfn_second = fly(_machine(function), name="counted-again")  # a different machine: no fault at all
    assert json.loads(sfn_second.description["output"]) == {"real": True}


def test_starting_an_unknown_test_case_is_invalid_name(sim, role_arn, plan):
    sfn = sim.aws.client("stepfunctions")
    arn = sfn.create_state_machine(name="no-cases", roleArn=role_arn, definition=json.dumps(
        {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
    with pytest.raises(ClientError) as error:
        sfn.start_execution(stateMachineArn=f"{arn}#Missing", name="x")
    assert error.value.response["Error"]["Code"] == "InvalidName"
    assert "Missing" in error.value.response["Error"]["Message"]
