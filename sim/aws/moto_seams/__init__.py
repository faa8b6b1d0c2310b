"""Every moto internal stepbricks touches, in one small package, pinned to one moto version.

`core` holds the registry, the version pin and the Lambda / S3-notification / SNS / Logs seams; each
sibling module patches one more area and registers its patches and seams at import, so `install()`
applies them all and tests/sim/aws/test_moto_seams.py checks every one against the installed moto.

The Step Functions rows (the `sfn_*` modules) are a deferred group: moto's Step Functions interpreter
costs 0.75 s to import, so they are loaded, and installed, when moto itself first imports
`moto.stepfunctions` (the first Step Functions request), not at start-up. Batch and EC2, which that
interpreter used to pull in, are imported only when Batch is used (`lazy_batch`).
`load_all()` loads them now (the seam tests check every row against the installed moto).
"""

from __future__ import annotations

import importlib

# Sibling seam modules register themselves on import.
from sim.aws.moto_seams import (  # noqa: F401
    aws_faults,
    botocore_data,
    cloudwatch,
    dynamodb,
    events,
    glue,
    iam,
    iam_s3_triggers,
    ids,
    lazy_batch,
    routing,
    s3_changes,
    s3_defaults,
    s3_namespace,
    secretsmanager,
    sns,
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
    defer,
    deliver_lambda_logs,
    function_config,
    install,
    register,
    reset_account,
    running_hosts,
    seeding_hosts,
    serving,
    signature_of,
    uninstall,
    wrap_server_app,
)

# Imported in this order when moto's Step Functions is (sfn_api before the modules that use it).
STEP_FUNCTIONS_GROUP = ("sfn_api", "sfn_errors", "sfn_execution", "sfn_faults", "sfn_glue", "sfn_history",
                        "sfn_history_pages", "sfn_http",
                        "sfn_iam", "sfn_ids", "sfn_integrations", "sfn_lambda", "sfn_language", "sfn_logging",
                        "sfn_metrics", "sfn_parse_cache", "sfn_requests", "sfn_services", "sfn_sync", "sfn_tags", "sfn_test_state",
                        "sfn_time", "sfn_versions", "sfn_redrive", "sfn_map_io", "sfn_map_runs",
                        "sfn_map_aborts", "sfn_express_arns")


def load_step_functions_seams() -> None:
    """Import the Step Functions seam modules (each registers its rows; applied at once if installed)."""
    lazy_batch.defer_batch_init()  # before moto's interpreter is imported (lazy_batch.py)
    for name in STEP_FUNCTIONS_GROUP:
        importlib.import_module(f"sim.aws.moto_seams.{name}")


def load_all() -> None:
    """Every row of the table, deferred groups included (the seam tests check them all)."""
    load_step_functions_seams()


defer("moto.stepfunctions", load_step_functions_seams)

__all__ = [
    "FUNCTION_ATTRIBUTES",
    "MOTO_VERSION",
    "SEAMS",
    "STEP_FUNCTIONS_GROUP",
    "Seam",
    "SeamHost",
    "ThreadedMotoServer",
    "TooManyRequestsException",
    "accounts_in_use",
    "deliver_lambda_logs",
    "function_config",
    "install",
    "load_all",
    "load_step_functions_seams",
    "register",
    "reset_account",
    "running_hosts",
    "seeding_hosts",
    "serving",
    "signature_of",
    "uninstall",
    "wrap_server_app",
]
