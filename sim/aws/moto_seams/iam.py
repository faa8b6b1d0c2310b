"""IAM, optionally enforced: every request a simulator serves is authenticated and its identity-based
policies evaluated, per simulator (`SeamHost.enforce_iam`), as AWS does.

moto can evaluate IAM policies, but only process-wide (`INITIAL_NO_AUTH_ACTION_COUNT`) and with gaps
this seam fills for the services the pipeline uses:

- it decides per request, for the simulator serving it, so one simulator can enforce while another
  beside it in the process does not;
- the resource a policy's `Resource` is matched against: moto knows it for S3, SQS, IAM and STS only
  and matches every other call against `*`, so a least-privilege policy naming its topic, secret,
  function or state machine would never allow anything. Here Lambda, SNS, Secrets Manager and Step
  Functions calls are matched against the ARN they act on (Service Authorization Reference);
- the IAM action where it differs from the API operation (`Invoke` is `lambda:InvokeFunction`);
- the refusal as AWS words and shapes it: `User: <principal> is not authorized to perform: <action> on
  resource: <arn> because no identity-based policy allows the <action> action` (IAM user guide,
  "Troubleshoot access denied error messages"), with each protocol's error code (`AccessDeniedException`
  for the JSON services, `AuthorizationError` for SNS, `AccessDenied` for S3 and the other query
  services) where moto answered every JSON service with an XML body botocore could not read.

- the decision itself: identity-based policies with the resource's own policy (S3 bucket policy, Lambda
  function policy) and their `Condition`s, evaluated by `sim.aws.iam_policies` (moto ignored bucket policy
  principals and knew one condition operator).

Not evaluated (documented in docs/iam.md): other resource-based policies, permission boundaries, SCPs and
session policies.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from moto.awslambda.exceptions import InvalidParameterValueException
from moto.awslambda.models import LambdaStorage
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import JsonRESTError, _RESTError
from moto.iam.access_control import IAMPolicy, IAMRequest, PermissionResult, S3IAMRequest
from moto.iam.models import AccessKey, iam_backends
from moto.s3.exceptions import S3AccessDeniedError
from moto.s3.models import FakeBucket
from moto.sts.models import sts_backends

from sim import clock
from sim.aws.iam_policies import Caller, Decision, combine, evaluate
from sim.aws.moto_seams import aws_faults, core
from sim.aws.moto_seams.core import Seam, register

__all__ = ["ADMIN_USER", "RoleCredentials", "assume_role", "denied_message", "install_admin", "role_allows",
           "trusts_service"]

ADMIN_USER = "stepbricks-admin"
_ORIGINAL_AUTHORIZE = ActionAuthenticatorMixin._authenticate_and_authorize_action
_ORIGINAL_PUT_FUNCTION = LambdaStorage.put_function
_ORIGINAL_BUCKET_PERMISSION = FakeBucket.get_permission
_ADMIN_POLICY = json.dumps({"Version": "2012-10-17",
                            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
# API operation -> IAM action where they differ (Service Authorization Reference).
_IAM_ACTIONS = {("lambda", "Invoke"): "InvokeFunction", ("lambda", "Invoke20150331"): "InvokeFunction"}
# How a service names a refusal, where it is not AccessDeniedException (JSON) / AccessDenied (query).
_DENIED_CODES = {"sns": "AuthorizationError"}


# -- identities -----------------------------------------------------------------------------------

def install_admin(account_id: str, access_key_id: str, secret_access_key: str) -> str:
    """Make `access_key_id` the key of an IAM user allowed everything in `account_id` (the deploying user's
    credentials on AWS): the simulator's own clients, the harness and the clusters keep working while
    every Lambda and state machine runs with its role. Returns the user's ARN."""
    backend = iam_backends[account_id]["aws"]
    try:
        user = backend.get_user(ADMIN_USER)
    except Exception:
        user = backend.create_user("us-east-1", ADMIN_USER)
    backend.put_user_policy(ADMIN_USER, "AdministratorAccess", _ADMIN_POLICY)
    if not any(k.access_key_id == access_key_id for k in user.access_keys):
        key = AccessKey(ADMIN_USER, prefix="AKIA", account_id=account_id)
        key.access_key_id, key.secret_access_key = access_key_id, secret_access_key
        user.access_keys.append(key)
    return str(user.arn)


