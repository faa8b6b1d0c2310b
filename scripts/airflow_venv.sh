#!/usr/bin/env bash
# Create (or reuse) Airflow's own virtual environment, .venv-airflow, idempotently: a link to a venv in the
# user's cache, made once per requirements-airflow.txt and interpreter (scripts/lib/cached_venv.sh), so a fresh
# checkout does not install Airflow again. AIRFLOW_VENV=path builds it at that path instead, outside the cache.
# Exit 0 with the venv ready; non-zero with the reason on stderr when it cannot be created.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REQS="$ROOT/requirements-airflow.txt"
# shellcheck source=lib/cached_venv.sh
source "$ROOT/scripts/lib/cached_venv.sh"
# Airflow 3.3 supports Python 3.10-3.13; prefer the project's own 3.11, then 3.12.
PY="${AIRFLOW_PYTHON:-}"
if [[ -z "$PY" ]]; then
  for candidate in python3.11 python3.12 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 13))' 2>/dev/null; then
      PY="$candidate"; break
    fi
  done
fi
[[ -n "$PY" ]] || { echo "airflow_venv: no Python 3.10-3.13 found (set AIRFLOW_PYTHON)" >&2; exit 2; }
if [[ -n "${AIRFLOW_VENV:-}" ]]; then
  ensure_venv "$AIRFLOW_VENV" "$REQS" "$PY"
else
  cached_venv "$ROOT/.venv-airflow" "$REQS" "$PY"
fi
