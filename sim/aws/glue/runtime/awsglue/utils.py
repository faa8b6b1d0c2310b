"""`getResolvedOptions`: the job's `--key value` arguments, parsed as awsglue does.

Mirrors aws-glue-libs `awsglue/utils.py`: an argparse parser whose errors raise `GlueArgumentError`;
every requested option is required; unknown arguments (Glue's own `--JOB_ID`, `--TempDir`, ...) are
ignored; `TempDir` / `RedshiftTempDir` are optional and mirror each other; `--job-bookmark-option` is
accepted with Glue's choices.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

__all__ = ["GlueArgumentError", "getResolvedOptions"]

_BOOKMARK_CHOICES = ("job-bookmark-enable", "job-bookmark-disable", "job-bookmark-pause")


class GlueArgumentError(Exception):
    pass


class GlueArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise GlueArgumentError(message)


def getResolvedOptions(args: Sequence[str], options: Sequence[str]) -> dict[str, str | None]:
    parser = GlueArgumentParser()
    if "continuation-option" in options or "job-bookmark-option" in options:
        raise RuntimeError("Using reserved arguments job-bookmark-option / continuation-option")
    parser.add_argument("--job-bookmark-option", choices=_BOOKMARK_CHOICES, required=False)
    parser.add_argument("--continuation-option", required=False)
    wanted = [o for o in options if o not in {"RedshiftTempDir", "TempDir"}]
    parser.add_argument("--RedshiftTempDir", required=False)
    parser.add_argument("--TempDir", required=False)
    for option in wanted:
        parser.add_argument("--" + option, required=True)
    parsed, _extra = parser.parse_known_args(list(args[1:]))
    values = vars(parsed)
    if values.get("TempDir") is not None:
        values["RedshiftTempDir"] = values["TempDir"]
    elif values.get("RedshiftTempDir") is not None:
        values["TempDir"] = values["RedshiftTempDir"]
    values["job_bookmark_option"] = values.get("job_bookmark_option") or "job-bookmark-disable"
    return values