class RoleCredentials(dict):
    """AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN of an assumed role."""


def assume_role(role_arn: str, session_name: str, *, region: str = "us-east-1",
                duration_s: int = 43200) -> RoleCredentials:
    """Temporary credentials of `role_arn`, as a service principal (Lambda, Step Functions) gets them:
    through STS, without the caller's own permissions being checked (the trust policy names the service).
    The assumed-role ARN is `arn:aws:sts::<account>:assumed-role/<role name>/<session_name>`."""
    account = role_arn.split(":")[4]
    assumed = sts_backends[account]["aws"].assume_role(
        region_name=region, role_session_name=session_name[:64], role_arn=role_arn, policy="",
        duration=duration_s, external_id="")
    return RoleCredentials(AWS_ACCESS_KEY_ID=assumed.access_key_id,
                           AWS_SECRET_ACCESS_KEY=assumed.secret_access_key,
                           AWS_SESSION_TOKEN=assumed.session_token)


def role_allows(role_arn: str, action: str, resource: str) -> bool:
    """Whether the role's identity-based policies allow `action` on `resource` (what a service acting with
    the role, like Lambda writing the function's logs, is allowed; no request to sign)."""
    account, name = role_arn.split(":")[4], role_arn.rsplit("/", 1)[-1]
    backend = iam_backends[account]["aws"]
    try:
        policies: list[Any] = [backend.get_role_policy(name, p)[1] for p in backend.list_role_policies(name)]
        policies += backend.list_attached_role_policies(name)[0]
    except Exception:  # the role is gone: nothing is allowed
        return False
    return combine(evaluate(IAMPolicy(policy)._policy_json, action, resource, {})
                   for policy in policies) is Decision.ALLOW


# -- the refusal ----------------------------------------------------------------------------------

def denied_message(principal: str, action: str, resource: str, *, explicit: bool = False,
                   policy_type: str = "identity-based") -> str:
    """AWS's access denied message (IAM user guide, "Troubleshoot access denied error messages"; S3 user
    guide, "Access denied message examples": `... with an explicit deny in a resource-based policy` for a
    bucket policy's Deny)."""
    service, _, name = action.partition(":")
    if service == "sns":
        action = f"SNS:{name}"  # SNS spells its own prefix in upper case in these messages
    shown = f'"{resource}"' if service == "s3" else resource
    on = f" on resource: {shown}" if resource and resource != "*" else ""
    why = (f"with an explicit deny in an {policy_type} policy" if policy_type.startswith(("a", "e", "i", "o", "u"))
           else f"with an explicit deny in a {policy_type} policy") if explicit else (
        f"because no identity-based policy allows the {action} action")
    return f"User: {principal} is not authorized to perform: {action}{on} {why}"


class _S3Denied(S3AccessDeniedError):
    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message


class _QueryDenied(_RESTError):
    code = 403


class _JsonDenied(JsonRESTError):
    code = 403


def _refuse(service: str, message: str) -> Exception:
    if service == "s3":
        return _S3Denied(message)
    if aws_faults.protocol(service) == "query":
        return _QueryDenied(_DENIED_CODES.get(service, "AccessDenied"), message)
    return _JsonDenied(_DENIED_CODES.get(service, "AccessDeniedException"), message)


def _unsigned(service: str) -> Exception:
    """A request with no signature at all: S3 answers Access Denied, the others a missing token."""
    if service == "s3":
        return _S3Denied("Access Denied")
    if aws_faults.protocol(service) == "query":
        return _QueryDenied("MissingAuthenticationToken", "Request is missing Authentication Token")
    return _JsonDenied("MissingAuthenticationTokenException", "Missing Authentication Token")


# -- the decision ---------------------------------------------------------------------------------

