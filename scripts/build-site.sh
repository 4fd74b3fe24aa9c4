#!/usr/bin/env bash
# Set up a virtual environment (once) and build the sample site into output/.
# Usage: bash scripts/build-site.sh [build options, e.g. --drafts]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/venv.sh
"$VENV/bin/python" build.py "$@"
