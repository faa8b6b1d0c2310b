"""What a Glue job run executes on the cluster: `glue_bootstrap.py <script> --JOB_ID ... --key value ...`.

Runs the job's script as `__main__` with Glue's `sys.argv` (the script path, then the arguments), inside
`awsglue._driver.glue_driver()` so `SparkContext()` and `s3://` paths behave as in a Glue driver.
"""

from __future__ import annotations

import runpy
import sys


def main() -> None:
    if len(sys.argv) < 2:
        raise SystemExit("usage: glue_bootstrap.py <script.py> [--key value ...]")
    script = sys.argv[1]
    sys.argv = [script, *sys.argv[2:]]
    from awsglue._driver import glue_driver

    with glue_driver():
        runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
