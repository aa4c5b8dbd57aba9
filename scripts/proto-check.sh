#!/usr/bin/env bash
# Regenerates the protobuf Go code and fails if the committed generated files
# (x/**/*.pb.go, x/**/*.pb.gw.go) differ from a fresh generation, including
# generated files that are new (untracked) or stale (deleted by the regen).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

bash scripts/protocgen.sh

# --untracked-files=all lists individual files, not just a new directory.
changes="$(git status --porcelain --untracked-files=all -- 'x/**/*.pb.go' 'x/**/*.pb.gw.go')"
if [[ -n "$changes" ]]; then
  echo >&2
  echo "proto-check: FAILED: generated protobuf code is out of date with proto/." >&2
  echo "proto-check: these files differ from a fresh 'make proto-gen' (git status):" >&2
  sed 's/^/  /' <<<"$changes" >&2
  echo "proto-check: run 'make proto-gen' and commit the result." >&2
  exit 1
fi
echo "proto-check: OK, generated code is up to date."
