#!/usr/bin/env bash
# Installs the Jupyter kernelspec "gonb" that runs the gonb pinned in go.mod
# against this checkout (go.work with the checkout, GOPROXY=off), so that
# JupyterLab/Notebook open notebooks/*.ipynb with no setup cell.
# Usage: scripts/install_kernel.sh [--kernel-name NAME] [--jupyter-dir DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
exec go run ./cmd/nbtest --install-kernel "$@"
