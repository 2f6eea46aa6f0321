#!/usr/bin/env bash
# The README's first command: installs what is missing, builds drctl (release), and runs its main
# job on the embedded defaults: a throwaway PostgreSQL and a local repository. Extra arguments go
# to `drctl demo` (e.g. --keep, --output json).
set -euo pipefail
cd "$(dirname "$0")/.."
# Set-up output goes to stderr: stdout carries only drctl's result (text, or JSON with --output).
scripts/install-deps.sh --core >&2
cmake --preset release >/dev/null
cmake --build --preset release --target drctl >&2
# Global options (e.g. --output json) go before the subcommand, demo options after it.
globals=()
while [[ $# -gt 0 && ( "$1" == --output || "$1" == --log-level ) ]]; do globals+=("$1" "$2"); shift 2; done
exec build/release/src/cli/drctl "${globals[@]}" demo "$@"
