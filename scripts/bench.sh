#!/usr/bin/env bash
# The main job: the optimizer benchmark in headless Chromium. Installs what it needs first.
# Pass options through: npm run bench -- --quick
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
node bench/run.mjs "$@"
