#!/usr/bin/env bash
# The server's own checkpoints (engine/checkpoint_schedule.h), end to end on a real server with the
# demo principals: `tongban serve --checkpoint-key --checkpoint-every 1h --witness-dir` records one
# at start (none in the ledger yet) and another once its simulated clock has moved an hour on; an
# admin records one on demand with POST /v1/admin/checkpoints and receives the witness, an auditor
# and a clerk are refused (403) and nothing is recorded for them; a restarted server does not
# record again before the hour is up; and `tongban verify --checkpoint` passes on each witness and
# names a case deleted afterwards with the sqlite3 CLI.
# Usage: tests/checkpoint_server_test.sh TONGBAN_BINARY   (run from the repository root; needs
# sqlite3, curl and jq)
set -euo pipefail
binary=$(realpath "$1")
work=$(mktemp -d)
server_pid=
trap '[ -n "$server_pid" ] && kill $server_pid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
db=$work/tongban.db
witnesses=$work/witnesses
failed=0
fail() {
  echo "FAILED: $*"
  failed=1
}
ADMIN='Authorization: Bearer demo-admin-token'
AUDITOR='Authorization: Bearer demo-auditor-token'
CLERK='Authorization: Bearer demo-clerk-token'
APPLICANT='Authorization: Bearer demo-applicant-token'
JSON='Content-Type: application/json'

"$binary" keygen --private-key "$work/operator.pem" --public-key "$work/operator.pub.pem" >/dev/null

start_server() {  # start_server LOG: the server on a simulated clock, $url set
  "$binary" serve --db "$db" --definitions definitions \
    --principals definitions/principals/demo.json --listen 127.0.0.1:0 \
    --clock simulated:2026-03-02T09:00:00+08:00 --checkpoint-key "$work/operator.pem" \
    --checkpoint-every 1h --witness-dir "$witnesses" >"$work/$1.out" 2>"$work/$1.err" &
  server_pid=$!
  for _ in $(seq 1 100); do
    grep -q "listening on" "$work/$1.out" 2>/dev/null && break
    sleep 0.1
  done
  url=http://$(sed -n 's/^listening on //p' "$work/$1.out")
  [ "$url" != http:// ] || { cat "$work/$1.err"; exit 1; }
}
stop_server() {
  kill "$server_pid"
  wait "$server_pid" || true
  server_pid=
}
wait_for_line() {  # wait_for_line TEXT FILE: until FILE holds TEXT (10 s at most)
  for _ in $(seq 1 100); do
    grep -qF "$1" "$2" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
wait_for_witnesses() {  # wait_for_witnesses N: until N witness files exist (10 s at most)
  for _ in $(seq 1 100); do
    [ "$(ls "$witnesses" 2>/dev/null | wc -l)" -ge "$1" ] && return 0
    sleep 0.1
  done
  return 1
}

# Usage errors: an interval without a key or a folder, a duration that is not one.
rc=0
"$binary" serve --db "$db" --checkpoint-every 1h 2>"$work/usage.err" || rc=$?
[ "$rc" = 2 ] && grep -q "needs --checkpoint-key and --witness-dir" "$work/usage.err" ||
  fail "--checkpoint-every alone: exit $rc, $(cat "$work/usage.err")"
rc=0
"$binary" serve --db "$db" --checkpoint-every soon --checkpoint-key "$work/operator.pem" \
  --witness-dir "$witnesses" 2>"$work/usage.err" || rc=$?
[ "$rc" = 2 ] || fail "--checkpoint-every soon: exit $rc, not 2"

start_server first
# The first run of the timer loop finds no checkpoint in the ledger and records one.
wait_for_witnesses 1 || fail "no checkpoint recorded at start: $(cat "$work/first.err")"
# The witness file is claimed before the checkpoint is recorded, and the line is logged after: on
# a busy machine the file can be there a while before the line (CI, 2026-12-07).
wait_for_line "checkpoint recorded as ledger entry" "$work/first.err" ||
  fail "the checkpoint was not logged"

# A case, so that later checkpoints cover one.
case_id=$(curl -sf -X POST "$url/v1/cases" -H "$APPLICANT" -H "$JSON" \
  -d @docs/examples/construction-permit-application.json |
  jq -r .id) || fail "cannot create a case"

# On demand: an auditor and a clerk are refused, and nothing is recorded for them.
before=$(sqlite3 "$db" "SELECT count(*) FROM ledger WHERE kind = 'checkpoint'")
for who in AUDITOR CLERK; do
  status=$(curl -s -o "$work/refused.json" -w '%{http_code}' -X POST "$url/v1/admin/checkpoints" \
    -H "${!who}")
  [ "$status" = 403 ] || fail "$who recorded a checkpoint: $status"
done
[ "$(sqlite3 "$db" "SELECT count(*) FROM ledger WHERE kind = 'checkpoint'")" = "$before" ] ||
  fail "a refused request recorded a checkpoint"
# An admin receives the witness as the response body.
status=$(curl -s -o "$work/on-demand.jsonl" -D "$work/on-demand.headers" -w '%{http_code}' \
  -X POST "$url/v1/admin/checkpoints" -H "$ADMIN")
[ "$status" = 201 ] || fail "admin checkpoint: $status $(cat "$work/on-demand.jsonl")"
grep -qi '^content-type: application/jsonl' "$work/on-demand.headers" || fail "not application/jsonl"
[ "$(head -1 "$work/on-demand.jsonl" | jq -r .format)" = tongban-checkpoint-v2 ] ||
  fail "the response is not a witness"
grep -qF "\"case\":\"$case_id\"" "$work/on-demand.jsonl" || fail "the witness lacks the new case"
[ "$(ls "$witnesses" | wc -l)" = 2 ] || fail "the on-demand witness was not written to the folder"

# An hour later on the server's clock, the timer loop records the next one by itself.
curl -sf -X POST "$url/v1/admin/clock" -H "$ADMIN" -H "$JSON" \
  -d '{"advance": {"hours": 1, "minutes": 1}}' >/dev/null
wait_for_witnesses 3 || fail "no scheduled checkpoint an hour later"
stop_server

# A restart within the hour (the clock starts where it started before: the newest checkpoint is in
# the server's "future") records nothing new.
start_server second
sleep 2
[ "$(ls "$witnesses" | wc -l)" = 3 ] || fail "a restart recorded a checkpoint before the hour"
stop_server

# Every witness verifies against the database; a case deleted afterwards is named.
for w in "$witnesses"/*.jsonl "$work/on-demand.jsonl"; do
  "$binary" verify --db "$db" --checkpoint "$w" --public-key "$work/operator.pub.pem" \
    >"$work/verify.out" || fail "verify --checkpoint $w: $(cat "$work/verify.out")"
done
sqlite3 "$db" "DROP TRIGGER events_append_only_delete; DELETE FROM events WHERE case_id = '$case_id';
  DELETE FROM cases WHERE id = '$case_id';"
rc=0
"$binary" verify --db "$db" --checkpoint "$work/on-demand.jsonl" \
  --public-key "$work/operator.pub.pem" >"$work/deleted.out" || rc=$?
[ "$rc" = 1 ] && grep -qF "CHECKPOINT case-deleted: case $case_id is missing" "$work/deleted.out" ||
  fail "the deleted case was not named (exit $rc): $(cat "$work/deleted.out")"

[ "$failed" = 0 ] || exit 1
echo "checkpoint server: scheduled and on-demand checkpoints recorded and verified; refusals hold"
