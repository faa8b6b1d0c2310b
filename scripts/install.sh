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

if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv" || exit 1
fi
: >"$log"
step "upgrading pip in $venv" "$venv/bin/python" -m pip install --upgrade pip
step "installing stepbricks and its test tools (a few minutes the first time)" \
  "$venv/bin/python" -m pip install -e '.[test]'
