#!/usr/bin/env bash
# The README's first command: installs what is missing, builds drctl (release), and runs its main
# job on the embedded defaults: a throwaway PostgreSQL and a local repository. Extra arguments go
# to `drctl demo` (e.g. --keep, --output json).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --core
cmake --preset release >/dev/null
cmake --build --preset release --target drctl
exec build/release/src/cli/drctl demo "$@"
