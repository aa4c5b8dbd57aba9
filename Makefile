# Consensus-NRO. `make help` lists the targets.
SHELL := /usr/bin/env bash
GO ?= go
BUILD_DIR ?= $(CURDIR)/build
NROD := $(BUILD_DIR)/nrod
NRO_AGENT := $(BUILD_DIR)/nro-agent
TOOLS_BIN := $(CURDIR)/.tools/bin
GOLANGCI_LINT_VERSION := v2.6.2
GOLANGCI_LINT := $(TOOLS_BIN)/golangci-lint-$(GOLANGCI_LINT_VERSION)
SIM_NUM_BLOCKS ?= 50
SIM_BLOCK_SIZE ?= 100

.DEFAULT_GOAL := help

include make/proto.mk
include make/contracts.mk

.PHONY: help build build-agent build-relayer demo localnet test test-unit test-e2e test-geth test-sim-determinism test-sim-import-export test-sim-bridge test-sim \
	lint gen-regions gen-check clean bench-alloc bench-audit bench-bridge bench-policy bench-agent train-policy

help: ## List the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) | sort | awk 'BEGIN {FS = ":.*?## "}; {printf "  \033[36m%-24s\033[0m %s\n", $$1, $$2}'

build: build-agent build-relayer ## Build nrod, nro-agent and nro-relayer into build/
	@mkdir -p $(BUILD_DIR)
	$(GO) build -o $(NROD) ./cmd/nrod

build-relayer: ## Build nro-relayer into build/
	@mkdir -p $(BUILD_DIR)
	$(GO) build -o $(BUILD_DIR)/nro-relayer ./cmd/nro-relayer

build-agent: ## Build nro-agent into build/ (cgo on: NVML is loaded at run time, the binary starts without it)
	@mkdir -p $(BUILD_DIR)
	$(GO) build -o $(NRO_AGENT) ./cmd/nro-agent

demo: build ## Run the system's main job on embedded defaults and print what happened
	$(GO) run ./networks/demo --nrod $(NROD)

localnet: build ## Start a single validator on 127.0.0.1 until Ctrl-C (LOCALNET_HOME=dir, PORT_OFFSET=n)
	$(GO) run ./networks/localnet --nrod $(NROD) $(if $(LOCALNET_HOME),--home $(LOCALNET_HOME)) --port-offset $(or $(PORT_OFFSET),0)

test: test-unit test-e2e test-geth test-sim-determinism test-sim-import-export test-sim-bridge ## Run every test CI runs: unit, end-to-end, geth --dev and simulations

test-unit: ## Unit, keeper and app tests
	$(GO) test -count=1 ./...

test-e2e: build ## End-to-end test against a real nrod process
	NROD_BINARY=$(NROD) $(GO) test -count=1 -tags e2e -timeout 15m -skip TestRelayAgainstGeth ./tests/e2e/...

test-geth: build ## The bridge against geth --dev (pinned geth installed into .tools/bin first): real nrod, nro-relayer, SIGKILLs
	scripts/install-geth.sh
	NROD_BINARY=$(NROD) NRO_RELAYER_BINARY=$(BUILD_DIR)/nro-relayer GETH_BINARY=$(TOOLS_BIN)/geth \
		$(GO) test -count=1 -tags e2e -timeout 10m -run TestRelayAgainstGeth -v ./tests/e2e/

test-sim-determinism: ## App-state determinism simulation (same seed, same app hash)
	$(GO) test -count=1 ./app -tags sims -run TestAppStateDeterminism -Enabled=true -NumBlocks=$(SIM_NUM_BLOCKS) -BlockSize=$(SIM_BLOCK_SIZE) -Commit=true -Period=0 -v -timeout 30m

test-sim-import-export: ## Simulation, export, import into a new app, compare stores
	$(GO) test -count=1 ./app -tags sims -run TestAppImportExport -Enabled=true -NumBlocks=$(SIM_NUM_BLOCKS) -BlockSize=$(SIM_BLOCK_SIZE) -Commit=true -Period=0 -v -timeout 30m

test-sim-bridge: ## Short simulations (seeds 7, 2989) that must bridge settlement batches: batches made, confirmed, attested and BRIDGED
	$(GO) test -count=1 ./app -tags sims -run TestSimSettlementBatches -v -timeout 20m

test-sim: ## Full-app simulation with invariant checks
	$(GO) test -count=1 ./app -tags sims -run TestFullAppSimulation -Enabled=true -NumBlocks=$(SIM_NUM_BLOCKS) -BlockSize=$(SIM_BLOCK_SIZE) -Commit=true -Period=0 -v -timeout 30m

$(GOLANGCI_LINT):
	@mkdir -p $(TOOLS_BIN)
	GOBIN=$(TOOLS_BIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	@mv $(TOOLS_BIN)/golangci-lint $(GOLANGCI_LINT)

lint: $(GOLANGCI_LINT) ## golangci-lint v2 (pinned) over all packages, including test build tags
	$(GOLANGCI_LINT) run ./...

bench-audit: ## x/audit epoch benchmark: 100-10,000 reporting nodes, DeliverTx per report, EndBlock per block, bytes per node
	$(GO) test ./app -run '^$$' -bench BenchmarkAuditEpoch -benchtime 2x -timeout 60m

bench-bridge: ## Ethereum gas per settled lease: batches of 1/10/100 leases over 10 providers, 4/20/100 validators, vs one ERC20 transfer per lease
	$(GO) test ./x/audit/keeper -run '^$$' -bench BenchmarkBridgeGas -benchtime 1x -timeout 30m

bench-policy: ## Placement policy on held-out Philly slices vs random/first-fit/best-fit/cheapest-first/chain fallback/offline bound (table, docs/policy/*.png), and decision latency over 1,000 nodes
	$(GO) run ./cmd/nro-agent eval --plots docs/policy
	$(GO) test ./agent/policy -run '^$$' -bench BenchmarkDecision -benchtime 2000x

bench-agent: build-agent ## A running nro-agent's resident memory and CPU over several epochs (two agents probing each other on 127.0.0.1)
	scripts/bench-agent.sh $(NRO_AGENT)

train-policy: ## Retrain the committed default policy (agent/policy/default_policy.json) with the default training configuration
	$(GO) run ./cmd/nro-agent train --out agent/policy/default_policy.json

bench-alloc: ## EndBlock allocation benchmark (10-1,000 leases x 100-10,000 nodes) and fallback quality vs exhaustive search
	$(GO) test ./app -run '^$$' -bench BenchmarkEndBlockAllocation -benchtime 3x -timeout 60m
	$(GO) test ./x/allocation/keeper -run TestFallbackVersusExhaustive -count=1 -v | grep -E 'fallback vs exhaustive|^(ok|FAIL|---)'

gen-regions: ## Regenerate the default regions and region link table from data/skyplane-*
	$(GO) run ./scripts/genregions

gen-check: gen-regions ## Fail if generated Go code (regions, region links) is stale
	@git diff --exit-code -- x/allocation/types/regions_gen.go x/allocation/types/links_gen.go || (echo "regions_gen.go or links_gen.go is stale: run make gen-regions and commit" && exit 1)
	@test -z "$$(git ls-files --others --exclude-standard -- x/allocation/types/links_gen.go)" || (echo "links_gen.go is not committed" && exit 1)

clean: ## Remove build outputs
	rm -rf $(BUILD_DIR)
