#!/usr/bin/env bash
# The README's second command, and all that CI runs (.ci/run): installs what is missing, then
#   1. clang-format check            5. integration tests (real PostgreSQL, Redis, Swift s3api)
#   2. build with -Werror            6. unit tests under ASan + UBSan
#   3. clang-tidy                    7. each fuzz target briefly, from its corpus and regressions
#   4. unit tests
# Stops at the first failing stage. FUZZ_SECONDS (default 20) sets the time per fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
fuzz_seconds=${FUZZ_SECONDS:-20}
jobs=$(nproc)

stage() { printf '\n=== %s (%s)\n' "$1" "$(date +%T)"; }

stage "install dependencies"
scripts/install-deps.sh

stage "clang-format"
mapfile -t sources < <(git ls-files '*.cc' '*.h')
clang-format-16 --dry-run --Werror "${sources[@]}"
echo "clang-format: ${#sources[@]} files clean"

stage "build (warnings are errors)"
cmake --preset ci >/dev/null
cmake --build --preset ci -- -j"$jobs"

stage "clang-tidy"
cmake --preset tidy >/dev/null
# tests/layering holds a file that must not compile (the layering proof): not for clang-tidy.
run-clang-tidy-16 -p build/tidy -j "$jobs" -quiet "$root/(src|tests/harness|tests/integration|bench)/.*\.cc$" >build/tidy.log 2>&1 || {
  grep -E 'warning:|error:' build/tidy.log | sort -u
  echo "clang-tidy: findings above (full log: build/tidy.log)"
  exit 1
}
echo "clang-tidy: clean"

stage "unit tests"
ctest --test-dir build/ci -L unit -j"$jobs" --output-on-failure

stage "integration tests (real servers)"
ctest --test-dir build/ci -L integration --output-on-failure -V | grep -vE '^\S+: \[ +(RUN|OK) +\]'

stage "unit tests under ASan + UBSan"
cmake --preset debug-asan >/dev/null
cmake --build --preset debug-asan -- -j"$jobs"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build/asan -L unit -j"$jobs" --output-on-failure

stage "fuzz targets (${fuzz_seconds}s each)"
cmake --preset fuzz >/dev/null
mapfile -t fuzz_targets < <(cd tests/fuzz && ls fuzz_*.cc | sed 's/\.cc$//')
cmake --build --preset fuzz --target "${fuzz_targets[@]}"
for name in "${fuzz_targets[@]}"; do
  target=build/fuzz/tests/fuzz/$name
  work=build/fuzz/corpus/$name
  mkdir -p "$work"
  cp -n tests/fuzz/corpus/"$name"/* "$work"/ 2>/dev/null || true
  dirs=("$work")
  [[ -d tests/fuzz/regressions/$name ]] && dirs+=("tests/fuzz/regressions/$name")
  "$target" -max_total_time="$fuzz_seconds" -timeout=10 -artifact_prefix=build/fuzz/ "${dirs[@]}" \
    >build/fuzz/"$name".log 2>&1 || {
    tail -40 build/fuzz/"$name".log
    echo "fuzz: $name found a crash (input saved under build/fuzz/)"
    exit 1
  }
  echo "fuzz: $name $(grep -oE 'Done [0-9]+ runs' build/fuzz/"$name".log) without a crash"
done

stage "all stages passed"
