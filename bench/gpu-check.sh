#!/usr/bin/env bash
# Which ONNX Runtime execution providers (cpu, cuda, webgpu) load on this machine, and the ONNX engine's inference,
# training step and MEI input gradient on each that does (bench/gpu-check.mjs). Runs in a few minutes; works
# without a GPU (it then reports cuda/webgpu as unavailable and why). Usage: bench/gpu-check.sh [out.json]
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f packages/onnx/dist/node.js ] || [ ! -f packages/trainer/dist/index.js ]; then
  pnpm build
fi
command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || echo "nvidia-smi: not found (no NVIDIA driver)"
node bench/gpu-check.mjs "$@"
