#!/usr/bin/env bash
# Builds Tongban with warnings as errors and runs every test (unit, scenario, end-to-end) through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh
build_dir=${TONGBAN_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTONGBAN_WERROR=ON >/dev/null
cmake --build "$build_dir" -j "$(nproc)"
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" "$@"
