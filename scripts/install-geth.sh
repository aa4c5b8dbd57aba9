#!/usr/bin/env bash
# Installs the pinned geth (go-ethereum's cmd/geth) into .tools/bin for the
# geth --dev integration test (make test-geth). Skips the build when
# .tools/bin/geth already reports the pinned version.
set -euo pipefail

GETH_VERSION="${GETH_VERSION:-v1.17.10}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="${ROOT}/.tools/bin"
GETH="${BIN_DIR}/geth"

want="${GETH_VERSION#v}"
if [[ -x "${GETH}" ]]; then
	have="$("${GETH}" version 2>/dev/null | awk -F': ' '/^Version:/ {print $2}' | sed 's/-.*//')"
	if [[ "${have}" == "${want}" ]]; then
		echo "geth ${GETH_VERSION} already installed at ${GETH}"
		exit 0
	fi
	echo "geth at ${GETH} reports version '${have:-unknown}', want ${want}: reinstalling"
fi

mkdir -p "${BIN_DIR}"
echo "installing geth ${GETH_VERSION} into ${BIN_DIR} (go install, takes a few minutes on 2 cores)"
start=$(date +%s)
GOBIN="${BIN_DIR}" GOFLAGS=-buildvcs=false go install "github.com/ethereum/go-ethereum/cmd/geth@${GETH_VERSION}"
echo "geth ${GETH_VERSION} installed in $(( $(date +%s) - start ))s: $("${GETH}" version | awk -F': ' '/^Version:/ {print $2}')"
