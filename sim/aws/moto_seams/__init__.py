"""Every moto internal stepbricks touches, in one small package, pinned to one moto version.

`core` holds the registry, the version pin and the Lambda / S3-notification / SNS / Logs seams; each
sibling module patches one more area and registers its patches and seams at import, so `install()`
applies them all and tests/sim/aws/test_moto_seams.py checks every one against the installed moto.
"""

from __future__ import annotations

# Sibling seam modules register themselves on import.
from sim.aws.moto_seams import (  # noqa: F401
    aws_faults,
    cloudwatch,
    events,
    glue,
    ids,
    sfn_api,
    sfn_faults,
    sfn_history,
    sfn_http,
    sfn_integrations,
    sfn_language,
    sfn_logging,
    sfn_sync,
    sfn_time,
)
from sim.aws.moto_seams.core import (
    FUNCTION_ATTRIBUTES,
    MOTO_VERSION,
    SEAMS,
    Seam,
    SeamHost,
    ThreadedMotoServer,
    TooManyRequestsException,
    accounts_in_use,
    deliver_lambda_logs,
    function_config,
    install,
    register,
    reset_account,
    running_hosts,
    signature_of,
    uninstall,
    wrap_server_app,
)

__all__ = [
    "FUNCTION_ATTRIBUTES",
    "MOTO_VERSION",
    "SEAMS",
    "Seam",
    "SeamHost",
    "ThreadedMotoServer",
    "TooManyRequestsException",
    "accounts_in_use",
    "deliver_lambda_logs",
    "function_config",
    "install",
    "register",
    "reset_account",
    "running_hosts",
    "signature_of",
    "uninstall",
    "wrap_server_app",
]
