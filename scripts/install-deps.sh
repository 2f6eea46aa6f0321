#!/usr/bin/env bash
# Idempotent installer of the Debian packages drctl needs. Safe to run again: only missing
# packages are installed, and `apt-get update` runs only when something is missing. Needs root
# (or sudo).
#   scripts/install-deps.sh          everything: build, tests (real servers), tooling, benchmarks
#   scripts/install-deps.sh --core   what building drctl and running `drctl demo` need
set -euo pipefail

core=(
  build-essential cmake ninja-build pkg-config git
  libpq-dev libssl-dev libzstd-dev liblz4-dev libcurl4-openssl-dev libhiredis-dev
  nlohmann-json3-dev libcli11-dev libtomlplusplus-dev libfmt-dev libspdlog-dev
  libgtest-dev libgmock-dev googletest libcpp-httplib-dev
  postgresql-15 postgresql-contrib postgresql-client-15
)
extra=(
  # clang 16: its tools parse libstdc++ 12's <expected> (doc/build.md)
  clang-16 clang-format-16 clang-tidy-16 libclang-rt-16-dev
  libbenchmark-dev
  # real peers for integration tests
  redis-server redis-tools
  swift swift-proxy swift-account swift-container swift-object memcached python3-swift
  # independent clients and reference tools (cross-checks, benchmarks)
  awscli s3cmd pgbackrest zstd procps curl ca-certificates
  # the daemon's tests: a Prometheus text-format parser (promtool), a headless browser
  prometheus chromium fonts-dejavu-core
)

packages=("${core[@]}")
if [[ "${1:-}" != "--core" ]]; then packages+=("${extra[@]}"); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
