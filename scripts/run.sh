#!/usr/bin/env bash
# Set up what is missing (venv, dependencies, models, index), then start the app on
# http://${KB_HOST:-127.0.0.1}:${KB_PORT:-7860}.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python app.py
