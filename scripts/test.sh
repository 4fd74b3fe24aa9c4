#!/usr/bin/env bash
# Install everything the tests need (Python packages, and as root Chromium, chromedriver,
# Java and axe-core) and run the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
CAREERSITE_EXTRAS="test,search" source scripts/venv.sh
bash tests/support/install-test-deps.sh
export PATH="$PWD/$VENV/bin:$PATH"
"$VENV/bin/python" -m pytest "$@"
