"""`python -m sim.databricks --state-dir D [--port P]`: the workspace as its own process.

The token comes from DATABRICKS_TOKEN or is generated; either way it is written to
`<state-dir>/token` (mode 600) and never logged. The bound host is written to `<state-dir>/host`
once the server accepts requests, so a parent process can wait for that file.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
from pathlib import Path

from sim.databricks.server import Workspace


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sim.databricks", description=__doc__)
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--mount", action="append", default=[], metavar="WORKSPACE_PATH=LOCAL_DIR")
    parser.add_argument("--cluster-env", type=Path, help="JSON file of environment variables for clusters")
    parser.add_argument("--failure-style", choices=("workspace", "terminated"), default="workspace")
    args = parser.parse_args(argv)
    state_dir: Path = args.state_dir
    state_dir.mkdir(parents=True, exist_ok=True)
    mounts = dict(m.split("=", 1) for m in args.mount)
    cluster_env = json.loads(args.cluster_env.read_text()) if args.cluster_env else {}
    workspace = Workspace.start(
        state_dir=state_dir, token=os.environ.get("DATABRICKS_TOKEN") or None, host=args.host, port=args.port,
        cluster_env=cluster_env, mounts={k: Path(v) for k, v in mounts.items()},
        failure_style=args.failure_style,
    )
    token_file = state_dir / "token"
    token_file.write_text(workspace.token)
    token_file.chmod(0o600)
    (state_dir / "host").write_text(workspace.host)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    workspace.stop()
    (state_dir / "host").unlink(missing_ok=True)


if __name__ == "__main__":
    main()
