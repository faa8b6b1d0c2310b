"""Errors of the fake workspace, declared the way a workspace answers them.

Every error is `{"error_code": ..., "message": ...}` with an HTTP status; databricks-sdk maps the
`error_code` first and the status second (databricks/sdk/errors/mapper.py), so both must be right.
"""

from __future__ import annotations


class DatabricksError(Exception):
    """Base class: subclasses set `status` and `error_code`; the message copies the workspace's wording."""

    status: int = 500
    error_code: str | int = "INTERNAL_ERROR"

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, object]:
        return {"error_code": self.error_code, "message": self.message}


class InvalidParameterValue(DatabricksError):
    status, error_code = 400, "INVALID_PARAMETER_VALUE"


class MalformedRequest(DatabricksError):
    status, error_code = 400, "MALFORMED_REQUEST"


class InvalidState(DatabricksError):
    status, error_code = 400, "INVALID_STATE"


class ResourceDoesNotExist(DatabricksError):
    status, error_code = 404, "RESOURCE_DOES_NOT_EXIST"


class ResourceAlreadyExists(DatabricksError):
    status, error_code = 409, "RESOURCE_ALREADY_EXISTS"


class Unauthenticated(DatabricksError):
    # A workspace answers a missing token with the numeric code (checklist, "Errors and rate limits").
    status, error_code = 401, 401


class PermissionDenied(DatabricksError):
    status, error_code = 403, 403


class EndpointNotFound(DatabricksError):
    status, error_code = 404, "ENDPOINT_NOT_FOUND"


class JobDoesNotExist(InvalidParameterValue):
    """The SDK turns exactly this message into ResourceDoesNotExist (errors/overrides.py)."""

    def __init__(self, job_id: object) -> None:
        super().__init__(f"Job {job_id} does not exist.")


class RunDoesNotExist(InvalidParameterValue):
    def __init__(self, run_id: object) -> None:
        super().__init__(f"Run {run_id} does not exist.")


MISSING_CREDENTIALS = "Credential was not sent or was of an unsupported type for this API."
INVALID_TOKEN = "Invalid access token."
