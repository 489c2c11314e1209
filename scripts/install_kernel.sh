#!/usr/bin/env bash
# Installs the Jupyter kernelspec "gonb" that runs the gonb pinned in go.mod
# against this checkout (go.work with the checkout, GOPROXY=off), so that
# JupyterLab/Notebook open notebooks/*.ipynb with no setup cell.
# Usage: scripts/install_kernel.sh [--kernel-name NAME] [--jupyter-dir DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=go1.27.3   # go.mod needs Go 1.27 (fetched into the module cache once)
exec go run ./cmd/nbtest --install-kernel "$@"
