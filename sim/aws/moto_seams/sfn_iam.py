"""Step Functions calls services with the state machine's execution role, when IAM is enforced.

moto's interpreter makes every service integration call (Lambda, SNS, SQS, nested executions, aws-sdk,
Map's ItemReader/ResultWriter on S3, ...) through `boto_client_for`, signed with the fixed key `ak`
whatever the role. On AWS, Step Functions assumes the state machine's role (or a Task's `Credentials`
role) and the call is allowed only if that role's policies allow it. With `enforce_iam`, each client is
signed with that role's temporary credentials (assumed once per role and simulator), so a role lacking
`lambda:InvokeFunction` fails the Task with the service's AccessDenied as on AWS; without it, moto's
client is used unchanged.

`boto_client_for` is imported by name into each module that uses it, so each gets its own row.
"""

from __future__ import annotations

import importlib
import threading
from typing import Any

from botocore.config import Config
from moto.core.models import botocore_stubber
from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds
from moto.stepfunctions.parser.asl.utils import boto_client as sfn_boto_client

from sim import boto_clients, clock
from sim import context as sim_context
from sim.aws.moto_seams import core, iam
from sim.aws.moto_seams.core import Seam, register
from sim.aws.moto_seams.sfn_express_arns import answer_express_describes

__all__ = ["USERS"]

_PARSER = "moto.stepfunctions.parser.asl.component.state"
# Every module of moto's interpreter that imported `boto_client_for` by name.
USERS = (
    f"{_PARSER}.exec.state_map.result_writer.resource_eval.resource_eval_s3",
    f"{_PARSER}.exec.state_map.item_reader.eval.resource_eval_s3",
    f"{_PARSER}.exec.state_task.lambda_eval_utils",
    *(f"{_PARSER}.exec.state_task.service.state_task_service_{name}"
      for name in ("unsupported", "glue", "events", "ecs", "sqs", "sfn", "dynamodb", "batch", "sns", "aws_sdk")),
)
_ORIGINAL = sfn_boto_client.boto_client_for
_lock = threading.Lock()


def _role_credentials(host: core.SeamHost, role_arn: str, region: str) -> dict[str, str]:
    """The role's credentials, assumed once per simulator (policies are evaluated per request anyway)."""
    ctx = host.context or sim_context.current()
    cache: dict[str, dict[str, str]] = ctx.memo("sfn-role-credentials", dict)
    with _lock:
        if role_arn not in cache:
            session = f"StepFunctions-{ctx.ids.hex('sfn-role-session', 16)}"
            cache[role_arn] = iam.assume_role(role_arn, session, region=region)
        return cache[role_arn]


def _boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    """Replaces `boto_client_for` in each module of the interpreter that calls it.

    Restores: a service integration's call is signed with the execution role's (or the Task's
    `Credentials.RoleArn`'s) temporary credentials when the simulator enforces IAM, so the role's policies
    decide it, as on AWS.
    Adds: one client per simulator, service, region and identity, kept (moto built a new boto3 client for
    every Task, several milliseconds of CPU each), whose requests lend the execution's busy claim to the
    server thread that serves them (`sim.clock.VirtualClock.lend`). Its Step Functions client can describe
    an Express child it runs under `.sync` (`sfn_express_arns.answer_express_describes`), which the API
    refuses to other callers."""
    role_arn = str(getattr(state_credentials, "role_arn", None) or "")
    # The role's account names the simulator: moto runs executions on threads nobody bound to one.
    host = core.host_for_account(role_arn.split(":")[4]) if role_arn.count(":") >= 5 else None
    if host is None or not host.enforce_iam:
        host = core.current_host()
        if host is None or botocore_stubber.enabled:  # moto in-process (mock_aws): its own client, as it makes it
            return _prepared(service, _ORIGINAL(region=region, service=service, state_credentials=state_credentials))
        return _kept(host, ("open", service, region),
                     lambda: _ORIGINAL(region=region, service=service, state_credentials=state_credentials))
    credentials = _role_credentials(host, role_arn, region)
    return _kept(host, ("role", service, region, credentials["AWS_ACCESS_KEY_ID"]),
                 lambda: _role_client(host, service, region, credentials))


def _kept(host: core.SeamHost, key: tuple[str, ...], make: Any) -> Any:
    """The simulator's client for `key` (boto3 clients are thread-safe), made once and dropped with the
    simulator (`SeamHost.part`): a client kept past its simulator would call a closed port."""
    clients: dict[tuple[Any, ...], Any] = host.part("sfn-integration-clients", dict)
    full = (host.port, *key)
    with _lock:
        client = clients.get(full)
    if client is None:
        client = _prepared(key[1], make())
        client.meta.events.register("before-send", _lend_claim, unique_id="stepbricks-clock-loan")
        with _lock:
            client = clients.setdefault(full, client)
    return client


def _prepared(service: str, client: Any) -> Any:
    if service == "stepfunctions":
        answer_express_describes(client)  # `.sync` on an Express child polls it
    return client


def _lend_claim(request: Any, **_: Any) -> None:
    """The calling execution waits for the server thread: lend it the busy claim (`clock.LOAN_HEADER`)."""
    token = clock.lend()
    if token is not None:
        request.headers[clock.LOAN_HEADER] = token


def _role_client(host: core.SeamHost, service: str, region: str, credentials: dict[str, str]) -> Any:
    return boto_clients.client(
        service, region_name=region, endpoint_url=f"http://localhost:{host.port}",
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=credentials["AWS_SESSION_TOKEN"],
        config=Config(parameter_validation=False, retries={"max_attempts": 0, "total_max_attempts": 1},
                      connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                      read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS),
    )


_MODULES = tuple(importlib.import_module(name) for name in USERS)
_IAM = "tests/sim/aws/test_iam_enforcement.py::"
_SFN = "tests/sim/aws/sfn/"
# The test of each module's row. Lambda's and SNS's run under enforcement; the others' tests only take the
# module's call through the row (enforcement off), and ECS's, Batch's, EventBridge's, the unsupported
# services' and Map's S3 reader and writer have no test of their own: theirs is the test that proves the
# shared replacement (docs/contracts.md, "The seam table").
_PROVED_BY = {
    "lambda_eval_utils": _IAM + "test_a_state_machine_calls_lambda_with_its_own_role",
    "state_task_service_sns": _IAM + "test_an_optimised_integration_publishes_with_the_machines_role",
    "state_task_service_sqs": _SFN + "test_optimised_integrations.py::test_sqs_send_message_returns_md5_message_id_and_sdk_metadata",
    "state_task_service_dynamodb": _SFN + "test_optimised_integrations.py::"
                                          "test_dynamodb_put_then_get_item_return_aws_results_with_sdk_metadata",
    "state_task_service_aws_sdk": _SFN + "test_optimised_integrations.py::test_aws_sdk_result_fields_are_capitalised_member_names",
    "state_task_service_sfn": _SFN + "test_integrations.py::test_start_execution_returns_the_childs_arn_and_start_date",
    "state_task_service_glue": "tests/sim/aws/glue/test_glue_job_runs.py::"
                               "test_start_job_run_sync_fails_the_state_with_the_job_run_as_cause",
}


def _proved_by(module: Any) -> str:
    return _PROVED_BY.get(module.__name__.rsplit(".", 1)[-1], _PROVED_BY["lambda_eval_utils"])


register(
    [(module, "boto_client_for", _boto_client_for) for module in _MODULES],
    [Seam(module, "boto_client_for", ("region", "service", "state_credentials"), _boto_client_for.__doc__ or "",
          proved_by=_proved_by(module))
     for module in _MODULES],
)
