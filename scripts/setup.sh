#!/usr/bin/env bash
# Installs what the tests, the benchmark and the demo need on a fresh machine:
# the npm packages (npm ci), Chromium with WebGPU (Debian's package) when /usr/bin/chromium is
# missing, Debian's python3-torch (PyTorch 1.13, the checkpoint round-trip tests' other side) and
# python3-hypothesis (the Python package's property tests).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  echo "setup: $chromium is missing; installing Debian's chromium"
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
"$chromium" --version 2>/dev/null | head -1 || true

if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  echo "setup: PyTorch is missing from /usr/bin/python3; installing Debian's python3-torch"
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-torch >/dev/null
fi

if ! /usr/bin/python3 -c 'import hypothesis' 2>/dev/null; then
  echo "setup: Hypothesis is missing from /usr/bin/python3; installing Debian's python3-hypothesis"
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq python3-hypothesis >/dev/null
fi
