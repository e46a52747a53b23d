#!/usr/bin/env bash
# The benchmark in Node through Dawn (npm package `webgpu`). Without a GPU driver, Dawn runs on
# SwiftShader's Vulkan driver, the one Debian's Chromium ships (with its own Vulkan loader).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -z "${VK_ICD_FILENAMES:-}" ] && ! ldconfig -p 2>/dev/null | grep -q libvulkan.so.1; then
  export LD_LIBRARY_PATH="/usr/lib/chromium${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json
  echo "bench:node: no Vulkan loader on this host; using Chromium's loader and SwiftShader (CPU-emulated)"
fi
npm run --silent bench:bundle >/dev/null
node bench/run-node.mjs "$@"
