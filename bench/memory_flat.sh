#!/usr/bin/env bash
# Peak RSS of the store path for growing inputs (issue: memory stays bounded whatever the size).
# Usage: bench/memory_flat.sh [BUILD_DIR] (default build/release). Needs ~10 GB free in $TMPDIR.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/release}
cmake --build "$build" --target drctl_store_rss_bench >/dev/null
work=$(mktemp -d "${TMPDIR:-/tmp}/drctl-rss-XXXXXX")
trap 'rm -rf "$work"' EXIT
for gib in 1 2 4 8; do
  rm -rf "$work/repo"
  "$build/bench/drctl_store_rss_bench" --gib "$gib" --repo "$work/repo" --jobs "$(nproc)"
done
