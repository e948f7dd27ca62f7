# fairway — every target works on a fresh clone with only Go (see go.mod) and make.

GO       ?= go
BIN      := bin/fairway
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS  := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
FUZZTIME ?= 60s
# The Helm chart's tests: a Go module of their own.
CHART_TESTS := tests/helmchart
# make run gives the fleet unprivileged Ingress ports (8080, 8443), so a local Envoy needs no root.
RUN_FLAGS ?= --http-port 8080 --https-port 8443

# The demo and the image need Docker; prefer the compose plugin, else docker-compose.
IMAGE    ?= fairway:dev
COMPOSE  ?= $(shell docker compose version >/dev/null 2>&1 && echo "docker compose" || echo docker-compose)
# The demo Envoy's bootstrap: fairway is the compose service "fairway" on :18000.
COMPOSE_BOOTSTRAP_ARGS := bootstrap --xds-address fairway:18000 --node-id demo-envoy --admin-address 0.0.0.0:9901

.PHONY: all build run test lint grpcjs control-plane bench fuzz golden clean image demo compose-bootstrap chart soak

all: build

## build: compile bin/fairway
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/fairway

## run: the main job on the embedded default: serve manifests/examples over plaintext xDS on 127.0.0.1:18000
run: build
	$(BIN) serve --manifests manifests/examples $(RUN_FLAGS)

## test: lint, then every test (race detector on); the fuzz target runs its seed corpus.
## tests/kubeapi needs a real kube-apiserver and etcd: unless FAIRWAY_CONTROL_PLANE_BINS
## is set, they are built first (once; minutes cold, cached after) so a fresh clone runs them too.
## The grpc-js-xds peer test needs Node.js: without it, it skips. tests/ holds minutes of
## fault tests (churn soak, slow consumer, reconnect storm): the timeout leaves them room.
## tests/helmchart is a module of its own (Helm's and kustomize's dependencies
## stay out of go.mod): it lints the Helm chart and holds it to manifests/kubernetes
test: lint grpcjs
	@if [ -z "$$FAIRWAY_CONTROL_PLANE_BINS" ]; then \
		FAIRWAY_CONTROL_PLANE_BINS="$$(bash hack/control-plane-bins.sh)" || exit 1; \
		export FAIRWAY_CONTROL_PLANE_BINS; \
	fi; \
	echo "FAIRWAY_CONTROL_PLANE_BINS=$$FAIRWAY_CONTROL_PLANE_BINS $(GO) test -race -count=1 -timeout 30m ./..."; \
	$(GO) test -race -count=1 -timeout 30m ./... && \
	echo "cd $(CHART_TESTS) && $(GO) test -race -count=1 ./..." && \
	cd $(CHART_TESTS) && $(GO) test -race -count=1 ./...

## chart: helm lint manifests/helm/fairway and compare its default rendering
## with the kustomize install (no cluster needed; make test also applies both)
chart:
	cd $(CHART_TESTS) && $(GO) test -count=1 -run 'TestHelmLint|TestDefaultValuesRenderTheKustomizeInstall' ./...

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

## lint: gofmt check plus go vet (of both modules)
lint:
	@unformatted="$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"; \
	if [ -n "$$unformatted" ]; then echo "not gofmt-formatted:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	cd $(CHART_TESTS) && $(GO) vet ./...

## soak: the churn soak of tests/soak_test.go with a churn phase of DURATION (default 1h):
## random Ingress, Service and EndpointSlice edits at 10/s while streams come and go; ends
## with a "soak:" result line (heap, goroutines, RSS). The test bounds each of its waits
## itself, so go test's own timeout is off
DURATION ?= 1h
soak:
	FAIRWAY_SOAK_DURATION=$(DURATION) $(GO) test -count=1 -v -timeout 0 -run '^TestChurnSoak$$' ./tests

## bench: the publish benchmarks and the fan-out load test, on the large workload
## and on the large TLS one (--ssl-redirect); prints the targets beside the
## measurements and writes bench/results.md and bench/convergence*.svg.
## SCALE=huge also runs the publish benchmarks at 100k Services, 100k Ingresses
## and 1M endpoints and reports them beside the 10k figures (a few GB, minutes)
SCALE ?=
bench: build
	$(GO) run ./tests/benchreport -fairway $(BIN) -out bench $(if $(SCALE),-scale $(SCALE))

## fuzz: run FuzzTranslate for FUZZTIME (default 60s)
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzTranslate -fuzztime $(FUZZTIME) -fuzzminimizetime 100x ./translator

## golden: regenerate translator/testdata/*/output.yaml (review the diff!)
golden:
	$(GO) test ./translator -run TestGolden -update

## image: the container image (static binary, distroless, non-root); needs Docker
image:
	docker build -t $(IMAGE) --build-arg VERSION=$(VERSION) --build-arg COMMIT=$(COMMIT) .

## demo: fairway + Envoy + echo backends from manifests/compose (Docker); see the README
demo:
	cd manifests/compose && $(COMPOSE) up --build

## compose-bootstrap: regenerate manifests/compose/envoy-bootstrap.yaml (a test holds it
## identical to the command named in its first line)
compose-bootstrap: build
	{ echo "# Generated by make compose-bootstrap: fairway $(COMPOSE_BOOTSTRAP_ARGS)"; \
	  $(BIN) $(COMPOSE_BOOTSTRAP_ARGS); } > manifests/compose/envoy-bootstrap.yaml

clean:
	rm -rf bin
