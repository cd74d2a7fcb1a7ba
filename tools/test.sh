#!/usr/bin/env bash
# What CI runs (.ci/run): builds Tongban and runs every test, then the same suite under sanitizers
# and the fuzzers, each stage in a build folder of its own. Extra arguments go to ctest for the main
# suite only. Each stage's time is printed at the end; tests/README.md says what each costs.
#   stage      folder       what
#   main       build/       GCC RelWithDebInfo (-O2 -g1), -Werror; the whole suite (fuzz corpora
#                           replayed), the engine and API suites on both stores: SQLite (engine.*,
#                           api.*) and PostgreSQL (engine.pg.*, api.pg.*, ctest label postgres) on a
#                           throwaway cluster started here
#   asan       build-asan/  clang -O0, ASan + UBSan + libFuzzer; the whole suite but the corpus
#                           replays and the PostgreSQL variant (-LE postgres: the stage is the
#                           longest; the PostgreSQL store's conformance tests still run), each
#                           GoogleTest program in shards of one process each (TONGBAN_TEST_SHARDS),
#                           then the fuzz harnesses, two at a time, each for TONGBAN_FUZZ_SECONDS
#                           after every input of its corpus (tools/fuzz.sh)
#   tsan       build-tsan/  clang -O1, TSan; engine_concurrency_test: engine_test's concurrency
#                           tests only
#   fuzz       build-fuzz/  tools/fuzz.sh alone, in a build of its own (not a default stage: the
#                           asan stage runs the same harnesses)
# Sanitizer stages use clang: it builds this tree in about 60 % of GCC's time (a quarter at -O0), and one
# instrumented build then serves both the suite and the fuzzers, which fits CI's 40 minutes.
# TONGBAN_STAGES picks stages (default "main asan tsan"). TONGBAN_FUZZ_SECONDS (default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh
jobs=$(nproc)
stages=${TONGBAN_STAGES:-main asan tsan}
build_dir=${TONGBAN_BUILD_DIR:-build}
# Line tables only (-g1): enough for a sanitizer's stack trace, and much cheaper to build.
# ASan at -O0: clang builds the whole tree in less than half its -O1 time, and the suite then runs
# slower by less than that saves.
sanitized=(-DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTONGBAN_WERROR=ON)
asan_flags="-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O0 -g1"
tsan_flags="-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1"
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
      # A throwaway PostgreSQL cluster for the PostgreSQL store's tests (TONGBAN_TEST_POSTGRES),
      # stopped and removed when this script exits, whatever happens.
      pg_dir=$(mktemp -d /tmp/tongban-pg-XXXXXX)
      trap 'tools/pg_cluster.sh stop "$pg_dir" >/dev/null 2>&1 || true; rm -rf "$pg_dir"' EXIT
      timed pg-start tools/pg_cluster.sh start "$pg_dir" >"$pg_dir.conninfo"
      TONGBAN_TEST_POSTGRES=$(cat "$pg_dir.conninfo")
      rm -f "$pg_dir.conninfo"
      export TONGBAN_TEST_POSTGRES
      timed main-test ctest --test-dir "$build_dir" --output-on-failure -j "$jobs" "$@"
      ;;
    asan)
      # TONGBAN_FUZZ instruments for libFuzzer too (ASan + UBSan are its sanitizers), so the
      # harnesses built here fuzz, and ctest replays their corpora through libFuzzer.
      # Each GoogleTest program runs as 6 shards, one process each, not a process per test: an
      # instrumented process costs about 0.3 s of CPU to start (the root CMakeLists.txt).
      cmake -S . -B build-asan "${sanitized[@]}" "$asan_flags" -DTONGBAN_FUZZ=ON \
        -DTONGBAN_TEST_SHARDS=6 >/dev/null
      timed asan-build cmake --build build-asan -j "$jobs"
      # The fuzz corpora are left to fuzz.sh, which runs every corpus input before it fuzzes; the
      # engine and API suites' PostgreSQL variant and the two-node test (labels postgres and
      # postgres_nodes, both matched by the regex) to the main stage.
      timed asan-test ctest --test-dir build-asan --output-on-failure -j "$jobs" -E '^fuzz[.]' \
        -LE postgres
      timed asan-fuzz env TONGBAN_FUZZ_DIR=build-asan tools/fuzz.sh "${TONGBAN_FUZZ_SECONDS:-10}"
      ;;
    tsan)
      cmake -S . -B build-tsan "${sanitized[@]}" "$tsan_flags" -DTONGBAN_SANITIZE=thread >/dev/null
      timed tsan-build cmake --build build-tsan -j "$jobs" --target engine_concurrency_test
      timed tsan-test build-tsan/engine/engine_concurrency_test --gtest_filter="$tsan_tests"
      ;;
    fuzz)
      timed fuzz tools/fuzz.sh "${TONGBAN_FUZZ_SECONDS:-10}"
      ;;
    *)
      echo "tools/test.sh: unknown stage $stage" >&2
      exit 2
      ;;
  esac
done
echo "tools/test.sh: stage times"
printf '  %s\n' "${timings[@]}"
