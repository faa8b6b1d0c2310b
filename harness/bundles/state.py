"""Deployment state per target: bundle job key → job id, like the CLI's terraform state.

Kept under `<bundle root>/.stepbricks/bundles/<target>/deployment.json` (or a `state_root` of the
caller's). Ids are checked against the workspace on every deploy, so a state left from a workspace
that was since wiped only means the jobs are created again.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

STATE_FILE = "deployment.json"


def default_state_root(bundle_root: Path) -> Path:
    return bundle_root / ".stepbricks" / "bundles"


@dataclass
class DeploymentState:
    bundle: str
    target: str
    host: str
    root_path: str
    jobs: dict[str, int] = field(default_factory=dict)

    @staticmethod
    def path(state_root: Path, target: str) -> Path:
        return state_root / target / STATE_FILE

    @classmethod
    def load(cls, state_root: Path, target: str) -> DeploymentState | None:
        path = cls.path(state_root, target)
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        data["jobs"] = {k: int(v) for k, v in data.get("jobs", {}).items()}
        return cls(**data)

    def save(self, state_root: Path) -> None:
        """Written through a temporary file and a rename: a crash never leaves half a state."""
        path = self.path(state_root, self.target)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2, sort_keys=True))
        os.replace(tmp, path)

    @classmethod
    def remove(cls, state_root: Path, target: str) -> None:
        cls.path(state_root, target).unlink(missing_ok=True)
