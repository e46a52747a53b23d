#!/usr/bin/env bash
# The measurements that wait for a real GPU, in one run of a few minutes, on a machine that has a
# GPU, Node and no network. `bash scripts/gpu-run.sh --prepare` (here, with the dev dependencies)
# bundles what the run needs into .gpu/ (ignored by git, about 25 MB): the Node benchmark bundle
# and the `webgpu` package's Linux x64 build. Then, on the GPU machine, from the repository root
# with .gpu/ beside it: `OUT=dir bash scripts/gpu-run.sh` runs, each part under its own time limit:
#   1. the element-wise rows: every optimizer's packed step (f32, bf16, q8 state, seeded gradients),
#      the copy roofline, TF.js and jax-js, on one 16M tensor, 2000 small ones and a transformer mix;
#   2. 4-bit state: Adam's and AdamW's packed step with f32, q8 and q4 state on one 16M tensor
#      (seeded gradients), so q4's step time stands against f32's and q8's of the same run;
#   3. Muon's rows: Newton–Schulz GFLOP/s per matrix set, Muon vs AdamW, jax-js's Muon;
#   4. PyTorch's CUDA Adam, AdamW and Muon on the same workloads, where python3 has torch with CUDA.
# Results land in $OUT (default bench/results/gpu-run): device.txt, gpu-run.log, one JSON per part
# (`node bench/render.mjs` and bench/merge.mjs turn them into RESULTS.md). `--dry` runs the same
# parts at smoke size on SwiftShader (Chromium's Vulkan driver), to check the script itself.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--prepare" ]; then
  set -e
  npm run --silent bench:bundle >/dev/null
  rm -rf .gpu && mkdir -p .gpu/webgpu/dist
  cp -r dist/bench/. .gpu/
  cp node_modules/webgpu/package.json node_modules/webgpu/index.js .gpu/webgpu/
  cp -r node_modules/webgpu/dist/linux-x64 .gpu/webgpu/dist/
  grep -qx '/.gpu/' .gitignore || echo '/.gpu/' >>.gitignore
  du -sh .gpu
  exit 0
fi

DRY=""
WORKLOADS="16M,2000,transformer"
ONE="16M"
if [ "${1:-}" = "--dry" ]; then
  DRY="--quick"
  WORKLOADS="256K,200,MLP"
  ONE="256K"
  export LD_LIBRARY_PATH="/usr/lib/chromium${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json
fi
OUT=${OUT:-bench/results/gpu-run}
mkdir -p "$OUT"
command -v node >/dev/null || { echo "gpu-run: no node on this machine" | tee "$OUT/gpu-run.log"; exit 1; }
[ -f .gpu/node-entry.js ] || { echo "gpu-run: .gpu/ is missing: run bash scripts/gpu-run.sh --prepare first" | tee "$OUT/gpu-run.log"; exit 1; }
# run-node.mjs imports `webgpu`: resolve it from .gpu/ when no node_modules holds it.
if [ ! -e node_modules/webgpu ]; then mkdir -p node_modules && ln -s ../.gpu/webgpu node_modules/webgpu; fi
export BENCH_BUNDLE=.gpu/node-entry.js

{ date -u +%FT%TZ; nvidia-smi -L 2>/dev/null || echo "no nvidia-smi"; node -v; } >"$OUT/device.txt"

part() { # name, seconds, command...
  local name=$1 limit=$2; shift 2
  local t0=$SECONDS
  rm -f bench/results/${DRY:+quick/}latest.json
  echo "== $name: $*" >>"$OUT/gpu-run.log"
  timeout "$limit" "$@" >>"$OUT/gpu-run.log" 2>&1
  echo "$name: exit $? after $((SECONDS - t0)) s" | tee -a "$OUT/gpu-run.log"
  # A part stopped by its limit leaves the rows it measured in bench/results/partial/.
  for f in bench/results/partial/*.json; do [ -f "$f" ] && mv "$f" "$OUT/$name-partial.json"; done
}
part elementwise "${ELEMENTWISE_S:-240}" node bench/run-node.mjs $DRY --workloads "$WORKLOADS" \
  --modes fused,fusedBf16,fusedQ8,roofline,tfjsWebgpu,jaxFlat
cp bench/results/${DRY:+quick/}latest.json "$OUT/elementwise.json" 2>/dev/null
part q4 "${Q4_S:-90}" node bench/run-node.mjs $DRY --optimizers adam,adamw --workloads "$ONE" --modes fused,fusedQ8,fusedQ4
cp bench/results/${DRY:+quick/}latest.json "$OUT/q4.json" 2>/dev/null
part muon "${MUON_S:-180}" node bench/run-node.mjs $DRY --muon --optimizers adam --workloads "$ONE" --modes fused
cp bench/results/${DRY:+quick/}latest.json "$OUT/muon.json" 2>/dev/null
if python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  t0=$SECONDS
  timeout "${TORCH_S:-120}" python3 bench/torch-cuda.py >"$OUT/torch-cuda.json" 2>>"$OUT/gpu-run.log"
  echo "torch: exit $? after $((SECONDS - t0)) s" | tee -a "$OUT/gpu-run.log"
else
  echo "torch: no python3 torch with CUDA here" | tee -a "$OUT/gpu-run.log"
fi
true
