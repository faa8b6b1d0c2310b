"""The shipped state machines' states, one at a time, through the pytest plugin's `test_state` fixture
(TestState on a moto server of its own: no Spark, no workspace, no Lambda; each call takes milliseconds).

Each test reads as the behaviour a state promises: how its retrier backs off, where its catcher sends an
error and what it keeps of it, which way a Choice goes, where a mocked result lands."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

LANDED = {"bucket": "stepbricks-raw", "key": "incoming/customers.csv"}
SERVICE_DOWN = {"errorOutput": {"error": "Lambda.ServiceException", "cause": "Lambda was unavailable"}}


# -- retriers: IntervalSeconds 2, BackoffRate 2, MaxAttempts 3 on every Lambda state -------------------------

@pytest.mark.parametrize(("retries_so_far", "backoff"), [(0, 2), (1, 4), (2, 8)])
def test_a_lambda_outage_is_retried_with_a_doubling_backoff(test_state, retries_so_far, backoff):
    result = test_state("pipeline", "StartEtl", input=LANDED, mock=SERVICE_DOWN, inspection_level="DEBUG",
                        state_configuration={"retrierRetryCount": retries_so_far})
    assert (result.status, result.error, result.cause) == (
        "RETRIABLE", "Lambda.ServiceException", "Lambda was unavailable")
    assert result.error_details == {"retryIndex": 0, "retryBackoffIntervalSeconds": backoff}


def test_an_outage_past_the_last_retry_is_caught_and_reported(test_state):
    result = test_state("pipeline", "StartEtl", input=LANDED, mock=SERVICE_DOWN, inspection_level="DEBUG",
                        state_configuration={"retrierRetryCount": 3})
    assert (result.status, result.next_state) == ("CAUGHT_ERROR", "NotifyFailure")
    assert result.output == {**LANDED, "error": {"Error": "Lambda.ServiceException",
                                                 "Cause": "Lambda was unavailable"}}
    assert result.error_details == {"catchIndex": 0}


def test_an_error_no_retrier_names_goes_straight_to_the_failure_notification(test_state):
    result = test_state("pipeline", "ValidateFile", input=LANDED, inspection_level="DEBUG",
                        mock={"errorOutput": {"error": "InputFileMissing", "cause": "no such key"}})
    assert (result.status, result.next_state, result.error_details) == ("CAUGHT_ERROR", "NotifyFailure",
                                                                        {"catchIndex": 0})
    assert result.output["error"] == {"Error": "InputFileMissing", "Cause": "no such key"}


def test_a_failing_failure_notification_still_ends_the_execution_failed(test_state):
    # NotifyFailure keeps the original state and adds its own error beside it, then fails the execution.
    failed = {**LANDED, "error": {"Error": "States.TaskFailed", "Cause": "etl"}}
    result = test_state("pipeline", "NotifyFailure", input=failed,
                        mock={"errorOutput": {"error": "SNS.NotFound", "cause": "topic gone"}})
    assert (result.status, result.next_state) == ("CAUGHT_ERROR", "PipelineFailed")
    assert result.output == {**failed, "notificationError": {"Error": "SNS.NotFound", "Cause": "topic gone"}}


# -- results and parameters -------------------------------------------------------------------------------

def test_the_validation_result_lands_beside_the_input_and_leads_to_the_check(test_state):
    report = {"isValid": True, "rows": 2000, "errors": []}
    result = test_state("pipeline", "ValidateFile", input=LANDED, mock={"result": report}, inspection_level="DEBUG")
    assert (result.status, result.next_state) == ("SUCCEEDED", "IsFileValid")
    assert result.output == {**LANDED, "validation": report}
    assert result.inspection_data["afterParameters"] == LANDED


def test_the_etl_job_is_started_with_the_deployed_job_and_buckets(test_state):
    execution = "arn:aws:states:us-east-1:123456789012:execution:stepbricks-pipeline:run-1"
    result = test_state("pipeline", "StartEtl", input=LANDED, inspection_level="DEBUG",
                        context={"Execution": {"Id": execution}}, mock={"result": {"run_id": 7}})
    assert result.inspection_data["afterParameters"] == {
        "job_id": "1001", "step": "etl", "execution_id": execution,
        "job_parameters": {"source_uri": "s3://stepbricks-raw/incoming/customers.csv",
                           "processed_root": "s3://stepbricks-processed/processed",
                           "quarantine_root": "s3://stepbricks-processed/quarantine"}}
    assert (result.output["etl"], result.next_state) == ({"run_id": 7}, "WaitEtl")


# -- choices --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("valid", "next_state"), [(True, "StartEtl"), (False, "NotifyInvalidFile")])
def test_only_a_valid_file_goes_on_to_the_etl(test_state, valid, next_state):
    result = test_state("pipeline", "IsFileValid", input={**LANDED, "validation": {"isValid": valid}})
    assert (result.status, result.next_state) == ("SUCCEEDED", next_state)


@pytest.mark.parametrize(("etl", "next_state"), [
    ({"is_complete": False}, "WaitEtl"),
    ({"is_complete": True, "is_successful": True}, "StartTrain"),
    ({"is_complete": True, "is_successful": False}, "NotifyFailure"),
])
def test_the_etl_poll_waits_goes_on_or_reports_the_failure(test_state, etl, next_state):
    assert test_state("pipeline", "IsEtlDone", input={"etl": etl}).next_state == next_state


@pytest.mark.parametrize(("evaluation", "next_state"), [
    ({"output": {"gate": {"passed": True}}}, "NotifySuccess"),
    ({"output": {"gate": {"passed": False}}}, "NotifyFailure"),
    ({"output": {}}, "NotifyFailure"),  # no verdict is no pass
])
def test_the_quality_gate_lets_only_a_passing_model_through(test_state, evaluation, next_state):
    assert test_state("pipeline", "QualityGate", input={"evaluate": evaluation}).next_state == next_state


def test_a_poll_wait_does_not_hold_the_test_up(test_state):
    result = test_state("polling", "WaitEtl", input={"etl": {"run_id": 7}})
    assert (result.status, result.next_state, result.output) == ("SUCCEEDED", "CheckEtl", {"etl": {"run_id": 7}})


# -- the Map variant ------------------------------------------------------------------------------------------

def test_the_map_puts_where_its_results_were_written_under_files_and_trains_next(test_state):
    """The Map lists the landing prefix with an S3 ItemReader and writes each file's outcome with a
    ResultWriter, so its result is the ResultWriterDetails AWS returns (a JSON object, as TestState
    requires of a mocked Map with a ResultWriter), not the outcomes themselves."""
    landing = {"bucket": "stepbricks-raw", "prefix": "incoming/"}
    written = {"MapRunArn": "arn:aws:states:us-east-1:123456789012:mapRun:stepbricks-pipeline-map/e:m",
               "ResultWriterDetails": {"Bucket": "stepbricks-results", "Key": "map-runs/m/manifest.json"}}
    result = test_state("map", "ProcessFiles", input=landing, mock={"result": written}, inspection_level="DEBUG")
    assert (result.status, result.next_state) == ("SUCCEEDED", "StartTrain")
    assert result.output == {**landing, "files": written}
    assert result.inspection_data["maxConcurrency"] == 2


def test_the_map_refuses_a_list_as_its_mocked_result_because_it_writes_its_results(test_state):
    with pytest.raises(ClientError, match="Mocked result must be a JSON object"):
        test_state("map", "ProcessFiles", input={"bucket": "b", "prefix": "incoming/"},
                   mock={"result": [{"key": "incoming/a.csv", "status": "processed"}]})


def test_a_file_inside_the_map_is_validated_with_the_same_retrier(test_state):
    result = test_state("pipeline_map", "ValidateItem", input=LANDED, mock=SERVICE_DOWN, inspection_level="DEBUG",
                        state_configuration={"retrierRetryCount": 2})
    assert (result.status, result.error_details) == ("RETRIABLE", {"retryIndex": 0,
                                                                   "retryBackoffIntervalSeconds": 8})
    exhausted = test_state("pipeline_map", "ValidateItem", input=LANDED, mock=SERVICE_DOWN,
                           state_configuration={"retrierRetryCount": 3})
    assert (exhausted.status, exhausted.error) == ("FAILED", "Lambda.ServiceException")  # no Catch inside the Map


# -- refusals come back as AWS words them ---------------------------------------------------------------------

def test_a_state_the_machine_lacks_is_refused(test_state):
    with pytest.raises(ClientError) as refused:
        test_state("pipeline", "ValidateInput", input=LANDED)
    assert refused.value.response["Error"] == {"Code": "ValidationException",
                                               "Message": "State not found in definition"}



def test_a_pass_state_cannot_be_mocked(test_state):  # test_state_mock_validation.snapshot.json
    with pytest.raises(ClientError) as refused:
        test_state("map", "ItemSkipped", input=LANDED, mock={"result": {}})
    assert refused.value.response["Error"] == {"Code": "ValidationException",
                                               "Message": "State type 'Pass' is not supported when a mock is specified"}
