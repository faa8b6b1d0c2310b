"""`AwsSimulator`: moto's server in-process, with the local Lambda runtime and Step Functions execution.

moto keeps its state in process-global backends. Simulators started side by side in one process are
kept apart by account: each serves its own port, and every request that reaches that port is handled
in its simulator's context (`sim.context`) and in its account (moto's `x-moto-account-id` header, which
`BaseResponse.get_current_account` reads before the access key). The first simulator of the process
uses moto's default account 123456789012; the last one to stop resets moto. Step Functions' interpreter calls Lambda back through `localhost:$MOTO_PORT`, which is
why `start()` sets `MOTO_PORT` in this process's environment.

Quirk: moto's `StartExecution` without `name` gives every execution the ARN suffix `None`, so a second
unnamed start fails with ExecutionAlreadyExists. Always pass `name=` (e.g. a uuid); the helper
`start_execution` here does.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import urllib.request
from collections.abc import Callable, Hashable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from botocore.config import Config

from sim import boto_clients
from sim import context as sim_context
from sim.aws import history_changes, moto_seams
from sim.aws.lambda_endpoint import LambdaInvokeEndpoint
from sim.aws.lambda_runtime.models import FunctionConfig
from sim.aws.lambda_runtime.runtime import AWS_ASYNC_RETRY_DELAYS_S, LambdaRuntime
from sim.aws.moto_seams import glue, s3_changes, s3_namespace, secretsmanager
from sim.aws.moto_seams import iam as iam_seams
from sim.aws.prompt_stop import stop_promptly
from sim.aws.s3_events import S3Delivery

REGION = "us-east-1"
DEFAULT_ACCOUNT_ID = "123456789012"
DUMMY_CREDENTIAL = "testing"
LAMBDA_MAX_TIMEOUT_S = 900


class AwsSimulator:
    """The AWS side of stepbricks on one loopback port. Use `AwsSimulator.start(...)` as a context manager."""

    def __init__(self, *, state_dir: Path, host: str, port: int, seed: int,
                 async_retry_delays: Sequence[float], lambda_env: Mapping[str, str] | None = None,
                 context: sim_context.SimContext | None = None, account_id: str = DEFAULT_ACCOUNT_ID,
                 enforce_iam: bool = False, auxiliary: bool = False) -> None:
        self.context = context or sim_context.current()
        self.account_id = account_id
        self.enforce_iam = enforce_iam
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        # werkzeug logs every request to stderr at INFO; the simulator is quiet unless something fails.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        # moto's interpreter logs every failing state (a Catch path, a Fail state) at ERROR with the whole
        # parse tree; the failure is in the execution history already. STEPBRICKS_DEBUG=1 keeps it.
        if not os.environ.get("STEPBRICKS_DEBUG"):
            logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
        self._server = moto_seams.ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self._server.start()
        bound_host, bound_port = self._server.get_host_and_port()
        self.port = bound_port
        self.endpoint = f"http://{bound_host}:{bound_port}"
        self.env: dict[str, str] = {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": DUMMY_CREDENTIAL,
            "AWS_SECRET_ACCESS_KEY": DUMMY_CREDENTIAL,
            "AWS_DEFAULT_REGION": REGION,
        }
        # Glue job runs keep their scripts and Spark worker under this simulator's state directory (the
        # process's Glue service is the simulators', never an auxiliary server's).
        if not auxiliary:
            glue.configure(state_dir=self.state_dir / "glue", base_env=dict(self.env))
        self._lock = threading.Lock()
        self._sns: list[dict[str, Any]] = []
        self._s3_deliveries: list[S3Delivery] = []
        self.runtime = LambdaRuntime(
            state_dir=self.state_dir, base_env={**self.env, **(lambda_env or {})},
            log_sink=self._deliver_logs,
            async_retry_delays=async_retry_delays, seed=seed,
            credentials=self._execution_role_credentials if enforce_iam else None,
        )
        if enforce_iam:  # the simulator's own key is the deploying user's: allowed everything
            iam_seams.install_admin(self.account_id, DUMMY_CREDENTIAL, DUMMY_CREDENTIAL)
        self._host = moto_seams.SeamHost(self.runtime, self._record_s3_delivery, self._record_sns,
                                         context=self.context, port=bound_port, account_id=self.account_id,
                                         enforce_iam=enforce_iam, auxiliary=auxiliary)
        moto_seams.wrap_server_app(self._server, self._bind_requests)  # before the first request it serves
        self._previous_moto_port = os.environ.get("MOTO_PORT")
        os.environ["MOTO_PORT"] = str(bound_port)
        moto_seams.install(self._host)
        # moto's own ids (request ids, version ids, ...) come from its process-wide `mock_random`: seeded
        # here, they repeat from flight to flight. Two simulators side by side share that one stream, so only
        # the first seeds it: re-seeding rewound it under the other, whose next IAM role then drew the role
        # id of one it already had and replaced it ("The role defined for the function cannot be assumed").
        # An auxiliary server (the TestState fixture's, alive for a test module) neither seeds it nor
        # stops a simulator started after it from seeding it, so that one's flights replay as they would alone.
        if not auxiliary and moto_seams.seeding_hosts() == 1:
            self._post_moto_api(f"/moto-api/seed?a={seed}", None)
        self._post_moto_api("/moto-api/config", {"stepfunctions": {"execute_state_machine": True}})
        self._stopped = False
        # moto serves Invoke too, but only to signed requests; this endpoint (Step Functions Local's
        # LAMBDA_ENDPOINT) also takes unsigned ones and forwards them through the same Lambda API.
        self._invoke_endpoint = LambdaInvokeEndpoint(self._lambda_client, host=host)
        self.lambda_invoke_endpoint = self._invoke_endpoint.url

    @classmethod
    def start(
        cls,
        *,
        state_dir: Path,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int | None = None,
        async_retry_delays: Sequence[float] = AWS_ASYNC_RETRY_DELAYS_S,
        lambda_env: Mapping[str, str] | None = None,
        context: sim_context.SimContext | None = None,
        account_id: str = DEFAULT_ACCOUNT_ID,
        enforce_iam: bool = False,
        auxiliary: bool = False,
    ) -> AwsSimulator:
        """Start moto on `host:port` (0 = a free port) with Lambda and Step Functions really executing.

        `async_retry_delays` are the waits between retries of failed asynchronous invocations (AWS:
        about 60 s then 120 s); tests on the real clock pass small ones.

        `lambda_env` is laid over `env` in every function's environment, for a stack whose functions
        must reach other endpoints than this simulator (docker/serve.py routes them to LocalStack and
        Step Functions Local). It is fixed at start, so no warm worker runs with an older base; a
        function's own Environment and Lambda's reserved variables (AWS_REGION, ...) still win over it.

        `context` is the simulator context it works in (default: the calling thread's); `seed` defaults to
        the context's. `account_id` is the AWS account every request to this server is served in.

        `enforce_iam=True` evaluates IAM policies on every request (`sim.aws.moto_seams.iam`, docs/iam.md):
        each Lambda execution environment gets its execution role's temporary credentials, Step Functions
        calls services with the state machine's role, and `env`'s key is an IAM user allowed everything
        (the deploying user); a call its identity's policies do not allow fails with AWS's AccessDenied.

        `auxiliary=True` is a helper server beside the simulators (the pytest plugin's TestState server): it
        does not seed moto's process-wide id stream, nor keep a simulator started later from seeding it,
        and does not configure the process's Glue service.
        """
        ctx = context or sim_context.current()
        return cls(state_dir=state_dir, host=host, port=port, seed=ctx.seed if seed is None else seed,
                   async_retry_delays=async_retry_delays, lambda_env=lambda_env, context=ctx, account_id=account_id,
                   enforce_iam=enforce_iam, auxiliary=auxiliary)

    def __enter__(self) -> AwsSimulator:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop workers and the server; the last simulator of the process also resets moto's state."""
        if self._stopped:
            return
        self._stopped = True
        self._invoke_endpoint.stop()
        self.runtime.close()
        moto_seams.uninstall(self._host)
        if moto_seams.seeding_hosts() == 0:
            # Its Spark worker and endpoint are the last simulator's: an auxiliary server (the TestState
            # fixture's, alive for a test module) never owns it, so it must not keep a stopped simulator's alive.
            glue.shutdown()
        if moto_seams.running_hosts() == 0:
            self._post_moto_api("/moto-api/reset", None)
            s3_namespace.clear()  # moto's reset popped names in this server's account only
        elif self.account_id not in moto_seams.accounts_in_use():
            moto_seams.reset_account(self.account_id)  # others run on: clear only what was this one's
        stop_promptly(self._server.stop, self._server.get_host_and_port())
        if os.environ.get("MOTO_PORT") == str(self.port):
            if self._previous_moto_port is None:
                os.environ.pop("MOTO_PORT", None)
            else:
                os.environ["MOTO_PORT"] = self._previous_moto_port

    # -- observations -------------------------------------------------------------------------------

    def sns_messages(self, topic_arn: str | None = None) -> list[dict[str, Any]]:
        """Everything published to SNS (topic_arn, message_id, subject, message, attributes, timestamp)."""
        with self._lock:
            return [dict(m) for m in self._sns if topic_arn is None or m["topic_arn"] == topic_arn]

    def history_waiter(self) -> Callable[[float], None]:
        """A `time.sleep` for a follower of this simulator's executions that returns early once any execution's
        history grew since it last returned (sim/aws/history_changes.py): `stepbricks run` answered 0-0.5 s
        after its flight ended, waiting for its next poll. Its polls stay GetExecutionHistory calls, as on AWS."""
        changes = history_changes.of(self.context)
        seen = changes.generation()

        def sleep(seconds: float) -> None:
            nonlocal seen
            seen = changes.wait_past(seen, seconds)

        return sleep

    def lambda_logs(self, function_name: str) -> list[str]:
        """The function's log lines (INIT_START/START/END/REPORT and its own output), oldest first."""
        return self.runtime.logs(function_name)

    def s3_deliveries(self, bucket: str | None = None) -> list[S3Delivery]:
        """S3 → Lambda notifications sent so far, with the outcome of each attempt."""
        with self._lock:
            return [d for d in self._s3_deliveries if bucket is None or d.bucket == bucket]

    def s3_changes(self, bucket: str) -> Hashable | None:
        """A token that is equal between two calls only if the bucket's objects (keys, ETags) did not change in
        between; None when the bucket does not exist. Lets a poller of this S3 skip a listing it has."""
        return s3_changes.token(self.account_id, bucket)

    def wait_for_async(self, timeout_s: float = 30.0) -> bool:
        """Wait until queued Event invocations (S3 notifications included) have finished their retries."""
        return self.runtime.wait_for_async(timeout_s)

    # -- conveniences for the CLI and tests ---------------------------------------------------------------

    def store_secret(self, name: str, value: str, *, description: str = "") -> str:
        """Create or update a Secrets Manager secret in this simulator's account and region, in-process (the
        CLI's own bootstrap secrets); its ARN. Clients read it as any other secret."""
        return secretsmanager.store_secret(self.account_id, REGION, name, value, description)

    def client(self, service: str, **config: Any) -> Any:
        """A boto3 client for `service` pointed at this simulator."""
        return boto_clients.client(
            service, endpoint_url=self.endpoint, region_name=REGION, aws_access_key_id=DUMMY_CREDENTIAL,
            aws_secret_access_key=DUMMY_CREDENTIAL, config=Config(**config) if config else None,
        )

    def invoke(self, function_name: str, payload: Any = None, *, invocation_type: str = "RequestResponse",
               qualifier: str | None = None) -> dict[str, Any]:
        """Invoke through the Lambda API: StatusCode, FunctionError, Payload (parsed JSON), LogResult."""
        kwargs: dict[str, Any] = {"FunctionName": function_name, "InvocationType": invocation_type,
                                  "Payload": json.dumps(payload if payload is not None else {}).encode(),
                                  "LogType": "Tail" if invocation_type == "RequestResponse" else "None"}
        if qualifier:
            kwargs["Qualifier"] = qualifier
        response = self._lambda_client().invoke(**kwargs)
        raw = response["Payload"].read()
        try:
            parsed: Any = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode("utf-8", "replace")
        return {"StatusCode": response["StatusCode"], "FunctionError": response.get("FunctionError"),
                "Payload": parsed, "LogResult": response.get("LogResult"),
                "ExecutedVersion": response.get("ExecutedVersion")}

    def start_execution(self, state_machine_arn: str, input: Any = None, *, name: str | None = None) -> str:
        """StartExecution, always with a name (see the module docstring); returns the execution ARN."""
        response = self.client("stepfunctions").start_execution(
            stateMachineArn=state_machine_arn, name=name or self.context.ids.uuid("execution"),
            input=json.dumps(input if input is not None else {}),
        )
        return response["executionArn"]

    # -- internals ---------------------------------------------------------------------------------------

    def _bind_requests(self, app: Any) -> Any:
        """moto's app, serving each request in this simulator's context and account."""
        account = self.account_id

        def in_account(environ: dict[str, Any], start_response: Any) -> Any:
            if account != DEFAULT_ACCOUNT_ID:
                environ.setdefault("HTTP_X_MOTO_ACCOUNT_ID", account)
            return app(environ, start_response)

        return self.context.wsgi(moto_seams.serving(self._host, in_account))

    def _deliver_logs(self, config: FunctionConfig, log_stream: str, events: list[Any]) -> None:
        """A function's log lines to CloudWatch Logs; with IAM enforced only when its role may write them
        (`logs:CreateLogStream` and `logs:PutLogEvents` on its stream): Lambda drops them otherwise."""
        if self.enforce_iam:
            stream = (f"arn:aws:logs:{config.region}:{config.account_id}:log-group:{config.log_group}"
                      f":log-stream:{log_stream}")
            if not all(iam_seams.role_allows(config.role, action, stream)
                       for action in ("logs:CreateLogStream", "logs:PutLogEvents")):
                return
        moto_seams.deliver_lambda_logs(config, log_stream, events)

    def _execution_role_credentials(self, config: FunctionConfig) -> dict[str, str]:
        """A new execution environment's credentials: its function's role assumed through STS, the session
        named after the function (`assumed-role/<role>/<function>`, as Lambda names it)."""
        return iam_seams.assume_role(config.role, config.name, region=config.region)

    def _lambda_client(self) -> Any:
        # No client-side retries (a 429 must reach the caller) and room for a 900 s function timeout.
        return self.client("lambda", retries={"max_attempts": 0}, read_timeout=LAMBDA_MAX_TIMEOUT_S + 5)

    def _record_s3_delivery(self, delivery: S3Delivery) -> None:
        with self._lock:
            self._s3_deliveries.append(delivery)

    def _record_sns(self, message: dict[str, Any]) -> None:
        with self._lock:
            self._sns.append(message)

    def _post_moto_api(self, path: str, body: dict[str, Any] | None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        request = urllib.request.Request(self.endpoint + path, data=data, method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()
