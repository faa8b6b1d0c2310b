"""Side venvs (Airflow's, Resonate's) are built once per requirements file and interpreter, in the user's cache,
and every checkout links to the same one: a fresh checkout (each CI run) does not install Airflow again.

`scripts/lib/cached_venv.sh` is sourced as the venv scripts source it; its `_build_venv` is replaced by one that
makes a venv-shaped directory and counts its builds (the real one runs uv or pip: covered by the DAG tests);
who installs (uv, or pip when uv fails or cannot be fetched) is checked below with a fake Python and uv."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[2] / "scripts" / "lib" / "cached_venv.sh"
SYSTEM_PATH = "/usr/bin:/bin"  # bash, mkdir, cp, mktemp: what the fakes run on


def _link(cache: Path, checkout: Path, reqs: Path, builds: Path) -> subprocess.CompletedProcess[str]:
    script = f"""
        set -euo pipefail
        source {LIB}
        _build_venv() {{ mkdir -p "$1/bin"; ln -s {sys.executable} "$1/bin/python"; echo "$1" >> {builds}; }}
        cached_venv {checkout}/.venv-airflow {reqs} {sys.executable}
    """
    return subprocess.run(["bash", "-c", script], env={**os.environ, "XDG_CACHE_HOME": str(cache)},
                          capture_output=True, text=True, timeout=60)  # fmt: skip


@pytest.fixture
def reqs(tmp_path: Path) -> Path:
    path = tmp_path / "requirements-airflow.txt"
    path.write_text("apache-airflow==3.3.2\n")
    return path


def test_two_checkouts_share_one_venv_built_once(tmp_path: Path, reqs: Path):
    cache, builds = tmp_path / "cache", tmp_path / "builds"
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    assert _link(cache, first, reqs, builds).returncode == 0
    assert _link(cache, second, reqs, builds).returncode == 0
    assert _link(cache, first, reqs, builds).returncode == 0
    (built,) = builds.read_text().split()
    assert Path(built).is_relative_to(cache / "stepbricks" / "venvs")
    for checkout in (first, second):
        link = checkout / ".venv-airflow"
        assert link.is_symlink() and os.readlink(link) == built and (link / "bin" / "python").exists()


def test_changed_requirements_get_a_new_venv_and_only_the_two_latest_are_kept(tmp_path: Path, reqs: Path):
    cache, builds, checkout = tmp_path / "cache", tmp_path / "builds", tmp_path / "a"
    checkout.mkdir()
    for version in ("3.3.0", "3.3.1", "3.3.2"):
        reqs.write_text(f"apache-airflow=={version}\n")
        assert _link(cache, checkout, reqs, builds).returncode == 0
    built = builds.read_text().split()
    assert len(set(built)) == 3
    assert os.readlink(checkout / ".venv-airflow") == built[-1]
    assert [Path(b).exists() for b in built] == [False, True, True]


def test_an_interrupted_build_is_built_again_and_an_old_in_checkout_venv_becomes_the_link(tmp_path: Path, reqs: Path):
    cache, builds, checkout = tmp_path / "cache", tmp_path / "builds", tmp_path / "a"
    old = checkout / ".venv-airflow" / "bin"
    old.mkdir(parents=True)  # the layout before the cache: a venv inside the checkout
    assert _link(cache, checkout, reqs, builds).returncode == 0
    (built,) = builds.read_text().split()
    (Path(built) / ".installed").unlink()  # a build that never wrote its stamp did not finish
    assert _link(cache, checkout, reqs, builds).returncode == 0
    assert builds.read_text().split() == [built, built]
    assert (checkout / ".venv-airflow").is_symlink()


def test_a_venv_the_user_named_is_installed_into_again_never_removed(tmp_path: Path, reqs: Path):
    named, builds = tmp_path / "my-venv", tmp_path / "builds"
    (named / "bin").mkdir(parents=True)
    (named / "bin" / "python").symlink_to(sys.executable)
    (named / "theirs.txt").write_text("kept")  # something the user put there
    script = f"""
        set -euo pipefail
        source {LIB}
        _build_venv() {{ echo "$1" >> {builds}; }}
        ensure_venv {named} {reqs} {sys.executable}
    """
    for version in ("3.3.1", "3.3.2"):
        reqs.write_text(f"apache-airflow=={version}\n")
        done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
    assert builds.read_text().split() == [str(named), str(named)]  # installed into twice, once per change
    assert (named / "theirs.txt").read_text() == "kept"


# The project's own .venv: a copy (of hard links) of the cache's venv, with the checkout's paths in its scripts.


def _copy(cache: Path, dest: Path, reqs: Path, builds: Path) -> subprocess.CompletedProcess[str]:
    """`copied_venv` with a `_build_venv` that makes what a venv names its own path in: a script's shebang,
    `activate`, `pyvenv.cfg`; and a library file that names no path."""
    script = f"""
        set -euo pipefail
        source {LIB}
        _build_venv() {{
          mkdir -p "$1/bin" "$1/lib"; ln -s {sys.executable} "$1/bin/python"
          printf '#!%s/bin/python\\nimport tool\\n' "$1" > "$1/bin/tool"
          printf 'VIRTUAL_ENV="%s"\\n' "$1" > "$1/bin/activate"
          printf 'command = python -m venv %s\\n' "$1" > "$1/pyvenv.cfg"
          echo "x = 1" > "$1/lib/module.py"
          echo "$1" >> {builds}
        }}
        copied_venv {dest} {reqs} {sys.executable} main
    """
    return subprocess.run(["bash", "-c", script], env={**os.environ, "XDG_CACHE_HOME": str(cache)},
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_each_checkout_gets_its_own_copy_of_one_cached_venv_naming_its_own_path(tmp_path: Path, reqs: Path):
    cache, builds = tmp_path / "cache", tmp_path / "builds"
    first, second = tmp_path / "a" / ".venv", tmp_path / "b" / ".venv"
    for venv in (first, second):
        venv.parent.mkdir()
        done = _copy(cache, venv, reqs, builds)
        assert done.returncode == 0, done.stderr
    (built,) = builds.read_text().split()
    assert Path(built).is_relative_to(cache / "stepbricks" / "venvs")
    for venv in (first, second):
        assert not venv.is_symlink()
        assert (venv / "bin" / "tool").read_text().startswith(f"#!{venv}/bin/python\n")
        assert (venv / "bin" / "activate").read_text() == f'VIRTUAL_ENV="{venv}"\n'
        assert (venv / "pyvenv.cfg").read_text() == f"command = python -m venv {venv}\n"
        assert (venv / ".copied-from-cache").exists() and not (venv / ".installed").exists()
    # the cache's own venv still names itself: the rewrites made new files, not edits through the links
    assert (Path(built) / "bin" / "tool").read_text().startswith(f"#!{built}/bin/python\n")
    # files that name no path are shared, not copied
    assert (first / "lib" / "module.py").stat().st_ino == (Path(built) / "lib" / "module.py").stat().st_ino


def test_a_copy_is_replaced_when_the_requirements_change(tmp_path: Path, reqs: Path):
    cache, builds, venv = tmp_path / "cache", tmp_path / "builds", tmp_path / "a" / ".venv"
    venv.parent.mkdir()
    assert _copy(cache, venv, reqs, builds).returncode == 0
    (venv / "lib" / "stale.py").write_text("from the old copy")
    reqs.write_text("apache-airflow==3.3.3\n")
    assert _copy(cache, venv, reqs, builds).returncode == 0
    assert len(set(builds.read_text().split())) == 2
    assert not (venv / "lib" / "stale.py").exists() and not venv.with_name(".venv.partial").exists()


# Who installs: uv when it can be had (on PATH, or fetched once into the cache by the venv's pip), else pip.


def _fakes(tmp_path: Path, *, uv_on_path: str | None = None, fetch_uv: bool = True) -> dict[str, Path]:
    """A base Python whose `-m venv DIR` makes a venv whose python logs each `-m pip ...` call (and, asked for uv
    with `--target`, puts a logging uv there when `fetch_uv`); optionally a uv on PATH exiting `uv_on_path`."""
    bin_dir, log = tmp_path / "fake-bin", tmp_path / "calls.log"
    bin_dir.mkdir()

    def script(path: Path, text: str) -> Path:
        path.write_text("#!/bin/bash\n" + text)
        path.chmod(0o755)
        return path

    fetched_uv = script(bin_dir / "fetched-uv", f'echo "uv $*" >> {log}\n')
    fetch = (f'while [[ "$1" != --target ]]; do shift; done\nmkdir -p "$2/bin"\ncp {fetched_uv} "$2/bin/uv"\n'
             if fetch_uv else "exit 1\n")  # fmt: skip
    venv_python = script(bin_dir / "venv-python",
                         f'echo "pip ${{*:3}}" >> {log}\nif [[ "$*" == *--target* ]]; then\n{fetch}fi\n')
    base = script(bin_dir / "base-python", f'mkdir -p "$3/bin"\ncp {venv_python} "$3/bin/python"\n')
    if uv_on_path is not None:
        script(bin_dir / "uv", f'echo "uv $*" >> {log}\nexit {uv_on_path}\n')
    return {"bin": bin_dir, "log": log, "base": base}


def _build(tmp_path: Path, fakes: dict[str, Path], reqs: Path, **env: str) -> subprocess.CompletedProcess[str]:
    script = f"""
        set -euo pipefail
        source {LIB}
        _build_venv {tmp_path}/venv {reqs} {fakes["base"]}
    """
    environment = {"PATH": f"{fakes['bin']}:{SYSTEM_PATH}", "XDG_CACHE_HOME": str(tmp_path / "cache"),
                   "HOME": str(tmp_path), **env}  # fmt: skip
    return subprocess.run(["bash", "-c", script], env=environment, capture_output=True, text=True, timeout=60)


def _calls(fakes: dict[str, Path]) -> list[str]:
    return fakes["log"].read_text().splitlines() if fakes["log"].exists() else []


def test_uv_on_the_path_installs_the_requirements_and_pip_compiled_as_pip_would(tmp_path: Path, reqs: Path):
    fakes = _fakes(tmp_path, uv_on_path="0")
    done = _build(tmp_path, fakes, reqs)
    assert done.returncode == 0, done.stderr
    assert _calls(fakes) == [
        f"uv pip install --quiet --python {tmp_path}/venv/bin/python --compile-bytecode --upgrade-package pip "
        f"-r {reqs} pip"
    ]
    assert (tmp_path / "venv" / ".gitignore").read_text() == "*\n"


def test_a_failing_uv_falls_back_to_pip_into_the_same_venv_and_says_so(tmp_path: Path, reqs: Path):
    fakes = _fakes(tmp_path, uv_on_path="1")
    done = _build(tmp_path, fakes, reqs)
    assert done.returncode == 0, done.stderr
    calls = _calls(fakes)
    assert calls[0].startswith("uv pip install")
    assert calls[1:] == ["pip install --quiet --upgrade pip", f"pip install --quiet -r {reqs}"]
    assert f"uv could not install {reqs}" in done.stderr and "installing with pip instead" in done.stderr


def test_the_installer_can_be_set_to_pip(tmp_path: Path, reqs: Path):
    fakes = _fakes(tmp_path, uv_on_path="0")
    done = _build(tmp_path, fakes, reqs, STEPBRICKS_VENV_INSTALLER="pip")
    assert done.returncode == 0, done.stderr
    assert _calls(fakes) == ["pip install --quiet --upgrade pip", f"pip install --quiet -r {reqs}"]


@pytest.mark.skipif(shutil.which("uv", path=SYSTEM_PATH) is not None, reason="a uv in /usr/bin or /bin is always found")
def test_without_uv_on_the_path_one_pinned_uv_is_fetched_once_into_the_cache(tmp_path: Path, reqs: Path):
    fakes = _fakes(tmp_path)
    assert _build(tmp_path, fakes, reqs).returncode == 0
    tools = tmp_path / "cache" / "stepbricks" / "tools"
    (fetched,) = tools.iterdir()  # no half-made fetch left beside it
    assert fetched.name.startswith("uv-") and (fetched / "bin" / "uv").exists()
    (tmp_path / "venv" / "bin" / "python").unlink()  # a second venv: uv is taken from the cache, not fetched
    assert _build(tmp_path, fakes, reqs).returncode == 0
    calls = _calls(fakes)
    fetches = [c for c in calls if "--target" in c]
    assert len(fetches) == 1 and fetches[0].endswith(f"uv=={fetched.name.removeprefix('uv-')}")
    assert [c.split(" --python")[0] for c in calls if c.startswith("uv ")] == ["uv pip install --quiet"] * 2
    assert not [c for c in calls if c.startswith("pip install --quiet -r")]


@pytest.mark.skipif(shutil.which("uv", path=SYSTEM_PATH) is not None, reason="a uv in /usr/bin or /bin is always found")
def test_a_uv_that_cannot_be_fetched_leaves_nothing_behind_and_pip_installs(tmp_path: Path, reqs: Path):
    fakes = _fakes(tmp_path, fetch_uv=False)
    done = _build(tmp_path, fakes, reqs)
    assert done.returncode == 0, done.stderr
    assert list((tmp_path / "cache" / "stepbricks" / "tools").iterdir()) == []
    assert _calls(fakes)[1:] == ["pip install --quiet --upgrade pip", f"pip install --quiet -r {reqs}"]
