#!/usr/bin/env bash
# Installs the pinned protobuf code-generation tools into ./.tools/bin
# (git-ignored). Uses `go install pkg@version` so the tools' dependencies never
# touch this repo's go.mod/go.sum. Only the Go module proxy is needed.
#
# A tool is skipped when its binary exists and .tools/bin/.versions records the
# same pinned version, so repeated runs are instant.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Serialize concurrent runs (two regens racing on third_party/ or .tools/).
# Nested calls from protocgen.sh inherit the held lock via NRO_PROTO_LOCKED.
if [[ -z "${NRO_PROTO_LOCKED:-}" ]] && command -v flock >/dev/null 2>&1; then
  mkdir -p "$ROOT/.tools"
  exec 9>"$ROOT/.tools/proto.lock"
  flock 9
  export NRO_PROTO_LOCKED=1
fi

BIN="$ROOT/.tools/bin"
STAMP="$BIN/.versions"

# name|package|version  -- exact versions only (the proxy may refuse @latest).
TOOLS=(
  "buf|github.com/bufbuild/buf/cmd/buf|v1.50.0"
  # Must match github.com/cosmos/gogoproto in go.mod (runtime/codegen pairing).
  "protoc-gen-gocosmos|github.com/cosmos/gogoproto/protoc-gen-gocosmos|v1.7.2"
  # Must match github.com/grpc-ecosystem/grpc-gateway in go.mod.
  "protoc-gen-grpc-gateway|github.com/grpc-ecosystem/grpc-gateway/protoc-gen-grpc-gateway|v1.16.0"
)

mkdir -p "$BIN"
touch "$STAMP"

# Warn (do not fail) if a codegen plugin drifts from the runtime in go.mod.
check_gomod() {
  local mod="$1" want="$2" have
  have="$(go list -m -f '{{.Version}}' "$mod" 2>/dev/null || true)"
  if [[ -n "$have" && "$have" != "$want" ]]; then
    echo "install-proto-tools: WARNING: go.mod has $mod $have but the pinned plugin is $want; update scripts/install-proto-tools.sh" >&2
  fi
}
check_gomod github.com/cosmos/gogoproto v1.7.2
check_gomod github.com/grpc-ecosystem/grpc-gateway v1.16.0

for entry in "${TOOLS[@]}"; do
  IFS='|' read -r name pkg version <<<"$entry"
  line="$name $pkg@$version"
  if [[ -x "$BIN/$name" ]] && grep -qxF "$line" "$STAMP"; then
    continue
  fi
  echo "install-proto-tools: go install $pkg@$version"
  # GOFLAGS is reset so a -mod=... in the caller's environment cannot break
  # `go install pkg@version`; -trimpath keeps the binaries path-independent.
  GOBIN="$BIN" GOFLAGS=-trimpath GOWORK=off go install "$pkg@$version"
  # Record the new version (drop any stale line for this tool first).
  { grep -v "^$name " "$STAMP" || true; echo "$line"; } | LC_ALL=C sort >"$STAMP.tmp"
  mv "$STAMP.tmp" "$STAMP"
done
