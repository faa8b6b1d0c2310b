"""A new user's first two commands: `stepbricks up`, then `stepbricks bundle deploy --target local`.

`up` stores the local workspace's token where the bundle's local target reads it (Secrets Manager,
`stepbricks/local/databricks-token`), so no `stepbricks deploy` is needed first."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STEPBRICKS = Path(sys.executable).with_name("stepbricks")


def test_bundle_deploy_to_the_local_target_works_right_after_up(tmp_path):
    home = tmp_path / "home"
    log = (tmp_path / "up.log").open("w")
    up = subprocess.Popen([str(STEPBRICKS), "up", "--state-dir", str(home / "state")], cwd=ROOT,
                          env={**os.environ, "STEPBRICKS_HOME": str(home)}, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        endpoints = home / "endpoints.json"
        deadline = time.monotonic() + 120
        while not endpoints.exists():
            assert up.poll() is None and time.monotonic() < deadline, (tmp_path / "up.log").read_text()
            time.sleep(0.2)
        env = json.loads(endpoints.read_text())["env"]
        # What `eval "$(stepbricks env)"` exports, minus the token: the bundle must find it in Secrets Manager.
        shell = {**os.environ, **{k: v for k, v in env.items() if k != "DATABRICKS_TOKEN"},
                 "STEPBRICKS_HOME": str(home), "DATABRICKS_TOKEN": ""}
        done = subprocess.run([str(STEPBRICKS), "bundle", "deploy", "--target", "local", "--state-dir",
                               str(tmp_path / "bundle-state")], cwd=ROOT, env=shell, capture_output=True,
                              text=True, timeout=240)  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        deployed = json.loads(done.stdout)
        assert (deployed["target"], deployed["host"]) == ("local", env["DATABRICKS_HOST"])
        assert deployed["created"] == ["etl", "train", "evaluate", "notebook_tests"]
        assert env["DATABRICKS_TOKEN"] not in done.stdout + done.stderr  # never printed
    finally:
        up.terminate()
        up.wait(timeout=60)
        log.close()
    assert "stepbricks/local/databricks-token" in (tmp_path / "up.log").read_text()
