#!/usr/bin/env bash
# Create (or reuse) Airflow's own virtual environment, .venv-airflow, idempotently.
# It is rebuilt only when requirements-airflow.txt changed (a stamp keeps its hash).
# Exit 0 with the venv ready; non-zero with the reason on stderr when it cannot be created.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${AIRFLOW_VENV:-$ROOT/.venv-airflow}"
REQS="$ROOT/requirements-airflow.txt"
STAMP="$VENV/.installed"
want="$(sha256sum "$REQS" | cut -d' ' -f1)"
if [[ -x "$VENV/bin/python" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; then
  exit 0
fi
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
rm -f "$STAMP"
[[ -x "$VENV/bin/python" ]] || "$PY" -m venv "$VENV"
echo "*" > "$VENV/.gitignore"  # the venv ignores itself, as Python 3.13's venv does
"$VENV/bin/python" -m pip install --quiet --upgrade pip
# pip warns about every package missing from the extra local indexes: keep only real errors.
"$VENV/bin/python" -m pip install --quiet -r "$REQS" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
echo "$want" > "$STAMP"
