"""The embedded AWS side: moto's server with a real local Lambda runtime, S3 → Lambda events and an SNS outbox.

    with AwsSimulator.start(state_dir=Path(".stepbricks/aws")) as aws:
        os.environ.update(aws.env)            # boto3 anywhere in this process now talks to the simulator
        aws.invoke("trigger", {"k": "v"})     # StatusCode, FunctionError, Payload, LogResult
        aws.lambda_logs("trigger")            # INIT_START / START / ... / REPORT lines
        aws.sns_messages(topic_arn)           # what was published
        aws.s3_deliveries("stepbricks-raw")   # S3 → Lambda notifications and their attempts
        aws.wait_for_async()                  # until Event invocations (and their retries) settle

moto's state is process-global: simulators in one process share it (see `sim.aws.simulator`).
"""

from __future__ import annotations

from sim.aws.lambda_runtime.models import FunctionConfig, InvocationResult
from sim.aws.s3_events import S3Delivery
from sim.aws.simulator import AwsSimulator

__all__ = ["AwsSimulator", "FunctionConfig", "InvocationResult", "S3Delivery"]
