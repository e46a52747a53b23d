#!/usr/bin/env bash
# The test command: type check, then the Node unit tests and the GPU tests in headless Chromium
# (WebGPU on SwiftShader when there is no GPU). Installs what it needs first.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || exit 1

npx tsc --noEmit || { echo "typecheck failed"; exit 1; }
# The built library (dist/lib, dist/types): a unit test imports it from plain Node.
npm run --silent build:lib >/dev/null || { echo "library build failed"; exit 1; }

# The gpu-node project runs Dawn (npm package webgpu). Without a Vulkan loader on the host, use the
# loader and SwiftShader driver that Debian's Chromium ships.
if [ -z "${VK_ICD_FILENAMES:-}" ] && ! ldconfig -p 2>/dev/null | grep -q libvulkan.so.1; then
  export LD_LIBRARY_PATH="/usr/lib/chromium${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json
fi

mkdir -p test-results
npx vitest run --reporter=default --reporter=json --outputFile=test-results/vitest.json "$@"
status=$?
# One plain closing line that any CI log reader understands.
node -e '
  const r = JSON.parse(require("fs").readFileSync("test-results/vitest.json", "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
  if (r.numTotalTests === 0 || r.numFailedTests > 0 || skipped > 0) process.exitCode = 1;
' || status=1
exit $status
