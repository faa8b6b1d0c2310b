"""Errors the Lambdas raise. Step Functions sees the class name as the error name (the runtime's
`errorType`) and matches Retry/Catch `ErrorEquals` on it exactly, so these names are an interface:
the state machines retry `DatabricksRateLimited` and `DatabricksUnavailable`."""

from __future__ import annotations


class InvalidInput(ValueError):
    """The event lacks a field or has one of the wrong type; retrying cannot help."""


class ConfigurationError(RuntimeError):
    """An environment variable the function needs is missing or malformed."""


class DatabricksApiError(RuntimeError):
    """Databricks answered with an error; `status`, `error_code` and `message` are its own words."""

    def __init__(self, description: str, *, status: int | None = None, error_code: str | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.error_code = error_code


class DatabricksRateLimited(DatabricksApiError):
    """HTTP 429 still answered after the client's own retries (Retry-After honoured)."""


class DatabricksUnavailable(DatabricksApiError):
    """HTTP 502/503/504 or no answer at all, after the client's own retries."""


class DatabricksAuthError(DatabricksApiError):
    """HTTP 401/403: the token from Secrets Manager was not accepted."""


class DatabricksNotFound(DatabricksApiError):
    """The job or run does not exist (the SDK's ResourceDoesNotExist)."""
