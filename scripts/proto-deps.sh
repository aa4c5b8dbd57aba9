#!/usr/bin/env bash
# Copies the third-party .proto files this repo's protos import from the Go
# module cache into third_party/proto/ (git-ignored). The versions are the ones
# pinned in go.mod, so the imported schemas always match the Go runtime code.
#
# Fully offline once the modules are in the module cache (only the Go module
# proxy is needed to fill it); no buf.build access is required.
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

DEST="$ROOT/third_party/proto"

MODULES=(
  github.com/cosmos/cosmos-sdk
  github.com/cosmos/gogoproto
  github.com/cosmos/cosmos-proto
  github.com/grpc-ecosystem/grpc-gateway
)

# Make sure the modules (at the go.mod versions) are in the module cache.
for m in "${MODULES[@]}"; do
  go mod download "$m"
done

moddir() {
  local dir
  dir="$(go list -m -f '{{.Dir}}' "$1")"
  if [[ -z "$dir" || ! -d "$dir" ]]; then
    echo "proto-deps: cannot locate $1 in the module cache (is it required in go.mod?)" >&2
    exit 1
  fi
  printf '%s\n' "$dir"
}

SDK_DIR="$(moddir github.com/cosmos/cosmos-sdk)"
GOGO_DIR="$(moddir github.com/cosmos/gogoproto)"
CPROTO_DIR="$(moddir github.com/cosmos/cosmos-proto)"
GW_DIR="$(moddir github.com/grpc-ecosystem/grpc-gateway)"

rm -rf "$DEST"
mkdir -p "$DEST"

# copy_protos SRC_ROOT REL_PATH... : copies only *.proto files (never the
# upstream buf.yaml/buf.lock, which would confuse the buf workspace), keeping
# the directory layout relative to SRC_ROOT.
copy_protos() {
  local src="$1"; shift
  (cd "$src" && find "$@" -type f -name '*.proto' -print0 | LC_ALL=C sort -z \
    | tar --null --no-recursion -cf - -T -) | (cd "$DEST" && tar -xf - --no-same-owner)
}

# Cosmos SDK: cosmos/**, amino/** and the tendermint/** protos it imports.
copy_protos "$SDK_DIR/proto" .
copy_protos "$GOGO_DIR" gogoproto/gogo.proto
copy_protos "$CPROTO_DIR/proto" cosmos_proto/cosmos.proto
copy_protos "$GW_DIR/third_party/googleapis" google/api/annotations.proto google/api/http.proto
# google/protobuf/*.proto (well-known types) are bundled with buf itself.

# Module cache files are read-only.
chmod -R u+w "$DEST"

echo "proto-deps: $(find "$DEST" -name '*.proto' | wc -l | tr -d ' ') files in ${DEST#"$ROOT"/} ($(go list -m -f '{{.Path}}@{{.Version}}' "${MODULES[@]}" | tr '\n' ' '))"
