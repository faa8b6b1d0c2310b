"""asl.graph: the graph of each pipeline has the edges the design promises."""

from __future__ import annotations

import pytest

import asl
from asl import EdgeKind, Graph

DATABRICKS_RETRY = {"Lambda.ServiceException", "Lambda.TooManyRequestsException", "DatabricksRateLimited"}


@pytest.fixture
def pipeline(values) -> Graph:
    return Graph.from_definition(asl.substitute(asl.load("pipeline"), values))


def test_every_task_of_the_pipeline_has_a_catch_edge_to_notify_failure(pipeline):
    tasks = [s.name for s in pipeline.states_of_type("Task") if s.name != "NotifyFailure"]
    assert len(tasks) == 9
    for name in tasks:
        catches = pipeline.edges_from(name, EdgeKind.CATCH)
        assert [(e.target, e.errors) for e in catches] == [("NotifyFailure", ("States.ALL",))], name


def test_notify_failure_catches_into_pipeline_failed_rather_than_itself(pipeline):
    assert [e.target for e in pipeline.edges_from("NotifyFailure", EdgeKind.CATCH)] == ["PipelineFailed"]


def test_every_task_retries_lambda_service_errors_and_databricks_rate_limits(pipeline):
    for state in pipeline.states_of_type("Task"):
        (retry,) = pipeline.edges_from(state.name, EdgeKind.RETRY)
        assert retry.target == state.name
        assert set(retry.errors) >= DATABRICKS_RETRY


@pytest.mark.parametrize("step", ["Etl", "Train", "Evaluate"])
def test_each_job_has_the_poll_loop_wait_check_choice(pipeline, step):
    assert [e.target for e in pipeline.edges_from(f"Start{step}", EdgeKind.NEXT)] == [f"Wait{step}"]
    assert [e.target for e in pipeline.edges_from(f"Wait{step}", EdgeKind.NEXT)] == [f"Check{step}"]
    assert [e.target for e in pipeline.edges_from(f"Check{step}", EdgeKind.NEXT)] == [f"Is{step}Done"]
    choices = pipeline.edges_from(f"Is{step}Done", EdgeKind.CHOICE)
    assert choices[0].target == f"Wait{step}"
    assert [e.target for e in pipeline.edges_from(f"Is{step}Done", EdgeKind.DEFAULT)] == ["NotifyFailure"]


def test_the_happy_path_runs_validate_etl_train_evaluate_gate_notify(pipeline):
    assert pipeline.start_at == "ValidateFile"
    assert pipeline.edges_from("IsFileValid", EdgeKind.CHOICE)[0].target == "StartEtl"
    assert pipeline.edges_from("IsEtlDone", EdgeKind.CHOICE)[1].target == "StartTrain"
    assert pipeline.edges_from("IsTrainDone", EdgeKind.CHOICE)[1].target == "StartEvaluate"
    assert pipeline.edges_from("IsEvaluateDone", EdgeKind.CHOICE)[1].target == "QualityGate"
    assert [e.target for e in pipeline.edges_from("QualityGate")] == ["NotifySuccess", "NotifyFailure"]


def test_an_invalid_file_is_notified_then_rejected(pipeline):
    assert [e.target for e in pipeline.edges_from("IsFileValid", EdgeKind.DEFAULT)] == ["NotifyInvalidFile"]
    assert [e.target for e in pipeline.edges_from("NotifyInvalidFile", EdgeKind.NEXT)] == ["InputRejected"]
    assert pipeline.states["InputRejected"].type == "Fail"
    assert pipeline.states["PipelineFailed"].type == "Fail"


def test_map_variant_nests_the_per_file_states_under_the_map(values):
    graph = Graph.from_definition(asl.substitute(asl.load("pipeline_map"), values))
    assert [(e.target, e.kind) for e in graph.edges_from("ProcessFiles") if e.kind is EdgeKind.BRANCH] == [
        ("ValidateItem", EdgeKind.BRANCH)
    ]
    assert graph.states["StartItemEtl"].parent == "ProcessFiles"
    assert graph.states["StartTrain"].parent is None


def test_callback_variant_waits_for_a_task_token_on_each_job(values):
    definition = asl.substitute(asl.load("pipeline_callback"), values)
    for name in ("RunEtl", "RunTrain", "RunEvaluate"):
        state = definition["States"][name]
        assert state["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
        assert state["Parameters"]["Payload"]["job_parameters"]["task_token.$"] == "$$.Task.Token"
        assert state["TimeoutSeconds"] > 0


def test_mermaid_export_draws_every_state_and_edge(pipeline):
    text = pipeline.to_mermaid()
    assert text.startswith("flowchart TD\n")
    for name in pipeline.states:
        assert f"s_{name}" in text
    assert 's_IsEtlDone -->|"rule 0"| s_WaitEtl' in text
    assert 's_StartEtl -.->|"catch: States.ALL"| s_NotifyFailure' in text
    assert text.count("-->") + text.count("-.->") == len(pipeline.edges)


def test_mermaid_draws_a_map_body_as_a_subgraph(values):
    text = Graph.from_definition(asl.substitute(asl.load("pipeline_map"), values)).to_mermaid()
    assert 'subgraph s_ProcessFiles_body["ProcessFiles (Map)"]' in text