def _check(request: Any, resource: str, context: dict[str, Any] | None = None,
           resource_policy: str | None = None) -> None:
    """moto's `check_action_permitted` rewritten after the IAM user guide's "Policy evaluation logic" for one
    account: an explicit deny in the identity-based policies or in the resource's policy (S3 bucket policy,
    Lambda function policy) refuses; else an allow in either permits; each refusal with AWS's message."""
    action = request._action
    if action == "sts:GetCallerIdentity":  # always allowed, even under an explicit deny
        return
    context = context or {}
    principal = request._access_key.arn
    identity = combine(evaluate(IAMPolicy(policy)._policy_json, action, resource, context)
                       for policy in request._access_key.collect_policies())
    if identity is Decision.DENY:
        raise _refuse(request._service, denied_message(principal, action, resource, explicit=True))
    held = Decision.NONE
    if resource_policy:
        held = evaluate(resource_policy, action, resource, context, caller_of(request._access_key))
        if held is Decision.DENY:
            raise _refuse(request._service, denied_message(principal, action, resource, explicit=True,
                                                           policy_type="resource-based"))
    permitted = Decision.ALLOW in (identity, held)
    if permitted and request._is_assuming_role_operation(resource):
        permitted = request._check_role_trust_relationship(resource)
    if not permitted:
        raise _refuse(request._service, denied_message(principal, action, resource))


def caller_of(access_key: Any) -> Caller:
    """The principal a resource-based policy names for this key: the user, or the assumed role's session
    and the role itself."""
    arn, account = str(access_key.arn), str(access_key.account_id)
    role = getattr(access_key, "_owner_role_name", None)
    return Caller(arn=arn, account=account, role_arn=f"arn:aws:iam::{account}:role/{role}" if role else "")


def _credential_scope(headers: Any) -> tuple[str, str] | None:
    """(region, signing name) from a SigV4 Authorization header."""
    auth = headers.get("Authorization") or ""
    scope = auth.partition("Credential=")[2].partition(",")[0].split("/")
    return (scope[2], scope[3]) if len(scope) >= 5 else None


def _authorize(self: Any, iam_request_cls: type, resource: str = "*") -> None:
    """Replaces `ActionAuthenticatorMixin._authenticate_and_authorize_action`.

    Restores: a simulator started with `enforce_iam` authenticates every request it serves (SigV4 against
    the IAM user's or assumed role's secret) and allows it only when an identity-based policy does, matched
    against the resource the call acts on; without it, moto's process-wide switch decides as before."""
    host = core.current_host()
    if host is None or not host.enforce_iam:
        return _ORIGINAL_AUTHORIZE(self, iam_request_cls, resource)
    if self.headers.get("X-Amz-Target") in ActionAuthenticatorMixin.PUBLIC_OPERATIONS:
        return None
    scope = _credential_scope(self.headers)
    if scope is None:
        if "X-Amz-Credential" in (urlparse(self.uri).query or ""):
            return None  # a presigned URL: moto cannot verify query signatures (docs/iam.md)
        raise _unsigned(getattr(self, "service_name", "") or "")
    region, service = scope
    operation = self._get_action()
    path = self.raw_path + (f"?{urlparse(self.uri).query}" if urlparse(self.uri).query else "")
    if iam_request_cls is IAMRequest and resource == "*":
        resource = _resource(self, service, operation, region)
    request = iam_request_cls(account_id=self.current_account, method=self.method, path=path, data=self.data,
                              body=self.raw_body, headers=self.headers,
                              action=_IAM_ACTIONS.get((service, operation), operation))
    form = "x-www-form-urlencoded" in (self.headers.get("Content-Type") or "")
    if not self.raw_body and not form and iam_request_cls is IAMRequest:
        request._data = {}  # moto signed a bodiless request's parsed parameters as its body (Lambda Invoke)
    request.check_signature()
    _check(request, resource, request_context(self, request, service, region), _resource_policy(service, resource, self.current_account))
    return None


