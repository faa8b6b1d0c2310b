"""Which local Python runs a function: the one matching its `Runtime` when installed, else this one.

AWS runs `python3.12` functions on Python 3.12; running them on the project's interpreter would hide
syntax and stdlib differences. Found interpreters are resolved once (a pyenv shim costs a process
start per call) and cached for the life of the process.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

_THIS = (sys.executable, f"{sys.version_info[0]}.{sys.version_info[1]}")


@functools.cache
def interpreter_for(runtime: str) -> tuple[str, str]:
    """(path, "3.12") of a Python matching `runtime` ("python3.12"); this interpreter when none is found."""
    match = re.fullmatch(r"python(\d+)\.(\d+)", runtime or "")
    if match is None or (int(match[1]), int(match[2])) == sys.version_info[:2]:
        return _THIS
    version = f"{match[1]}.{match[2]}"
    for candidate in _candidates(version):
        try:
            resolved = subprocess.run(
                [candidate, "-I", "-S", "-c", "import sys; print(sys.executable, *sys.version_info[:2])"],
                capture_output=True, text=True, timeout=20, check=True,
            ).stdout.split()
        except (OSError, subprocess.SubprocessError):
            continue
        if len(resolved) == 3 and f"{resolved[1]}.{resolved[2]}" == version:
            return resolved[0], version
    return _THIS


def _candidates(version: str) -> list[str]:
    """`pythonX.Y` on PATH, then pyenv's installed versions (its shims refuse versions not selected)."""
    found = [path for path in [shutil.which(f"python{version}")] if path]
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    installed = sorted(root.glob(f"versions/{version}.*/bin/python{version}"),
                       key=lambda p: [int(x) for x in re.findall(r"\d+", p.parts[-3])], reverse=True)
    return found + [str(p) for p in installed]
