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

# Installs Debian's package $1 (one `apt-get update` per run at most), saying why ($2).
apt_updated=""
apt_install() {
  echo "setup: $2; installing Debian's $1"
  local sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  if [ -z "$apt_updated" ]; then $sudo apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$1" >/dev/null
}

chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then apt_install chromium "$chromium is missing"; fi
"$chromium" --version 2>/dev/null | head -1 || true

if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then apt_install python3-torch "PyTorch is missing from /usr/bin/python3"; fi
if ! /usr/bin/python3 -c 'import hypothesis' 2>/dev/null; then apt_install python3-hypothesis "Hypothesis is missing from /usr/bin/python3"; fi