def request_context(response: Any, request: Any, service: str, region: str) -> dict[str, Any]:
    """The condition keys of a request (IAM user guide, "AWS global condition context keys"; S3's
    `s3:prefix`, `s3:delimiter`, `s3:max-keys` of ListObjects, "Actions, resources, and condition keys
    for Amazon S3")."""
    key = request._access_key
    role = getattr(key, "_owner_role_name", None)
    account = str(key.account_id)
    context: dict[str, Any] = {
        "aws:PrincipalArn": f"arn:aws:iam::{account}:role/{role}" if role else str(key.arn),
        "aws:PrincipalAccount": account, "aws:PrincipalType": "AssumedRole" if role else "User",
        "aws:RequestedRegion": region, "aws:SecureTransport": False,
        "aws:SourceIp": "127.0.0.1",  # every caller reaches the simulator on the loopback interface
        "aws:CurrentTime": clock.utcnow().strftime("%Y-%m-%dT%H:%M:%SZ"), "aws:EpochTime": str(int(clock.now())),
    }
    if not role:
        context["aws:username"] = str(key.arn).rsplit("/", 1)[-1]
    if service == "s3":
        query = parse_qs(urlparse(response.uri).query, keep_blank_values=True)
        for name in ("prefix", "delimiter", "max-keys"):
            if name in query:
                context[f"s3:{name}"] = query[name][0]
    return context


def _resource_policy(service: str, resource: str, account: str) -> str | None:
    """The resource-based policy of what a request acts on: an S3 bucket's policy, a Lambda function's
    (AddPermission statements). None where there is none."""
    try:
        if service == "s3" and resource.startswith("arn:aws:s3:::"):
            from moto.s3.models import s3_backends

            bucket_name = resource[len("arn:aws:s3:::"):].split("/", 1)[0]
            bucket = s3_backends[account]["aws"].buckets.get(bucket_name)
            policy = getattr(bucket, "policy", None)
            return policy.decode() if isinstance(policy, bytes) else policy
        if service == "lambda" and ":function:" in resource:
            from moto.awslambda.utils import get_backend as lambda_backend

            parts = resource.split(":")
            function = lambda_backend(parts[4], parts[3]).get_function(parts[6])
            statements = function.policy.statements
            return json.dumps({"Version": "2012-10-17", "Statement": statements}) if statements else None
    except Exception:
        return None
    return None


def _param(response: Any, name: str) -> str | None:
    try:
        value = response._get_param(name)
    except Exception:
        value = None
    return str(value) if value else None


def _resource(response: Any, service: str, operation: str, region: str) -> str:
    """The ARN a Lambda, SNS, Secrets Manager or Step Functions call acts on ("*" when it acts on none)."""
    account = response.current_account
    if service == "lambda":
        parts = unquote(response.raw_path).split("/")
        if len(parts) > 3 and parts[2] == "functions":
            name = parts[3]
            if not name.startswith("arn:"):
                name = f"arn:aws:lambda:{region}:{account}:function:{name}"
            qualifier = (response.querystring.get("Qualifier") or [None])[0]
            return f"{name}:{qualifier}" if qualifier and name.count(":") == 6 else name
        return "*"
    if service == "sns":
        return _param(response, "TopicArn") or _param(response, "TargetArn") or "*"
    if service == "secretsmanager":
        secret_id = _param(response, "SecretId")
        return _secret_arn(secret_id, account, region) if secret_id else "*"
    if service == "states":
        for name in ("stateMachineArn", "executionArn", "activityArn", "mapRunArn", "resourceArn"):
            value = _param(response, name)
            if value:
                return value
    return "*"


def _secret_arn(secret_id: str, account: str, region: str) -> str:
    if secret_id.startswith("arn:"):
        return secret_id
    from moto.secretsmanager.models import secretsmanager_backends

    try:
        secret = secretsmanager_backends[account][region].secrets.get(secret_id)
    except Exception:
        secret = None
    arn = getattr(secret, "arn", None)
    return str(arn) if arn else f"arn:aws:secretsmanager:{region}:{account}:secret:{secret_id}"


