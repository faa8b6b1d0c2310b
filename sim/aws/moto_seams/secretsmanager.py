"""Secrets Manager refuses what AWS refuses, where moto accepts it (registered with `core.register` at import);
and the simulator stores its own secrets without a client (`store_secret`)."""

from __future__ import annotations

import re
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.secretsmanager.exceptions import ValidationException
from moto.secretsmanager.models import SecretsManagerBackend, secretsmanager_backends

from sim.aws.moto_seams.core import Seam, register

__all__ = ["SECRET_NAME", "store_secret"]

# CreateSecret's Name: "The secret name can contain ASCII letters, numbers, and the following characters:
# /_+=.@-" (API reference), and "!" which AWS itself uses (EventBridge's `events!connection/…` secrets).
SECRET_NAME = re.compile(r"[A-Za-z0-9/_+=.@!-]{1,512}")
_ORIGINAL_CREATE_SECRET = SecretsManagerBackend.create_secret


def _create_secret(self: SecretsManagerBackend, name: str, *args: Any, **kwargs: Any) -> Any:
    """Wraps `SecretsManagerBackend.create_secret`.

    Restores: a name with other characters fails with ValidationException "Invalid name. Must be a valid
    name containing alphanumeric characters, or any of the following: -/_+=.@!", as recorded on AWS
    (through Step Functions' `aws-sdk:secretsmanager:createSecret`); moto created the secret.
    """
    if not SECRET_NAME.fullmatch(str(name)):
        raise ValidationException("Invalid name. Must be a valid name containing alphanumeric characters, "
                                  "or any of the following: -/_+=.@!")
    return _ORIGINAL_CREATE_SECRET(self, name, *args, **kwargs)


def store_secret(account_id: str, region: str, name: str, value: str, description: str) -> str:
    """Create the secret, or give it a new current value when it exists (CreateSecret, else PutSecretValue, as
    a client would); its ARN. For what the simulator stores at its own start (`stepbricks up`'s workspace token):
    a boto3 client made for that one call was ~0.1 s of `up`'s CPU, on the path to its endpoints answering."""
    backend = secretsmanager_backends[account_id][region]
    try:
        if name in backend.secrets:
            backend.put_secret_value(name, value, None, None, ["AWSCURRENT"])  # type: ignore[arg-type]
        else:
            backend.create_secret(name, value, None, description, [], None, None, [], False)
    except JsonRESTError as exc:  # what a client would get as a 4xx, raised where the caller can read it
        raise ValueError(f"Secrets Manager refuses secret {name!r}: {exc.error_type}: {exc.message}") from None
    return str(backend.secrets[name].arn)


register(
    [(SecretsManagerBackend, "create_secret", _create_secret)],
    [Seam(SecretsManagerBackend, "create_secret",
          ("self", "name", "secret_string", "secret_binary", "description", "tags", "kms_key_id",
           "client_request_token", "replica_regions", "force_overwrite"), _create_secret.__doc__ or "",
          proved_by="tests/sim/aws/test_secretsmanager_names.py::test_secret_name_with_a_space_is_a_validation_exception")],
)
