#!/usr/bin/env bash
# What one Tongban node holds in memory (docs/scaling.md): the resident set (VmRSS) of a real
# `tongban serve` as cases are created, and of an idle node on all the shipped definitions
# against one on a single item.
#   tools/node_memory.sh BINARY [CASES] [DB]
# BINARY: the tongban binary; CASES: cases to create (default 8192; the machine cache keeps
# 4096 live machines, so past that the resident set should stop growing with the cases); DB: a
# PostgreSQL URI to run on (default: a fresh SQLite file in a temporary directory). Run from the
# repository root. Needs curl and jq. Prints one line per measurement, "label cases rss_kib".
set -euo pipefail
binary=${1:?usage: tools/node_memory.sh BINARY [CASES] [DB]}
cases=${2:-8192}
work=$(mktemp -d)
db=${3:-$work/memory.db}
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# Starts a node on $1 (definitions), $2 (database) and $3 (principals); sets server_pid and base.
start() {
  "$binary" serve --definitions "$1" --db "$2" --principals "$3" --listen 127.0.0.1:0 \
    --clock simulated:2026-03-02T09:00:00+08:00 >"$work/serve.out" 2>"$work/serve.err" &
  server_pid=$!
  for _ in $(seq 1 200); do
    if grep -q '^listening on ' "$work/serve.out" 2>/dev/null; then break; fi
    sleep 0.05
  done
  base="http://$(sed -n 's/^listening on //p' "$work/serve.out" | head -n 1)"
  curl -sf "$base/healthz" >/dev/null
}
stop() {
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$server_pid/status"; }

# 1. An idle node on a single item and its calendar, then on every shipped definition.
mkdir -p "$work/one/items" "$work/one/calendars"
cp definitions/calendars/cn-mainland.json "$work/one/calendars/"
cp definitions/items/construction-permit.json "$work/one/items/"
# Only the applicant: the other demo principals hold roles that other items declare.
jq '.principals |= [.[0]]' definitions/principals/demo.json >"$work/one-principals.json"
start "$work/one" "$work/one.db" "$work/one-principals.json"
echo "idle-one-item 0 $(rss_kib)"
stop
start definitions "$db" definitions/principals/demo.json
echo "idle-all-definitions 0 $(rss_kib)"

# 2. Cases created (one curl, 8 requests at a time), each cached as a live machine, the RSS at a
# few counts.
create() {
  for _ in $(seq 1 "$1"); do
    printf 'url = "%s/v1/cases"\noutput = "/dev/null"\n' "$base"
  done >"$work/requests"
  created=$(curl -s --no-progress-meter --parallel --parallel-max 8 -X POST -H 'Expect:' \
    -H 'Authorization: Bearer demo-applicant-token' -H 'Content-Type: application/json' \
    -d @docs/examples/construction-permit-application.json -K "$work/requests" \
    -w '%{http_code}\n' | grep -c '^201$' || true)
  if [ "$created" -ne "$1" ]; then
    echo "tools/node_memory.sh: only $created of $1 cases were created" >&2
    exit 1
  fi
}
made=0
for target in 1024 2048 4096 "$cases"; do
  [ "$target" -le "$made" ] || [ "$target" -gt "$cases" ] && continue
  create $((target - made))
  made=$target
  echo "after-cases $made $(rss_kib)"
done
echo "peak $made $(awk '/^VmHWM:/ {print $2}' "/proc/$server_pid/status")"
