#!/usr/bin/env bash
# Set up everything (venv with test tools, models, the full index), then run the test suite.
# Extra arguments go to pytest, e.g. scripts/test.sh -m "not slow" -x
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --dev
export KB_FULL_INDEX=1   # the tests that read the real, full index must find it
exec .venv/bin/python -m pytest "$@"
