# craftledger — `make help` lists every target. The two that matter to a newcomer:
#   make run    start the whole system on the embedded store, with demo data
#   make test   run every test (installs what the tests need on a fresh machine)

SHELL := /usr/bin/env bash
GO    ?= go
BIN   := $(CURDIR)/bin
DATA  ?= $(CURDIR)/data

# Builds inside containers and CI checkouts may have no usable VCS metadata.
export GOFLAGS := -buildvcs=false $(filter-out -buildvcs=%,$(GOFLAGS))

# Every module of the workspace, read from go.work so a new module is picked up
# without editing this file.
MODULES := $(shell sed -n 's|^[[:space:]]*"DiskPath": "\./\(.*\)"|\1|p' <<<"$$($(GO) work edit -json)")
PKGS    := $(foreach m,$(MODULES),./$(m)/...)

# Binaries: each main package under a cmd/ directory becomes bin/<name>.
CMDS = $(shell find $(MODULES) -path '*/cmd/*' -name main.go -exec dirname {} \; | sort)

# Container images built by `make images` from deploy/docker/Dockerfile: one per
# server binary, name=cmd directory (deploy/images_test.go checks the list).
IMAGE_PREFIX ?= craftledger
IMAGE_TAG    ?= dev
IMAGES := registry=services/registry/cmd/registry \
	training=services/training/cmd/training \
	competition=services/competition/cmd/competition \
	mentorship=services/mentorship/cmd/mentorship \
	honour=services/honour/cmd/honour \
	graphql=graphql/cmd/graphql \
	eventstore=pkg/cmd/eventstore \
	craftledger=services/craftledger/cmd/craftledger

STATICCHECK_VERSION := v0.8.2

# make bench: which benchmarks, for how long, and where the raw figures go.
BENCH     ?= .
BENCHTIME ?= 2s
BENCH_OUT ?= $(CURDIR)/bench.out

# make test and make test-e2e first make sure chromium and a CJK font are
# installed (scripts/ensure-chromium.sh installs them as root on Debian) and
# stop when they cannot be: a silently skipped browser test is a test that
# did not run. SKIP_BROWSER=1 skips the check; the browser test then runs if
# a chromium is found and skips itself otherwise (it fails when CI is set).
SKIP_BROWSER ?=
ENSURE_CHROMIUM ?= scripts/ensure-chromium.sh
ENSURE_BROWSER = if [ "$(SKIP_BROWSER)" = 1 ]; then \
	  echo "make: SKIP_BROWSER=1: not checking for chromium and a CJK font" >&2; \
	elif ! $(ENSURE_CHROMIUM) >/dev/null; then \
	  echo "make: $(ENSURE_CHROMIUM) failed (above); install what it names, or run with SKIP_BROWSER=1 to go without the browser test" >&2; \
	  exit 1; \
	fi

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets with what they do
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## build every binary into bin/
	@mkdir -p $(BIN)
	@for c in $(CMDS); do echo "go build -o bin/$$(basename $$c) ./$$c"; $(GO) build -o $(BIN)/$$(basename $$c) ./$$c || exit 1; done

.PHONY: run
run: build ## start the all-in-one on ./data with demo data and the public development keys (DATA=dir)
	$(BIN)/craftledger --data $(DATA) --demo --dev

.PHONY: test
test: ## run every test of every go.work module, then make smoke and make lint (SKIP_BROWSER=1: no browser install)
	@$(ENSURE_BROWSER)
	$(GO) test -count=1 -timeout 20m $(PKGS)
	scripts/smoke.sh
	@$(MAKE) --no-print-directory lint

.PHONY: test-short
test-short: ## the fast tests only (skips crash, browser and long suites)
	$(GO) test -short -count=1 $(PKGS)

.PHONY: test-e2e
test-e2e: build ## end-to-end tests only (real binaries, HTTP, browser), then make smoke
	@$(ENSURE_BROWSER)
	$(GO) test -count=1 -run 'E2E' $(PKGS)
	scripts/smoke.sh

.PHONY: smoke
smoke: ## start every server as the containers do (static, env-configured) on loopback: ready, then clean stop
	scripts/smoke.sh

.PHONY: deps
deps: ## install what the browser test needs (chromium and a CJK font; root on Debian, else instructions)
	scripts/ensure-chromium.sh

.PHONY: bench
bench: ## run the benchmarks (BENCH=regex BENCHTIME=2s) into bench.out, then the short load run (make bench-load)
	@{ echo "# make bench $$(date -u +%Y-%m-%dT%H:%M:%SZ)"; \
	   echo "# $$($(GO) version); $$(nproc) CPUs: $$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -n 1)"; \
	   echo "# go test -run '^\$$' -bench '$(BENCH)' -benchtime $(BENCHTIME) -benchmem"; } > $(BENCH_OUT)
	set -o pipefail; $(GO) test -count=1 -timeout 60m -run '^$$' -bench '$(BENCH)' -benchtime $(BENCHTIME) -benchmem $(PKGS) 2>&1 | tee -a $(BENCH_OUT)
	@echo "figures written to $(BENCH_OUT); report them in docs/benchmarks.md with the command and the machine"
	$(MAKE) bench-load

# make bench-load: the load harness (bin/loadgen) against the all-in-one
# in-process, short by default; LOAD_DURATION=3m for the long run.
LOAD_RATE     ?= 100
LOAD_DURATION ?= 20s

.PHONY: bench-load
bench-load: ## run the load harness (LOAD_RATE=100 LOAD_DURATION=20s): bench-load.md and bench-load.svg
	$(GO) build -o $(BIN)/loadgen ./services/craftledger/cmd/loadgen
	$(BIN)/loadgen --rate $(LOAD_RATE) --duration $(LOAD_DURATION) --out $(CURDIR)/bench-load.md --svg $(CURDIR)/bench-load.svg

.PHONY: fmt
fmt: ## format all Go code
	gofmt -w $(MODULES)

.PHONY: lint
lint: ## gofmt check, go vet, staticcheck (pinned) and the pure-domain import rule
	@out=$$(gofmt -l $(MODULES)) || { echo "gofmt failed (a file that does not parse?)"; exit 1; }; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) $(PKGS)
	$(GO) test -count=1 -run TestPureDomain ./events/...

.PHONY: images
images: ## build the container images with docker (IMAGE_PREFIX, IMAGE_TAG)
	@for i in $(IMAGES); do name=$${i%%=*}; cmd=$${i#*=}; \
	  echo "docker build -t $(IMAGE_PREFIX)/$$name:$(IMAGE_TAG) --build-arg CMD=$$cmd"; \
	  docker build -f deploy/docker/Dockerfile --build-arg CMD=$$cmd -t $(IMAGE_PREFIX)/$$name:$(IMAGE_TAG) . || exit 1; done

.PHONY: clean
clean: ## remove bin/ and bench.out (keeps ./data)
	rm -rf $(BIN) $(BENCH_OUT)
