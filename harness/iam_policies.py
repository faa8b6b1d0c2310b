"""The least-privilege permission policies of the reference pipeline's roles.

Each Lambda has its own role allowing exactly the calls its code makes (read from `lambdas/`), on the
resources this deployment names; the state machines' role may invoke the pipeline's functions and, for
the HTTP variant, call the workspace through the EventBridge connection. Every function also gets what
AWS's `AWSLambdaBasicExecutionRole` grants, scoped to its own log group, or Lambda could not write its
logs. With `stepbricks run --enforce-iam` the simulator evaluates these policies as AWS would.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["POLICY_NAME", "function_statements", "policy_document", "state_machine_statements"]

POLICY_NAME = "stepbricks-least-privilege"


def policy_document(statements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": statements}


def _allow(sid: str, actions: list[str], resources: list[str]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}


def _logs(region: str, account: str, function_name: str) -> list[dict[str, Any]]:
    """AWSLambdaBasicExecutionRole, scoped to the function's own log group (as the console creates it)."""
    group = f"arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{function_name}"
    return [_allow("CreateLogGroup", ["logs:CreateLogGroup"], [f"arn:aws:logs:{region}:{account}:*"]),
            _allow("WriteOwnLogs", ["logs:CreateLogStream", "logs:PutLogEvents"], [f"{group}:*"])]


def function_statements(key: str, *, region: str, account: str, function_name: str,
                        buckets: Mapping[str, str], secret_arn: str, topic_arn: str,
                        state_machine_arns: list[str]) -> list[dict[str, Any]]:
    """What function `key` (a `harness.deploy.FUNCTIONS` key) calls, and nothing else."""
    raw = buckets["raw"]
    own: dict[str, list[dict[str, Any]]] = {
        # validate_file.py: s3.get_object on the uploaded object (S3 events name the raw bucket)
        "validate-file": [_allow("ReadUploads", ["s3:GetObject"], [f"arn:aws:s3:::{raw}/*"])],
        # list_files.py: s3 ListObjectsV2 under a prefix of the raw bucket
        "list-files": [_allow("ListUploads", ["s3:ListBucket"], [f"arn:aws:s3:::{raw}"])],
        # _databricks.py via _secrets.py: the workspace token
        "start-databricks-job": [_allow("ReadWorkspaceToken", ["secretsmanager:GetSecretValue"], [secret_arn])],
        "check-databricks-job": [_allow("ReadWorkspaceToken", ["secretsmanager:GetSecretValue"], [secret_arn])],
        # send_notification.py: sns.publish to the pipeline's topic
        "send-notification": [_allow("Notify", ["sns:Publish"], [topic_arn])],
        # trigger_pipeline.py: states.start_execution of whichever variant the trigger points at
        "trigger-pipeline": [_allow("StartPipeline", ["states:StartExecution"], list(state_machine_arns))],
    }
    return [*own[key], *_logs(region, account, function_name)]


MAP_RESULTS_PREFIX = "map-runs"  # where the Map variant's ResultWriter writes (asl/definitions/pipeline_map)


def state_machine_statements(*, region: str, account: str, function_arns: list[str], state_machine_arns: list[str],
                             connection_arn: str, buckets: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """The state machines invoke the pipeline's functions (any version or alias); the HTTP variant's HTTP
    Tasks need the three permissions the Step Functions guide lists for them ("Call HTTPS APIs"); the Map
    variant's Distributed Map lists the uploads (ItemReader, `s3:ListBucket`) and writes its results
    (ResultWriter: the guide's "IAM policies for ResultWriter" actions on the results prefix)."""
    map_io = [] if buckets is None else [
        _allow("MapReadsUploads", ["s3:ListBucket"], [f"arn:aws:s3:::{buckets['raw']}"]),
        _allow("MapWritesResults", ["s3:PutObject", "s3:GetObject", "s3:ListMultipartUploadParts",
                                    "s3:AbortMultipartUpload"],
               [f"arn:aws:s3:::{buckets['results']}/{MAP_RESULTS_PREFIX}/*"]),
    ]  # fmt: skip
    return [
        _allow("InvokePipelineFunctions", ["lambda:InvokeFunction"],
               [*function_arns, *(f"{arn}:*" for arn in function_arns)]),
        _allow("HttpTaskInvoke", ["states:InvokeHTTPEndpoint"], list(state_machine_arns)),
        _allow("HttpTaskConnection", ["events:RetrieveConnectionCredentials"], [connection_arn]),
        _allow("HttpTaskConnectionSecret", ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
               [f"arn:aws:secretsmanager:{region}:{account}:secret:events!connection/*"]),
        *map_io,
    ]
