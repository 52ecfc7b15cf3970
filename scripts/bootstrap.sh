#!/usr/bin/env bash
# Create the virtual environment, installing Debian's venv support first if Python lacks it.
set -euo pipefail
PYTHON="${1:-python3.11}"
VENV="${2:-.venv}"
if ! command -v "$PYTHON" >/dev/null; then
  echo "error: $PYTHON not found; Vigil needs Python 3.11" >&2
  exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
  if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
    rm -rf "$VENV"
    if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
      echo "installing Debian's python3-venv" >&2
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv "${PYTHON##*/}-venv" >/dev/null 2>&1 \
        || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
      "$PYTHON" -m venv "$VENV"
    else
      echo "error: '$PYTHON -m venv' failed; install python3-venv" >&2
      exit 1
    fi
  fi
fi
"$VENV/bin/python" -m pip install --quiet --upgrade "pip==25.3" "setuptools==80.9.0"
