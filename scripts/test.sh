#!/usr/bin/env bash
# The README's test command: install what the tests need, then run them.
# Tests need the `test` extra (pytest, the pinned torch==2.13.0 oracle, scikit-learn,
# matplotlib, Pillow) and a headless Chromium that renders the HTML training report.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "Please install Chromium (Debian/Ubuntu: sudo apt-get install chromium); the report test renders HTML with it." >&2
        exit 1
    fi
fi
python -m pip install -q -e ".[test]"
python -m pytest "$@"
