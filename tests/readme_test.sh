#!/usr/bin/env bash
# Runs the exact curl walkthroughs of README.md against a real server on a free loopback port.
# Usage: tests/readme_test.sh TONGBAN_BINARY [DB]   (run from the repository root)
# DB: the server's --db (default a new SQLite file); tests/postgres_serve_test.sh gives a
# PostgreSQL URI.
set -euo pipefail
binary=$1
work=$(mktemp -d)
db=${2:-$work/readme.db}
trap 'kill $server_pid 2>/dev/null || true; wait $server_pid 2>/dev/null || true; rm -rf "$work"' EXIT
"$binary" serve --db "$db" --definitions definitions \
  --principals definitions/principals/demo.json --listen 127.0.0.1:0 >"$work/out" 2>"$work/err" &
server_pid=$!
for _ in $(seq 1 100); do
  grep -q "listening on" "$work/out" 2>/dev/null && break
  sleep 0.1
done
address=$(sed -n 's/^listening on //p' "$work/out")
[ -n "$address" ] || { echo "server did not start:"; cat "$work/err"; exit 1; }
export TB="http://$address"
# The commands between the walkthrough markers, exactly as the README shows them: every block, in
# order (the case walkthrough, then the bundle and commitment walkthrough), as one script.
sed -n '/<!-- walkthrough:start -->/,/<!-- walkthrough:end -->/p' README.md \
  | sed '/^<!--/d; /^```/d' >"$work/walkthrough.sh"
[ "$(grep -c '<!-- walkthrough:start -->' README.md)" -eq 2 ] || { echo "expected 2 walkthroughs"; exit 1; }
[ "$(grep -c 'curl' "$work/walkthrough.sh")" -ge 20 ] || { echo "walkthrough not found"; exit 1; }
bash -euo pipefail "$work/walkthrough.sh" | tee "$work/transcript"
# What the walkthroughs must have shown. Nothing here depends on the date they run on.
failed=0
expect() {
  grep -qF -- "$1" "$work/transcript" || { echo "README walkthrough did not show: $1"; failed=1; }
}
# A case, end to end.
expect '"status": "approved"'
expect '"ok": true'
expect '"light"'
# 开办企业一件事: the bundle and its parts; the part's notice combined on the bundle, supplied once.
expect '"kind": "bundle"'
expect '"part": "registration"'
expect '"status": "waiting"'
expect '"missing_materials": ['
expect '"status": "correction_pending"'
expect '"correction_notice": {'
expect '"articles"'
expect '"bundle": "开办企业一件事"'
expect '"organ": "××市市场监督管理局"'
# 告知承诺制: approved on acceptance in the bureau's name and seal, revoked on a breach, a credit
# record that refuses the next commitment application until it is repaired.
expect '"seal": "××开发区行政审批局行政审批专用章"'
expect '"delegation": "food-licence-dz-2026"'
expect '"verification": "pending"'
expect '"status": "revoked"'
expect '"verification": "breached"'
expect '"blocking": true'
expect '"status": 403'
expect 'blocks it until a repair is recorded'
expect '"blocking": false'
expect '"credit.repaired"'
[ "$failed" -eq 0 ] || exit 1
echo "README walkthrough: 1 passed, 0 failed"
