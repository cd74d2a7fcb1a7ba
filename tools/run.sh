#!/usr/bin/env bash
# Builds Tongban and runs the main job: the HTTP API on the shipped definitions, with the embedded
# SQLite file var/tongban.db and the demo principals. Extra arguments go to `tongban serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/deps.sh
build_dir=${TONGBAN_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTONGBAN_BUILD_TESTS=OFF >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target tongban
mkdir -p var
exec "$build_dir/tools/tongban" serve --db var/tongban.db --definitions definitions \
  --principals definitions/principals/demo.json --listen "${TONGBAN_LISTEN:-127.0.0.1:8080}" "$@"
