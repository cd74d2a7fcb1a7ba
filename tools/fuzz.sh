#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz/ (clang, ASan + UBSan) in build-fuzz/ and runs each
# for SECONDS (default 300), TONGBAN_JOBS (default 2) at a time, on a scratch copy of its committed
# corpus.
# Exit code 1 when a harness finds a crash: the reproducer is left in build-fuzz/findings/.
#   tools/fuzz.sh [SECONDS] [HARNESS...]     e.g. tools/fuzz.sh 30 json_fuzzer api_fuzzer
# TONGBAN_FUZZ_DIR overrides the build folder; one already configured is used as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
shift || true
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=(json_fuzzer definition_fuzzer scenario_fuzzer api_fuzzer)
build_dir=${TONGBAN_FUZZ_DIR:-build-fuzz}
jobs=${TONGBAN_JOBS:-2}

# A folder already configured (tools/test.sh's build-asan) keeps its own settings.
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake -S . -B "$build_dir" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DTONGBAN_FUZZ=ON >/dev/null
fi
cmake --build "$build_dir" -j "$jobs" --target "${harnesses[@]}"

findings="$build_dir/findings"
mkdir -p "$findings"
# One harness: exit 1 when it found a crash. New inputs go to a scratch folder, so a run never
# edits the committed corpus (merge them in with -merge=1 by hand, see tests/fuzz/README.md).
run_harness() {
  local harness=$1 scratch="$build_dir/scratch/$1"
  mkdir -p "$scratch"
  "$build_dir/tests/fuzz/$harness" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$findings/$harness-" "$scratch" \
    "tests/fuzz/corpus/$harness" >"$build_dir/$harness.log" 2>&1
}
# Harnesses run $jobs at a time: each is one process on one core. Under ASan at -O0 replaying a
# corpus takes most of a short run (the definition, scenario and API harnesses run 3-4 inputs a
# second there), so running them side by side halves the stage.
for harness in "${harnesses[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  rm -f "$build_dir/$harness.status"
  echo "tongban fuzz: $harness for ${seconds}s"
  (
    status=0
    run_harness "$harness" || status=$?
    echo "$status" >"$build_dir/$harness.status"
  ) &
done
wait
failed=0
for harness in "${harnesses[@]}"; do
  if [ "$(cat "$build_dir/$harness.status" 2>/dev/null)" != 0 ]; then
    echo "tongban fuzz: $harness FOUND A CRASH (log: $build_dir/$harness.log):" >&2
    grep -E "ERROR|SUMMARY|runtime error|_fuzzer:" "$build_dir/$harness.log" | head -5 >&2 || true
    ls "$findings"/"$harness"-* >&2 2>/dev/null || true
    failed=1
  else
    echo "tongban fuzz: $harness: $(grep -E '^stat::number_of_executed_units' \
      "$build_dir/$harness.log" | tr -s ' ' | cut -d' ' -f2) inputs run" \
      "($(grep -cE '^#[0-9]+.*(NEW|REDUCE)' "$build_dir/$harness.log" || true) new or reduced)"
  fi
done
exit $failed
