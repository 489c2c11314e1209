#!/usr/bin/env bash
# Installs the Jupyter kernelspec "convnotes-go" that runs the gonb pinned in go.mod
# against this checkout (go.work with the checkout, GOPROXY=off), with the pinned
# gopls for completion and hover and the Makefile's build settings, so that
# Jupyter opens notebooks/*.ipynb with no setup cell. It prints where it installed
# the kernelspec, where the kernels log, and how to remove it.
# Usage: scripts/install_kernel.sh [--kernel-name NAME] [--jupyter-dir DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=go1.27.3   # go.mod needs Go 1.27 (fetched into the module cache once)
export GOEXPERIMENT="${GOEXPERIMENT-simd}" GOFLAGS="${GOFLAGS:--buildvcs=false}"   # as the Makefile builds
exec go run ./cmd/nbtest --install-kernel "$@"
