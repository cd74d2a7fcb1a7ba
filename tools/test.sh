#!/usr/bin/env bash
# What CI runs (.ci/run): builds Tongban and runs every test, then the same suite under sanitizers
# and the fuzzers, each stage in a build folder of its own. Extra arguments go to ctest for the main
# suite only. Each stage's time is printed at the end; tests/README.md says what each costs.
#   stage      folder       what
#   main       build/       GCC RelWithDebInfo, -Werror; the whole suite (fuzz corpora replayed)
#   asan       build-asan/  GCC -O1, ASan + UBSan; the whole suite
#   tsan       build-tsan/  GCC -O1, TSan; engine_test only, its concurrency tests only
#   fuzz       build-fuzz/  clang, libFuzzer + ASan + UBSan; each harness for TONGBAN_FUZZ_SECONDS
# TONGBAN_STAGES picks stages (default "main": the sanitizer and fuzz stages have not yet been run
# to completion within CI's 40-minute budget; run them with TONGBAN_STAGES="main asan tsan fuzz").
# TONGBAN_FUZZ_SECONDS (default 30).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh
jobs=$(nproc)
stages=${TONGBAN_STAGES:-main}
build_dir=${TONGBAN_BUILD_DIR:-build}
sanitized=(-DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g"
  -DTONGBAN_WERROR=ON)
# The tests of the store writer, group commit, idempotency races and timers: the ones with threads.
# The API's own race tests (api.*Concurrent*) are left to the ASan stage: building api_test a third
# time would not fit CI's 40 minutes, and the races they drive are the engine's, tested here.
# Run directly: ctest would need every other test binary of the tree built to list its tests.
tsan_tests='SqliteStore.*:*Concurrent*:*Timer*'
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}

timings=()
timed() {  # timed NAME COMMAND...: runs it and records how long it took
  local name=$1 start=$SECONDS
  shift
  "$@"
  timings+=("$(printf '%-12s %4ds' "$name" $((SECONDS - start)))")
}

for stage in $stages; do
  case $stage in
    main)
      # The console's browser test (ctest label browser) drives Debian's chromium with the npm
      # packages pinned in tests/browser/package-lock.json; no browser is downloaded.
      timed npm-ci env -C tests/browser PUPPETEER_SKIP_DOWNLOAD=1 npm ci --no-audit --no-fund
      cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTONGBAN_WERROR=ON >/dev/null
      timed main-build cmake --build "$build_dir" -j "$jobs"
      timed main-test ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" "$@"
      ;;
    asan)
      cmake -S . -B build-asan "${sanitized[@]}" -DTONGBAN_SANITIZE=address,undefined >/dev/null
      timed asan-build cmake --build build-asan -j "$jobs"
      timed asan-test ctest --test-dir build-asan --output-on-failure -j "$jobs"
      ;;
    tsan)
      cmake -S . -B build-tsan "${sanitized[@]}" -DTONGBAN_SANITIZE=thread >/dev/null
      timed tsan-build cmake --build build-tsan -j "$jobs" --target engine_test
      timed tsan-test build-tsan/engine/engine_test --gtest_filter="$tsan_tests"
      ;;
    fuzz)
      timed fuzz tools/fuzz.sh "${TONGBAN_FUZZ_SECONDS:-30}"
      ;;
    *)
      echo "tools/test.sh: unknown stage $stage" >&2
      exit 2
      ;;
  esac
done
echo "tools/test.sh: stage times"
printf '  %s\n' "${timings[@]}"
