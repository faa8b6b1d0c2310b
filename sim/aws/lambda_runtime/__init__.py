"""A local Lambda runtime for Python functions: the uploaded zip runs in warm worker processes."""

from __future__ import annotations

from sim.aws.lambda_runtime.models import FunctionConfig, InvocationResult, LogEvent, TooManyRequests
from sim.aws.lambda_runtime.runtime import LambdaRuntime, RuntimeClosed

__all__ = ["FunctionConfig", "InvocationResult", "LambdaRuntime", "LogEvent", "RuntimeClosed", "TooManyRequests"]
