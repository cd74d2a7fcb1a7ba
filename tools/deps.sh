#!/usr/bin/env bash
# Installs the Debian packages Tongban builds and runs with, when any is missing.
# Sourced or run by tools/run.sh and tools/test.sh; safe to run again.
set -euo pipefail
packages=(build-essential cmake pkg-config libboost-dev libsqlite3-dev sqlite3 libcpp-httplib-dev
  nlohmann-json3-dev libgtest-dev libgmock-dev libssl-dev libhowardhinnant-date-dev graphviz curl jq tzdata
  clang libclang-rt-14-dev  # clang and its sanitizer and libFuzzer runtimes: tools/test.sh, tools/fuzz.sh
  chromium nodejs fonts-noto-cjk  # the console's browser test (tests/browser/); CJK for graphs too
  libpq-dev postgresql  # the PostgreSQL store; its tests start a throwaway cluster (tools/pg_cluster.sh)
  libgoogle-perftools-dev)  # tcmalloc, the `tongban` program's allocator (tools/CMakeLists.txt)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "tongban: installing missing Debian packages: ${missing[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# npm: Debian's nodejs ships without it (its own package); a Node.js that bundles npm needs none.
if ! command -v npm >/dev/null; then
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends npm
fi
