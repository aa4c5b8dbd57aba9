# Ethereum settlement contracts (contracts/).
# Included from the main Makefile:  include make/contracts.mk
#
# solc (solcjs) and OpenZeppelin are pinned in contracts/package.json and
# contracts/package-lock.json; abigen is pinned to the go-ethereum version in
# go.mod. Artifacts (contracts/build) and Go bindings (contracts/bindings) are
# committed; contracts-check fails when they are stale.

ABIGEN_VERSION ?= v1.17.10
ABIGEN         := go run github.com/ethereum/go-ethereum/cmd/abigen@$(ABIGEN_VERSION)
CONTRACTS_DIR  := contracts
CONTRACT_NAMES := NROSettlement WrappedNRO
# Go file name for each contract binding: <Type>:<file>
CONTRACT_BINDINGS := NROSettlement:nro_settlement WrappedNRO:wrapped_nro

.PHONY: contracts-deps contracts contracts-compile contracts-bindings contracts-check contracts-test

contracts-deps: ## Install the pinned solc and OpenZeppelin into contracts/node_modules (npm ci)
	cd $(CONTRACTS_DIR) && npm ci --no-audit --no-fund

contracts-compile: ## Compile contracts/src into contracts/build/<Contract>.abi and .bin
	@test -d $(CONTRACTS_DIR)/node_modules/solc || { echo "contracts/node_modules missing: run 'make contracts-deps' first"; exit 1; }
	cd $(CONTRACTS_DIR) && node scripts/compile.mjs

contracts-bindings: ## Regenerate the abigen v2 Go bindings in contracts/bindings from contracts/build
	@set -e; for pair in $(CONTRACT_BINDINGS); do \
		type=$${pair%%:*}; file=$${pair##*:}; \
		echo "abigen -v2 $$type -> $(CONTRACTS_DIR)/bindings/$$file.go"; \
		$(ABIGEN) -v2 --abi $(CONTRACTS_DIR)/build/$$type.abi --bin $(CONTRACTS_DIR)/build/$$type.bin \
			--pkg bindings --type $$type --out $(CONTRACTS_DIR)/bindings/$$file.go; \
	done

contracts: contracts-compile contracts-bindings ## Compile the Solidity contracts and regenerate the Go bindings

contracts-check: contracts ## Recompile and fail if contracts/build or contracts/bindings differ from git
	@if [ -n "$$(git status --porcelain -- $(CONTRACTS_DIR)/build $(CONTRACTS_DIR)/bindings)" ]; then \
		echo "ERROR: contracts/build or contracts/bindings are out of date with contracts/src."; \
		echo "Run 'make contracts-deps contracts' and commit the result. Differences:"; \
		git status --porcelain -- $(CONTRACTS_DIR)/build $(CONTRACTS_DIR)/bindings; \
		git --no-pager diff --stat -- $(CONTRACTS_DIR)/build $(CONTRACTS_DIR)/bindings; \
		exit 1; \
	fi
	@echo "contracts/build and contracts/bindings are up to date."

contracts-test: ## Run the contract tests on the go-ethereum simulated backend
	go test ./$(CONTRACTS_DIR)/...
