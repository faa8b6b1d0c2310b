#!/usr/bin/env bash
# Create (or reuse) the Resonate backend's virtual environment, .venv-resonate, idempotently: a link to a venv
# in the user's cache, made once per requirements-resonate.txt and interpreter (scripts/lib/cached_venv.sh).
# RESONATE_VENV=path builds it at that path instead, outside the cache.
# Exit 0 with the venv ready; non-zero with the reason on stderr when it cannot be created.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REQS="$ROOT/requirements-resonate.txt"
# shellcheck source=lib/cached_venv.sh
source "$ROOT/scripts/lib/cached_venv.sh"
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
if [[ -n "${RESONATE_VENV:-}" ]]; then
  ensure_venv "$RESONATE_VENV" "$REQS" "$PY"
else
  cached_venv "$ROOT/.venv-resonate" "$REQS" "$PY"
fi
