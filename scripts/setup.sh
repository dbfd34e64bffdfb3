#!/usr/bin/env bash
# Set up everything on a fresh machine: virtual env in ./.venv, dependencies, models, index.
# Idempotent: a second run only checks. Usage: scripts/setup.sh [--dev] [--no-index]
set -euo pipefail
cd "$(dirname "$0")/.."
DEV=0; INDEX=1
for arg in "$@"; do
  case "$arg" in
    --dev) DEV=1 ;;
    --no-index) INDEX=0 ;;
    *) echo "unknown option $arg" >&2; exit 2 ;;
  esac
done
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv with $PY" >&2
  "$PY" -m venv .venv
fi
stamp=.venv/.kb-installed
want="$(sha256sum pyproject.toml | cut -c1-16)-$DEV"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "== installing dependencies (a few minutes the first time)" >&2
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  # torch first, pinned: the CPU build on this disk, never the multi-GB CUDA one.
  .venv/bin/python -m pip install -q --disable-pip-version-check "torch==2.13.0"
  if [ "$DEV" = 1 ]; then extra="[dev]"; else extra=""; fi
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".$extra"
  echo "$want" > "$stamp"
fi
echo "== models" >&2
.venv/bin/kb models fetch
if [ "$INDEX" = 1 ]; then
  echo "== index" >&2
  .venv/bin/kb ingest --quiet
fi
