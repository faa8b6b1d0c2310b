#!/usr/bin/env bash
# Create (or reuse) the Resonate backend's virtual environment, .venv-resonate, idempotently.
# It is rebuilt only when requirements-resonate.txt changed (a stamp keeps its hash).
# Exit 0 with the venv ready; non-zero with the reason on stderr when it cannot be created.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${RESONATE_VENV:-$ROOT/.venv-resonate}"
REQS="$ROOT/requirements-resonate.txt"
STAMP="$VENV/.installed"
want="$(sha256sum "$REQS" | cut -d' ' -f1)"
# Test workers (pytest-xdist) may ask for it at the same time: one builds it, the others wait and reuse it.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$VENV.lock"
  flock 9
fi
if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
  exit 0
fi
# resonate-sdk 0.6.x requires Python >= 3.12.
PY="${RESONATE_PYTHON:-}"
if [[ -z "$PY" ]]; then
  # pyenv's shims answer only for the active version: look in its versions too.
  pyenv_versions="$( (command -v pyenv >/dev/null 2>&1 && pyenv root) || echo "$HOME/.pyenv")/versions"
  for candidate in python3.12 python3.13 python3 "$pyenv_versions"/3.12*/bin/python3.12 "$pyenv_versions"/3.13*/bin/python3.13; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(not sys.version_info[:2] >= (3, 12))' 2>/dev/null; then
      PY="$candidate"; break
    fi
  done
fi
[[ -n "$PY" ]] || { echo "resonate_venv: no Python >= 3.12 found (set RESONATE_PYTHON)" >&2; exit 2; }
rm -f "$STAMP"
[[ -x "$VENV/bin/python" ]] || "$PY" -m venv "$VENV"
echo "*" > "$VENV/.gitignore"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
"$VENV/bin/python" -m pip install --quiet -r "$REQS" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
echo "$want" > "$STAMP"
