"""The embedded AWS side: moto's server with a real local Lambda runtime, S3 → Lambda events and an SNS outbox."""

from __future__ import annotations

from sim.aws.lambda_runtime.models import FunctionConfig, InvocationResult
from sim.aws.s3_events import S3Delivery
from sim.aws.simulator import AwsSimulator

__all__ = ["AwsSimulator", "FunctionConfig", "InvocationResult", "S3Delivery"]
