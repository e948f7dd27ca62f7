# fairway — every target works on a fresh clone with only Go (see go.mod) and make.

GO       ?= go
BIN      := bin/fairway
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
FUZZTIME ?= 60s
# make run gives the fleet unprivileged Ingress ports (8080, 8443), so a local Envoy needs no root.
RUN_FLAGS ?= --http-port 8080 --https-port 8443

.PHONY: all build run test lint grpcjs control-plane bench fuzz golden clean

all: build

## build: compile bin/fairway
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/fairway

## run: the main job on the embedded default: serve manifests/examples over xDS on :18000
run: build
	$(BIN) serve --manifests manifests/examples $(RUN_FLAGS)

## test: lint, then every test (race detector on); the fuzz target runs its seed corpus.
## tests/kubeapi needs a real kube-apiserver and etcd: unless FAIRWAY_CONTROL_PLANE_BINS
## is set, they are built first (once; minutes cold, cached after) so a fresh clone runs them too.
## The grpc-js-xds peer test needs Node.js: without it, it skips
test: lint grpcjs
	@if [ -z "$$FAIRWAY_CONTROL_PLANE_BINS" ]; then \
		FAIRWAY_CONTROL_PLANE_BINS="$$(bash hack/control-plane-bins.sh)" || exit 1; \
		export FAIRWAY_CONTROL_PLANE_BINS; \
	fi; \
	echo "FAIRWAY_CONTROL_PLANE_BINS=$$FAIRWAY_CONTROL_PLANE_BINS $(GO) test -race -count=1 ./..."; \
	$(GO) test -race -count=1 ./...

## control-plane: build the kube-apiserver and etcd binaries tests/kubeapi runs (cached
## by version under $FAIRWAY_TOOLS_DIR or ~/.cache/fairway) and print their directory
control-plane:
	@bash hack/control-plane-bins.sh

## grpcjs: install the pinned @grpc/grpc-js-xds peer of tests/grpcjs_test.go (npm ci, when
## package-lock.json changed); without npm it says so and the test skips. A failed npm ci
## only warns, unless FAIRWAY_GRPCJS=require (as in CI)
grpcjs: tests/grpcjs/node_modules/.package-lock.json

tests/grpcjs/node_modules/.package-lock.json: tests/grpcjs/package.json tests/grpcjs/package-lock.json
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "npm not found: skipping tests/grpcjs (the grpc-js-xds peer test will skip)"; \
	elif ! (cd tests/grpcjs && npm ci --no-audit --no-fund --ignore-scripts); then \
		echo "npm ci in tests/grpcjs failed (the grpc-js-xds peer test will try again, or skip)"; \
		[ "$$FAIRWAY_GRPCJS" != require ]; \
	fi

## lint: gofmt check plus go vet
lint:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$unformatted" ]; then echo "not gofmt-formatted:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

## bench: the publish benchmarks and the fan-out load test; prints the targets
## beside the measurements and writes bench/results.md and bench/convergence.svg
bench: build
	$(GO) run ./tests/benchreport -fairway $(BIN) -out bench

## fuzz: run FuzzTranslate for FUZZTIME (default 60s)
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzTranslate -fuzztime $(FUZZTIME) -fuzzminimizetime 100x ./translator

## golden: regenerate translator/testdata/*/output.yaml (review the diff!)
golden:
	$(GO) test ./translator -run TestGolden -update

clean:
	rm -rf bin
