#!/usr/bin/env bash
# First-run install of .venv: one progress line per step, the full pip log kept in .venv/install.log and
# shown only when a step fails. pip's and setuptools' warnings (editable-install notes, a machine's
# unreachable find-links) are noise to someone who just typed `make test`.
set -uo pipefail
python=${1:?usage: scripts/install.sh PYTHON VENV}
venv=${2:?usage: scripts/install.sh PYTHON VENV}
log="$venv/install.log"

step() {  # step "what" command...
  local what=$1; shift
  printf '%s ... ' "$what"
  local start=$SECONDS
  if "$@" >>"$log" 2>&1; then
    printf 'done (%ss)\n' $((SECONDS - start))
  else
    local rc=$?
    printf 'FAILED\n'
    echo "--- last 40 lines of $log ---"
    tail -n 40 "$log"
    exit "$rc"
  fi
}

# A venv made here before (no .copied-from-cache: an older checkout's, or the user's own) is installed into, as it
# always was. Otherwise the dependencies come from a venv in the user's cache, built once per requirement list
# and interpreter and copied in (scripts/lib/cached_venv.sh, copied_venv); only the project itself is installed.
if [ -x "$venv/bin/python" ] && [ ! -f "$venv/.copied-from-cache" ]; then
  : >"$log"
  step "upgrading pip in $venv" "$venv/bin/python" -m pip install --upgrade pip
  step "installing stepbricks and its test tools (a few minutes the first time)" \
    "$venv/bin/python" -m pip install -e '.[test]'
  exit 0
fi

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
reqs="$(mktemp)"
build_log="$(mktemp)"
trap 'rm -f "$reqs" "$build_log"' EXIT
# What `pip install -e '.[test]'` would install, and what building the editable install needs (it is built
# without isolation, from the venv's own setuptools: no index lookups).
"$python" - "$root/pyproject.toml" >"$reqs" <<'PY' || exit 1
import sys, tomllib
project = tomllib.load(open(sys.argv[1], "rb"))
print("\n".join(
    project["project"]["dependencies"]
    + project["project"]["optional-dependencies"]["test"]
    + project["build-system"]["requires"]
))
PY
log="$build_log"
step "dependencies: a venv in the user's cache, built once per requirement list (about a minute the first time)" \
  bash -euo pipefail -c 'source "$1"; copied_venv "$2" "$3" "$4" main' _ \
  "$root/scripts/lib/cached_venv.sh" "$venv" "$reqs" "$python"
log="$venv/install.log"
cat "$build_log" >"$log"
step "installing stepbricks into $venv (editable)" \
  "$venv/bin/python" -m pip install --no-deps --no-build-isolation -e "$root"
