"""The first install (`make run` / `make test` on a fresh clone) shows progress and errors, not pip's noise."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INSTALL = ROOT / "scripts" / "install.sh"


def _fake_venv(tmp_path: Path, *, exit_code: int) -> Path:
    """A venv whose python prints what pip prints on a noisy install, then exits with `exit_code`."""
    venv = tmp_path / ".venv"
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"
    python.write_text(
        "#!/bin/sh\n"
        "echo \"WARNING: Location 'file:///opt/x/simple/pkg/' is ignored\" >&2\n"
        "echo 'BuildBackendWarning: Editable installation.' >&2\n"
        f"[ {exit_code} -eq 0 ] || echo 'ERROR: No matching distribution found for nothing-such' >&2\n"
        f"exit {exit_code}\n"
    )
    python.chmod(0o755)
    return venv


def test_a_clean_install_prints_one_progress_line_per_step_and_keeps_the_noise_in_its_log(tmp_path):
    venv = _fake_venv(tmp_path, exit_code=0)
    done = subprocess.run([str(INSTALL), "python3", str(venv)], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)  # fmt: skip

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2 and all(line.endswith("s)") and "done" in line for line in lines), lines
    assert "WARNING" not in done.stdout + done.stderr
    assert "BuildBackendWarning" in (venv / "install.log").read_text()


def test_a_failed_install_says_which_step_failed_and_shows_pips_error(tmp_path):
    venv = _fake_venv(tmp_path, exit_code=1)
    done = subprocess.run([str(INSTALL), "python3", str(venv)], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)  # fmt: skip

    assert done.returncode == 1
    assert "upgrading pip" in done.stdout and "FAILED" in done.stdout
    assert "No matching distribution found for nothing-such" in done.stdout


def test_the_license_is_an_spdx_string_so_setuptools_does_not_warn_on_every_install():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["license"] == "Apache-2.0"
    assert any(req.startswith("setuptools>=77") for req in project["build-system"]["requires"])