def trusts_service(trust_policy: Any, service: str) -> bool:
    """Whether a role's trust policy lets `service` (e.g. lambda.amazonaws.com) call sts:AssumeRole."""
    document = json.loads(trust_policy) if isinstance(trust_policy, str) else (trust_policy or {})
    statements = document.get("Statement") or []
    allowed = False
    for statement in statements if isinstance(statements, list) else [statements]:
        actions = statement.get("Action") or []
        actions = [actions] if isinstance(actions, str) else actions
        services = (statement.get("Principal") or {}).get("Service") if isinstance(statement.get("Principal"),
                                                                                    dict) else None
        services = [services] if isinstance(services, str) else (services or [])
        if service in services and any(a.lower() in ("sts:assumerole", "sts:*", "*") for a in actions):
            if statement.get("Effect") == "Deny":
                return False
            allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def _put_function(self: LambdaStorage, fn: Any) -> None:
    """Wraps `LambdaStorage.put_function` (CreateFunction, PublishVersion).

    Restores: with IAM enforced, CreateFunction refuses a role whose trust policy does not let Lambda
    assume it, with AWS's InvalidParameterValueException "The role defined for the function cannot be
    assumed by Lambda." (moto only checks that the role exists)."""
    host = core.host_for_account(str(fn.account_id))
    if host is not None and host.enforce_iam:
        try:
            role = iam_backends[fn.account_id]["aws"].get_role_by_arn(fn.role)
        except Exception:
            role = None  # moto's own check answers a missing role
        if role is not None and not trusts_service(role.assume_role_policy_document, "lambda.amazonaws.com"):
            raise InvalidParameterValueException("The role defined for the function cannot be assumed by Lambda.")
    _ORIGINAL_PUT_FUNCTION(self, fn)


def _bucket_permission(self: FakeBucket, action: str, resource: str) -> Any:
    """Wraps `FakeBucket.get_permission`.

    Restores: with IAM enforced, a bucket policy is evaluated with the rest of the request's policies
    (`_check`: its `Principal` matched against the caller, its Conditions against the request), so a Deny
    naming one role refuses that role only, with S3's AccessDenied message; moto applied every Deny to every
    caller, whatever its Principal, and answered 403 with an empty body."""
    host = core.current_host()
    if host is not None and host.enforce_iam:
        return PermissionResult.NEUTRAL
    return _ORIGINAL_BUCKET_PERMISSION(self, action, resource)


register(
    [(ActionAuthenticatorMixin, "_authenticate_and_authorize_action", _authorize),
     (LambdaStorage, "put_function", _put_function),
     (FakeBucket, "get_permission", _bucket_permission)],
    [
        Seam(ActionAuthenticatorMixin, "_authenticate_and_authorize_action", ("self", "iam_request_cls", "resource"),
             _authorize.__doc__ or "",
             proved_by="tests/sim/aws/test_iam_enforcement.py::test_a_call_no_policy_allows_fails_with_the_services_access_denied"),
        Seam(FakeBucket, "get_permission", ("self", "action", "resource"), _bucket_permission.__doc__ or "",
             proved_by="tests/sim/aws/test_iam_enforcement.py::"
                       "test_a_bucket_policy_deny_stops_a_functions_get_object_with_s3s_access_denied"),
        Seam(LambdaStorage, "put_function", ("self", "fn"), _put_function.__doc__ or "",
             proved_by="tests/sim/aws/test_iam_enforcement.py::test_create_function_refuses_a_role_lambda_cannot_assume"),
        Seam(IAMRequest, "check_action_permitted", ("self", "resource"),
             "read, not patched: `_check` is its body, telling an explicit deny from a missing allow",
             proved_by="tests/sim/aws/test_iam_enforcement.py::test_an_explicit_deny_wins_over_an_allow"),
        Seam(S3IAMRequest, "check_signature", ("self",), "read, not patched: SigV4 verification of S3 requests",
             proved_by="tests/sim/aws/test_iam_enforcement.py::test_the_simulators_own_key_is_an_admin_user_and_an_unknown_key_is_refused"),
    ],
)
