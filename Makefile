# craftledger — `make help` lists every target. The two that matter to a newcomer:
#   make run    start the whole system on the embedded store, with demo data
#   make test   run every test (installs what the tests need on a fresh machine)

SHELL := /usr/bin/env bash
GO    ?= go
BIN   := $(CURDIR)/bin
DATA  ?= $(CURDIR)/data

# Every module of the workspace (go.work); targets loop over these.
MODULES := events pkg graphql deploy \
	services/registry services/training services/competition \
	services/mentorship services/honour services/craftledger
PKGS := $(foreach m,$(MODULES),./$(m)/...)

# Binaries: each main package under a cmd/ directory becomes bin/<name>.
CMDS = $(shell find $(MODULES) -path '*/cmd/*' -name main.go -exec dirname {} \; | sort)

STATICCHECK_VERSION := 2026.1

.DEFAULT_GOAL := help

.PHONY: help
help: ## list the targets with what they do
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## build every binary into bin/
	@mkdir -p $(BIN)
	@for c in $(CMDS); do echo "go build -o bin/$$(basename $$c) ./$$c"; $(GO) build -o $(BIN)/$$(basename $$c) ./$$c || exit 1; done

.PHONY: run
run: build ## start the all-in-one craftledger on ./data with demo data (DATA=dir to change)
	$(BIN)/craftledger --data $(DATA) --demo

.PHONY: test
test: ## run every unit, contract, integration and end-to-end test
	$(GO) test -count=1 -timeout 20m $(PKGS)

.PHONY: test-short
test-short: ## the fast tests only (skips crash, browser and long suites)
	$(GO) test -short -count=1 $(PKGS)

.PHONY: test-e2e
test-e2e: build ## end-to-end tests only (real binaries, HTTP, browser)
	$(GO) test -count=1 -run 'E2E' $(PKGS)

.PHONY: bench
bench: ## run the benchmarks and write docs/benchmarks.md figures
	$(GO) test -run '^$$' -bench . -benchtime 2s $(PKGS)

.PHONY: fmt
fmt: ## format all Go code
	gofmt -w $(MODULES)

.PHONY: lint
lint: ## gofmt check, go vet, staticcheck (pinned) and the pure-domain import rule
	@out=$$(gofmt -l $(MODULES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) $(PKGS)
	$(GO) test -count=1 -run TestPureDomain ./events/...

.PHONY: clean
clean: ## remove bin/ (keeps ./data)
	rm -rf $(BIN)
