# Protobuf code generation (offline: Go module proxy only, no buf.build).
# Included from the main Makefile:  include make/proto.mk
#
# Tools are pinned in scripts/install-proto-tools.sh and installed into
# .tools/bin; third-party protos are copied from the Go module cache into
# third_party/proto. Both directories are git-ignored.

PROTO_BUF := $(CURDIR)/.tools/bin/buf

.PHONY: proto-deps proto-tools proto-gen proto-check proto-lint

proto-deps: ## Copy third-party .proto files from the Go module cache into third_party/proto
	@bash scripts/proto-deps.sh

proto-tools: ## Install pinned buf, protoc-gen-gocosmos and protoc-gen-grpc-gateway into .tools/bin
	@bash scripts/install-proto-tools.sh

proto-gen: ## Regenerate x/**/*.pb.go and *.pb.gw.go from proto/
	@bash scripts/protocgen.sh

proto-check: ## Regenerate and fail if committed generated protobuf code is out of date
	@bash scripts/proto-check.sh

proto-lint: proto-deps proto-tools ## Lint proto/ with buf (third_party is not linted)
	@$(PROTO_BUF) lint proto
