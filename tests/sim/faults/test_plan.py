"""Fault plans are data: exact attempt selection, first match wins, every application recorded."""

from __future__ import annotations

import json
import re

import pytest

from sim.faults import FaultPlan, PlanError, from_mock_config, load_plan


def test_attempts_one_and_two_fail_and_the_third_succeeds():
    plan = FaultPlan().add("lambda", "validate", attempts="1-2", error={"type": "Lambda.ServiceException"})
    outcomes = [plan.take("lambda", "validate") for _ in range(3)]
    assert [o is not None for o in outcomes] == [True, True, False]
    assert [a.occurrence for a in plan.applied] == [1, 2]


def test_the_first_matching_fault_wins():
    plan = (
        FaultPlan()
        .add("lambda", "*", attempts=1, label="any-function", timeout=True)
        .add("lambda", "validate", attempts=1, label="specific", delay_seconds=5)
    )
    effect = plan.take("lambda", "validate")
    assert "timeout" in effect
    assert plan.applied[0].label == "any-function"


def test_occurrences_are_counted_per_target_and_scope():
    plan = FaultPlan().add("state", "sm", detail="Validate", attempts=1, scope="sm#A", result={"ok": 1})
    assert plan.take("state", "sm", "Validate", scope="sm#B") is None
    assert plan.take("state", "sm", "Validate", scope="sm#A") is not None
    assert plan.take("state", "sm", "Validate", scope="sm#A") is None


def test_a_seeded_random_plan_makes_the_same_choices_every_time():
    def choices(seed: int) -> list[bool]:
        plan = FaultPlan(seed=seed).add("aws", "s3", detail="PutObject", probability=0.3, status=503)
        return [plan.take("aws", "s3", "PutObject") is not None for _ in range(50)]

    assert choices(7) == choices(7)
    assert choices(7) != choices(8)
    assert 5 < sum(choices(7)) < 30


def test_a_plan_round_trips_through_yaml_and_json(tmp_path):
    plan = FaultPlan(seed=3).add("databricks_task", "stepbricks-etl", detail="etl", attempts=[1], result_state="FAILED")
    json_path = tmp_path / "plan.json"
    json_path.write_text(json.dumps(plan.to_dict()))
    yaml_path = tmp_path / "plan.yaml"
    yaml_path.write_text(
        "seed: 3\nfaults:\n  - target: {kind: databricks_task, name: stepbricks-etl, detail: etl}\n"
        "    attempts: [1]\n    effect: {result_state: FAILED}\n"
    )
    assert load_plan(json_path).to_dict() == plan.to_dict() == load_plan(yaml_path).to_dict()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"faults": [{"target": {"kind": "lamda", "name": "x"}, "effect": {"timeout": True}}]}, "faults[0].target.kind"),
        ({"faults": [{"target": {"kind": "lambda", "name": "x"}, "effect": {"explode": 1}}]}, "faults[0].effect"),
        ({"faults": [{"target": {"kind": "lambda", "name": "x"}, "attempts": "2-1", "effect": {"timeout": 1}}]}, "backwards"),
        ({"faults": [{"target": {"kind": "lambda", "name": "x"}, "attempts": 0, "effect": {"timeout": 1}}]}, "1-based"),
        ({"fault": []}, "unknown top-level"),
    ],
)
def test_a_malformed_plan_is_rejected_naming_the_fault_and_field(raw, message):
    with pytest.raises(PlanError, match=re.escape(message)):
        FaultPlan.from_dict(raw)


MOCK_CONFIG = {
    "StateMachines": {
        "LambdaSQSIntegration": {
            "TestCases": {
                "RetryPath": {"LambdaState": "MockedLambdaRetry"},
            }
        }
    },
    "MockedResponses": {
        "MockedLambdaRetry": {
            "0": {"Throw": {"Error": "Lambda.ResourceNotReadyException", "Cause": "Lambda resource is not ready."}},
            "1-2": {"Throw": {"Error": "Lambda.TimeoutException", "Cause": "Lambda timed out."}},
            "3": {"Return": {"StatusCode": 200, "Payload": {"body": "Hello from Lambda!"}}},
        }
    },
}


def test_step_functions_local_mock_config_numbered_responses_advance_across_retries():
    plan = from_mock_config(MOCK_CONFIG)
    scope = "LambdaSQSIntegration#RetryPath"
    effects = [plan.take("state", "LambdaSQSIntegration", "LambdaState", scope=scope) for _ in range(5)]
    assert [e["error"]["Error"] if e and "error" in e else None for e in effects[:3]] == [
        "Lambda.ResourceNotReadyException",
        "Lambda.TimeoutException",
        "Lambda.TimeoutException",
    ]
    assert effects[3]["result"]["Payload"]["body"] == "Hello from Lambda!"
    assert effects[4] is None


