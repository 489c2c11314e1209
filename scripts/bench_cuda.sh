#!/usr/bin/env bash
# Runs `convnotes bench` on a CUDA GPU through XLA (issue 3, item 4): the project column is the GoMLX model with
# the project layers, which on XLA take GoMLX's native convolution (layers.Auto → Native); the torch column is
# scripts/torch_bench.py with DEV=cuda when the Python environment has a CUDA PyTorch (otherwise it says so and
# the Go column still reports).
#
# The PJRT plugin comes from the Python package jax-cuda13-pjrt: its jax_plugins/xla_cuda13/xla_cuda_plugin.so,
# linked as pjrt_c_api_cuda_plugin.so in the folder named by PJRT_PLUGIN_LIBRARY_PATH, with LD_LIBRARY_PATH holding
# the nvidia/*/lib folders of that environment (the nvidia-* CUDA wheels) and XLA_FLAGS=--xla_gpu_cuda_data_dir= a
# folder with bin/ptxas (triton ships one).
#
# Usage: scripts/bench_cuda.sh [bench flags…]      e.g. scripts/bench_cuda.sh --models resnet20 --modes train
# Environment:
#   PYTHON        interpreter of the environment holding jax-cuda13-pjrt (and the nvidia-* wheels, triton,
#                 and optionally a CUDA torch); default: python3
#   SITE_PACKAGES its site-packages folder; default: asked from $PYTHON
#   PLUGIN_DIR    where to link the plugin; default: $HOME/.cache/convnotes/pjrt-cuda
#   PTXAS_DIR     a folder with bin/ptxas; default: found under $SITE_PACKAGES (triton) or /usr/local/cuda
#   OUT           where to build the binary; default: /tmp/convnotes-cuda
set -euo pipefail

cd "$(dirname "$0")/.."
export GOTOOLCHAIN=go1.27.3   # go.mod needs Go 1.27 (fetched into the module cache once)
PYTHON=${PYTHON:-python3}
SITE_PACKAGES=${SITE_PACKAGES:-$("$PYTHON" -c 'import site, sys; print(next(p for p in site.getsitepackages() if p.endswith("-packages")))')}
PLUGIN_DIR=${PLUGIN_DIR:-$HOME/.cache/convnotes/pjrt-cuda}
OUT=${OUT:-/tmp/convnotes-cuda}

plugin="$SITE_PACKAGES/jax_plugins/xla_cuda13/xla_cuda_plugin.so"
if [[ ! -f "$plugin" ]]; then
  echo "bench_cuda: $plugin not found; install it with: $PYTHON -m pip install jax-cuda13-pjrt" \
    "(or set PYTHON/SITE_PACKAGES to the environment that has it)" >&2
  exit 1
fi
mkdir -p "$PLUGIN_DIR"
ln -sf "$plugin" "$PLUGIN_DIR/pjrt_c_api_cuda_plugin.so"
export PJRT_PLUGIN_LIBRARY_PATH="$PLUGIN_DIR"

libs=""
for d in "$SITE_PACKAGES"/nvidia/*/lib; do
  [[ -d "$d" ]] && libs="$libs${libs:+:}$d"
done
if [[ -z "$libs" ]]; then
  echo "bench_cuda: no $SITE_PACKAGES/nvidia/*/lib folders (the nvidia-* CUDA wheels jax-cuda13-pjrt depends on)" >&2
  exit 1
fi
export LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

if [[ -z "${PTXAS_DIR:-}" ]]; then
  ptxas=$(find "$SITE_PACKAGES" -path '*/bin/ptxas' -type f 2>/dev/null | head -n 1 || true)
  if [[ -z "$ptxas" && -x /usr/local/cuda/bin/ptxas ]]; then
    ptxas=/usr/local/cuda/bin/ptxas
  fi
  if [[ -z "$ptxas" ]]; then
    echo "bench_cuda: no bin/ptxas found under $SITE_PACKAGES (pip install triton) or /usr/local/cuda; set PTXAS_DIR" >&2
    exit 1
  fi
  PTXAS_DIR=$(dirname "$(dirname "$ptxas")")
fi
export XLA_FLAGS="--xla_gpu_cuda_data_dir=$PTXAS_DIR${XLA_FLAGS:+ $XLA_FLAGS}"

echo "bench_cuda: plugin $plugin"
echo "bench_cuda: LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
echo "bench_cuda: XLA_FLAGS=$XLA_FLAGS"

# XLA needs cgo (gomlx_models/backend includes go-xla unless built with -tags noxla).
CGO_ENABLED=1 go build -o "$OUT/convnotes" ./cmd/convnotes

export GOMLX_BACKEND=xla:cuda
exec "$OUT/convnotes" bench --backend xla:cuda --columns project,torch --torch-device cuda --python "$PYTHON" "$@"
