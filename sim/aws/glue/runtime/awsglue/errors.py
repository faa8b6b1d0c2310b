"""The one error of the stand-in: a real awsglue feature stepbricks does not simulate."""

from __future__ import annotations

SUPPORTED = ("getResolvedOptions, GlueContext(spark_session, write_dynamic_frame.from_options, "
             "create_dynamic_frame.from_options), DynamicFrame(fromDF, toDF, count, schema, show), "
             "Job(init, commit)")


class NotSimulated(NotImplementedError):
    """Raised for any awsglue API outside the simulated subset; the message names it."""

    def __init__(self, what: str) -> None:
        super().__init__(f"{what} is not simulated by stepbricks' awsglue (supported: {SUPPORTED})")


def refuse(owner: str, name: str) -> NotSimulated:
    """The error for attribute `name` of `owner`, for a class's `__getattr__`."""
    return NotSimulated(f"{owner}.{name}")
