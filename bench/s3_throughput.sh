#!/usr/bin/env bash
# drctl's S3 client against awscli on the real Swift s3api (loopback), 1, 2 and 8 streams, as
# ratios measured in the same run (doc/benchmarks.md). Starts and stops its own Swift.
# Usage: bench/s3_throughput.sh [BUILD_DIR] [BENCH_ARGS...]   (default build/release)
#   e.g. bench/s3_throughput.sh build/release --rounds 3 --objects 8 --object-mib 32
# Needs the full dependencies (scripts/install-deps.sh: swift, memcached, awscli) and ~1 GB free
# in $TMPDIR. The harness only exists with DRCTL_INTEGRATION=ON, hence the configure below.
set -euo pipefail
cd "$(dirname "$0")/.."
build=build/release
if [[ $# -gt 0 && "$1" != --* ]]; then
  build=$1
  shift
fi
for tool in /usr/bin/aws /usr/bin/swift-proxy-server /usr/bin/memcached; do
  [[ -x "$tool" ]] || { echo "missing $tool: run scripts/install-deps.sh" >&2; exit 1; }
done
cmake --preset release -B "$build" -DDRCTL_INTEGRATION=ON >/dev/null
cmake --build "$build" --target drctl_s3_throughput_bench >/dev/null
echo "# $(date -u +%FT%TZ) $(nproc) cores, $(uname -r)" >&2
"$build/bench/drctl_s3_throughput_bench" "$@"
