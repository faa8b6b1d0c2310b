"""Where stepbricks talks to a LocalStack endpoint (the docker backend, `stepbricks doctor`), its clients are
built through localstack-client's session from `LOCALSTACK_HOST`, as LocalStack users build theirs. The
embedded simulator poses as the LocalStack edge here: no Docker engine runs on CI machines."""

from __future__ import annotations

import pytest

from harness.backends import DockerPorts, docker_env
from harness.clients import aws_client, endpoint_for
from harness.doctor import diagnose

AWS_CHECKS = {"credentials (STS)", "S3 buckets CRUD", "SNS publish", "SQS send/receive", "Secrets Manager",
              "IAM roles", "Lambda create + invoke", "Step Functions create + execute"}


@pytest.fixture
def localstack_env(stepbricks, monkeypatch):
    """The session simulator's moto server, named only as LocalStack users name their edge."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)  # localstack-client lets a process-wide one win
    edge = stepbricks.env["AWS_ENDPOINT_URL"].split("://", 1)[1]
    aws_keys = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")
    env = {k: v for k, v in stepbricks.env.items() if not k.startswith("AWS_ENDPOINT_URL")}
    return {**env, **{k: stepbricks.env.get(k, "test") for k in aws_keys}, "LOCALSTACK_HOST": edge}


def test_clients_are_built_by_localstack_clients_session_from_localstack_host(localstack_env, monkeypatch):
    built = []
    import localstack_client.session as ls

    original = ls.Session.client
    monkeypatch.setattr(ls.Session, "client", lambda self, name, **kw: built.append(name) or original(self, name, **kw))

    s3 = aws_client("s3", localstack_env)
    s3.create_bucket(Bucket="via-localstack-client")

    assert built == ["s3"]
    assert s3.meta.endpoint_url == f"http://{localstack_env['LOCALSTACK_HOST']}"
    assert "via-localstack-client" in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_the_doctor_passes_every_aws_check_through_the_localstack_edge(localstack_env):
    results = {r.check: r for r in diagnose(localstack_env)}
    assert [(c, results[c].detail) for c in AWS_CHECKS if not results[c].ok] == []
    assert all(results[c].endpoint == f"http://{localstack_env['LOCALSTACK_HOST']}" for c in AWS_CHECKS
               if results[c].endpoint)  # fmt: skip


def test_the_docker_backend_names_localstack_by_its_edge_and_routed_apis_keep_their_containers():
    env = docker_env(DockerPorts(localstack=14566), environ={})
    assert env["LOCALSTACK_HOST"] == "127.0.0.1:14566"
    assert endpoint_for("sns", env) == "http://127.0.0.1:14566"  # through localstack-client
    assert endpoint_for("lambda", env) == "http://127.0.0.1:4510"  # AWS_ENDPOINT_URL_LAMBDA still wins