def test_a_mock_config_naming_an_undefined_response_says_which():
    bad = {"StateMachines": {"SM": {"TestCases": {"Case": {"S": "Missing"}}}}, "MockedResponses": {}}
    with pytest.raises(PlanError, match=r"StateMachines.SM.TestCases.Case.S names the mocked response 'Missing'"):
        from_mock_config(bad)


# --- databricks_http: a pattern target, selected as databricks/cli's testserver selects ------------------------
def test_a_databricks_http_fault_matches_its_pattern_and_counts_the_calls_that_match_it():
    plan = FaultPlan().add("databricks_http", "POST /api/2.*/jobs/run-now", offset=1, times=2, status_code=503)
    calls = ["POST /api/2.1/jobs/run-now", "GET /api/2.1/jobs/list", "POST /api/2.2/jobs/run-now",
             "POST /api/2.1/jobs/run-now", "POST /api/2.1/jobs/run-now"]
    fired = [plan.take("databricks_http", call) is not None for call in calls]
    assert fired == [False, False, True, True, False]  # skip one matching call, then answer two
    assert [(a.target, a.occurrence) for a in plan.applied] == [
        ("databricks_http:POST /api/2.2/jobs/run-now", 2), ("databricks_http:POST /api/2.1/jobs/run-now", 3)]
    assert (plan.faults[0].seen, plan.faults[0].fired) == (4, 2)


def test_times_caps_every_kind_and_a_job_id_target_matches_only_that_job():
    plan = FaultPlan().add("databricks_task", "*", detail="etl", job_id=7, times=1, result_state="FAILED")
    assert plan.take("databricks_task", "nightly", "etl", occurrence=1, job_id=8) is None
    assert plan.take("databricks_task", "nightly", "etl", occurrence=1, job_id=7) is not None
    assert plan.take("databricks_task", "nightly", "etl", occurrence=1, job_id=7) is None  # fired once: done
    plan.reset()
    assert plan.take("databricks_task", "nightly", "etl", occurrence=1, job_id=7) is not None


def test_a_databricks_http_plan_round_trips_through_yaml(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_text(
        "faults:\n  - target: {kind: databricks_http, name: 'GET /api/2.*/jobs/list'}\n    offset: 1\n"
        "    times: 2\n    effect: {status_code: 429, retry_after: 3}\n"
    )
    plan = load_plan(path)
    assert plan.to_dict()["faults"] == [{"target": {"kind": "databricks_http", "name": "GET /api/2.*/jobs/list"},
                                         "offset": 1, "times": 2, "effect": {"status_code": 429, "retry_after": 3}}]
    assert FaultPlan.from_dict(plan.to_dict()).to_dict() == plan.to_dict()


def _http(effect, **extra):
    return {"faults": [{"target": {"kind": "lambda", "name": "ok"}, "effect": {"timeout": True}},
                       {"target": {"kind": "databricks_http", "name": "GET /x"}, "effect": effect, **extra}]}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (_http({"status": 503}), "faults[1].effect: ['status'] not understood for databricks_http targets"),
        (_http({"status_code": 200}), "faults[1].effect.status_code: must be an HTTP error status"),
        (_http({"status_code": "429"}), "faults[1].effect.status_code"),
        (_http({"retry_after": -1}), "faults[1].effect.retry_after"),
        (_http({"body": "oops"}), "faults[1].effect.body: must be a JSON object"),
        (_http({"after_handler": "yes"}), "faults[1].effect.after_handler"),
        (_http({"status_code": 429}, times=-1), "faults[1].times"),
        (_http({"status_code": 429}, offset="1"), "faults[1].offset"),
        ({"faults": [{"target": {"kind": "databricks_http", "name": "GET /x", "job_id": 1},
                      "effect": {"status_code": 429}}]}, "faults[0].target: ['job_id'] not understood"),
        ({"faults": [{"target": {"kind": "databricks_task", "name": "j", "job_id": "7"},
                      "effect": {"timeout": True}}]}, "faults[0].target.job_id"),
        ({"faults": [{"target": {"kind": "databricks_task", "name": "j"}, "effect": {"result_state": "CANCELED"}}]},
         "faults[0].effect.result_state: must be one of FAILED, INTERNAL_ERROR, TIMEDOUT"),
    ],
)
def test_a_malformed_databricks_fault_is_rejected_naming_the_fault_and_field(raw, message):
    with pytest.raises(PlanError, match=re.escape(message)):
        FaultPlan.from_dict(raw)
