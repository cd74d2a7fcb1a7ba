#!/usr/bin/env bash
# Runs the exact curl walkthrough of README.md against a real server on a free loopback port.
# Usage: tests/readme_test.sh TONGBAN_BINARY   (run from the repository root)
set -euo pipefail
binary=$1
work=$(mktemp -d)
trap 'kill $server_pid 2>/dev/null || true; wait $server_pid 2>/dev/null || true; rm -rf "$work"' EXIT
"$binary" serve --db "$work/readme.db" --definitions definitions \
  --principals definitions/principals/demo.json --listen 127.0.0.1:0 >"$work/out" 2>"$work/err" &
server_pid=$!
for _ in $(seq 1 100); do
  grep -q "listening on" "$work/out" 2>/dev/null && break
  sleep 0.1
done
address=$(sed -n 's/^listening on //p' "$work/out")
[ -n "$address" ] || { echo "server did not start:"; cat "$work/err"; exit 1; }
export TB="http://$address"
# The commands between the walkthrough markers, exactly as the README shows them.
sed -n '/<!-- walkthrough:start -->/,/<!-- walkthrough:end -->/p' README.md \
  | sed '/^<!--/d; /^```/d' >"$work/walkthrough.sh"
[ "$(grep -c 'curl' "$work/walkthrough.sh")" -ge 7 ] || { echo "walkthrough not found"; exit 1; }
bash -euo pipefail "$work/walkthrough.sh" | tee "$work/transcript"
# What the walkthrough must have shown.
grep -q '"status": "approved"' "$work/transcript"
grep -q '"ok": true' "$work/transcript"
grep -q '"light"' "$work/transcript"
echo "README walkthrough: 1 passed, 0 failed"
