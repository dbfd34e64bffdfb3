#!/usr/bin/env bash
# Set up everything (venv with test tools, models, the full index), then run the test suite.
# Extra arguments go to pytest, e.g. scripts/test.sh -m "not slow" -x
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --dev
# The browser tests drive Debian's chromium through Playwright (never `playwright install`).
if [ ! -x /usr/bin/chromium ]; then
  echo "== installing chromium for the browser tests" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null \
    || echo "== could not install chromium: the browser tests will say so" >&2
fi
export KB_FULL_INDEX=1   # the tests that read the real, full index must find it
exec .venv/bin/python -m pytest "$@"
