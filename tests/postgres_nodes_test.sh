#!/usr/bin/env bash
# Two `tongban serve` nodes on one PostgreSQL database (issue 12), as real processes on loopback
# ports, with the demo principals (README). Each subtest prints what it checked:
#   bad connection strings   serve refuses them at start: exit 3, the reason on one line
#   concurrent clerks        the same case accepted on both nodes at once: exactly one wins
#   idempotent retry         the same Idempotency-Key sent to the other node gets the first outcome
#   delegation revoked       revoked on node A, refused on node B at its next decision
#   timers once              both nodes' clocks pass a deadline at once: each timer fires once
#   SIGKILL under load       node A killed while both take writes: every acknowledged write is
#                            stored, node B keeps serving and fires the timers due while A is dead
#   PostgreSQL restarted     under load on both nodes: 503 problem documents with Retry-After
#                            while it is away, 2xx again without restarting the nodes
#   verify                   `tongban verify --db postgresql://…` passes at the end
# The test restarts PostgreSQL, so it runs its own throwaway cluster (tools/pg_cluster.sh, in a
# temporary folder) and a fresh database in it, not the shared cluster of TONGBAN_TEST_POSTGRES
# (other tests use that one at the same time); TONGBAN_TEST_POSTGRES set is what enables it.
# Usage: tests/postgres_nodes_test.sh TONGBAN_BINARY   (run from the repository root)
# Skipped (exit 77) without TONGBAN_TEST_POSTGRES.
set -euo pipefail
binary=$1
if [ -z "${TONGBAN_TEST_POSTGRES:-}" ]; then
  echo "SKIP: set TONGBAN_TEST_POSTGRES to a PostgreSQL connection URI to run this test"
  exit 77
fi
work=$(mktemp -d /tmp/tongban-nodes-XXXXXX)
chmod 711 "$work"  # the server's user (nobody, under root) reaches its folder inside
pg=$work/pg
node_pids=()
writer_pids=()
cleanup() {
  local p
  for p in "${writer_pids[@]}" "${node_pids[@]}"; do
    kill -9 "$p" 2>/dev/null || true
  done
  for p in "${writer_pids[@]}" "${node_pids[@]}"; do
    wait "$p" 2>/dev/null || true
  done
  tools/pg_cluster.sh stop "$pg" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() {
  {
    echo "FAILED: $*"
    for f in "$work"/*.err; do
      echo "--- $f"
      tail -n 20 "$f"
    done
  } >&2
  exit 1
}

base=$(tools/pg_cluster.sh start "$pg")
psql "$base" -qc "CREATE DATABASE nodes"
db=${base/\/\/\/postgres\?/\/\/\/nodes\?}
sql() { psql "$db" -tAc "$1"; }

JSON='Content-Type: application/json'
APPLICANT='Authorization: Bearer demo-applicant-token'
CLERK='Authorization: Bearer demo-clerk-token'
REVIEWER='Authorization: Bearer demo-reviewer-token'
ADMIN='Authorization: Bearer demo-admin-token'
AUDITOR='Authorization: Bearer demo-auditor-token'
APPLICATION=docs/examples/construction-permit-application.json
CLOCK=2026-03-02T09:00:00+08:00

# start_node NAME: a node on the database; sets NAME_pid and NAME_url.
start_node() {
  local name=$1
  "$binary" serve --db "$db" --definitions definitions \
    --principals definitions/principals/demo.json --listen 127.0.0.1:0 \
    --clock "simulated:$CLOCK" >"$work/$name.out" 2>"$work/$name.err" &
  local pid=$!
  node_pids+=("$pid")
  printf -v "${name}_pid" %s "$pid"
}
await_node() {  # await_node NAME
  local name=$1 address=""
  for _ in $(seq 1 200); do
    address=$(sed -n 's/^listening on //p' "$work/$name.out" 2>/dev/null)
    [ -n "$address" ] && break
    sleep 0.05
  done
  [ -n "$address" ] || fail "node $name did not start"
  printf -v "${name}_url" %s "http://$address"
}
new_case() {  # new_case URL: an application; prints the new case's id
  curl -sf -X POST "$1/v1/cases" -H "$APPLICANT" -H "$JSON" -d @"$APPLICATION" | jq -r .id
}
# writer URL NAME: applications to URL until $work/stop exists; one line per request in NAME.log:
# "status|content type|Retry-After|Location".
writer() {
  while [ ! -e "$work/stop" ]; do
    curl -s -o /dev/null -m 10 \
      -w '%{http_code}|%{content_type}|%header{retry-after}|%header{location}\n' \
      -X POST "$1/v1/cases" -H "$APPLICANT" -H "$JSON" -d @"$APPLICATION" \
      >>"$work/$2.log" 2>/dev/null || true
  done
}
start_writers() {  # start_writers URL NAME [URL NAME]…
  rm -f "$work/stop"
  while [ $# -gt 0 ]; do
    writer "$1" "$2" &
    writer_pids+=($!)
    shift 2
  done
}
stop_writers() {
  touch "$work/stop"
  local p
  for p in "${writer_pids[@]}"; do
    wait "$p" || true
  done
  writer_pids=()
}
acked_ids() {  # acked_ids LOG…: ids of the cases whose creation was answered 201
  cat "$@" | awk -F'|' '$1 == 201 { sub(".*/", "", $4); print $4 }' | tr -d '\r'
}
# The acknowledged writes of LOG… are all in the database.
expect_stored() {
  acked_ids "$@" | sort -u >"$work/acked"
  sql "SELECT id FROM cases" | sort -u >"$work/stored"
  local lost
  lost=$(comm -23 "$work/acked" "$work/stored" | wc -l)
  [ "$lost" -eq 0 ] || fail "$lost acknowledged case(s) missing from the database"
  wc -l <"$work/acked"
}

# --- Bad connection strings: refused at start, exit 3, the reason on one line.
for bad in "postgresql://host:notaport:x/db?nonsense=1" "postgresql:///nodes?host=$work/nowhere&user=tongban"; do
  rc=0
  "$binary" serve --db "$bad" --listen 127.0.0.1:0 >/dev/null 2>"$work/bad.txt" || rc=$?
  [ "$rc" -eq 3 ] || fail "serve --db $bad exited $rc, not 3"
  [ "$(wc -l <"$work/bad.txt")" -eq 1 ] || fail "serve --db $bad: not one line: $(cat "$work/bad.txt")"
  grep -Eq "connection string|cannot connect" "$work/bad.txt" || fail "unclear: $(cat "$work/bad.txt")"
done
echo "ok: bad connection strings: exit 3 with one line ($(cat "$work/bad.txt" | cut -c1-90)…)"

# Two nodes started at once on the fresh database: the schema is made once, the definitions
# deployed once.
start_node a
start_node b
await_node a
await_node b
[ "$(sql "SELECT version FROM tongban_schema")" = 5 ] || fail "schema version"
echo "ok: two nodes started at once on a fresh database ($a_url, $b_url)"

# --- Concurrent clerks: the same case accepted on both nodes at once; exactly one wins.
for round in 1 2 3 4 5 6; do
  id=$(new_case "$a_url")
  match=()
  [ $((round % 2)) -eq 1 ] && match=(-H 'If-Match: "1"')
  for node in a b; do
    url=${node}_url
    curl -s -o /dev/null -w '%{http_code}\n' -X POST "${!url}/v1/cases/$id/actions" -H "$CLERK" \
      -H "$JSON" "${match[@]}" -d '{"action": "accept"}' >"$work/clerk-$node" &
    writer_pids+=($!)
  done
  stop_writers
  codes=$(cat "$work/clerk-a" "$work/clerk-b" | sort | tr '\n' ' ')
  case $codes in
    "200 409 " | "200 412 ") ;;
    *) fail "round $round: clerks answered $codes" ;;
  esac
  [ "$(sql "SELECT count(*) FROM events WHERE case_id = '$id' AND action = 'accept'")" = 1 ] ||
    fail "round $round: not exactly one accept stored"
  echo "ok: concurrent clerks, round $round (${match[*]:-no If-Match}): answered $codes, one accept stored"
done

# --- An idempotent retry sent to the other node gets the first outcome.
before=$(sql "SELECT count(*) FROM cases")
first=$(curl -sf -X POST "$a_url/v1/cases" -H "$APPLICANT" -H "$JSON" -H "Idempotency-Key: k-$$" \
  -d @"$APPLICATION" | jq -r .id)
second=$(curl -sf -X POST "$b_url/v1/cases" -H "$APPLICANT" -H "$JSON" -H "Idempotency-Key: k-$$" \
  -d @"$APPLICATION" | jq -r .id)
[ -n "$first" ] && [ "$first" = "$second" ] || fail "retry on node B: $second, not $first"
[ "$(sql "SELECT count(*) FROM cases")" -eq $((before + 1)) ] || fail "the retry created a case"
v1=$(curl -sf -X POST "$b_url/v1/cases/$first/actions" -H "$CLERK" -H "$JSON" \
  -H "Idempotency-Key: a-$$" -d '{"action": "accept"}' | jq -r .version)
v2=$(curl -sf -X POST "$a_url/v1/cases/$first/actions" -H "$CLERK" -H "$JSON" \
  -H "Idempotency-Key: a-$$" -d '{"action": "accept"}' | jq -r .version)
[ "$v1" = "$v2" ] || fail "action retry on node A: version $v2, not $v1"
[ "$(sql "SELECT count(*) FROM events WHERE case_id = '$first'")" = 2 ] || fail "the retry acted again"
echo "ok: idempotent retries on the other node: the same case ($first), the same action outcome (version $v1), nothing recorded twice"

# --- A delegation revoked on node A is refused on node B at its next decision.
food=$(jq -c 'del(.mode, .commitment)
  | .materials += ["premises_layout", "equipment_list", "safety_rules"]' \
  docs/examples/food-licence-commitment-application.json)
food_id=$(curl -sf -X POST "$b_url/v1/cases" -H "$APPLICANT" -H "$JSON" -d "$food" | jq -r .id)
curl -sf -X POST "$b_url/v1/cases/$food_id/actions" -H "$CLERK" -H "$JSON" \
  -d '{"action": "accept"}' >/dev/null || fail "node B: accept under the delegation"
[ "$(sql "SELECT data::json->'authority'->>'delegation' FROM events WHERE case_id = '$food_id' AND action = 'accept'")" = food-licence-dz-2026 ] ||
  fail "node B did not accept under the delegation"
curl -sf -X POST "$a_url/v1/delegations/food-licence-dz-2026/revoke" -H "$ADMIN" -H "$JSON" \
  -d '{"reason": "赋权调整，收回食品经营许可"}' >/dev/null || fail "revoking on node A"
code=$(curl -s -o "$work/pass.json" -w '%{http_code}' -X POST "$b_url/v1/cases/$food_id/actions" \
  -H "$REVIEWER" -H "$JSON" -d '{"action": "pass"}')
[ "$code" = 403 ] || fail "node B answered $code to the bureau after the revocation: $(cat "$work/pass.json")"
grep -q "food-licence-dz-2026 was revoked" "$work/pass.json" || fail "403 without the reason"
echo "ok: delegation revoked on node A: node B (which accepted under it) refuses the bureau's next action, 403 naming the revocation"

# --- Timers: both nodes' clocks pass the deemed-acceptance deadline at once; each fires once.
for _ in 1 2 3 4 5 6 7 8; do new_case "$a_url" >/dev/null; done
for node in a b; do
  url=${node}_url
  curl -sf -X POST "${!url}/v1/admin/clock" -H "$ADMIN" -H "$JSON" \
    -d '{"advance": {"days": 10}}' >"$work/clock-$node" &
  writer_pids+=($!)
done
stop_writers
fired_a=$(jq .timer_events "$work/clock-a")
fired_b=$(jq .timer_events "$work/clock-b")
timer_events() {
  sql "SELECT count(*) FROM events WHERE actor_id = 'system' AND action IN ('deem_accepted', 'mark_overdue', 'mark_verification_overdue')"
}
duplicates() {
  sql "SELECT count(*) FROM (SELECT case_id, action, data FROM events WHERE actor_id = 'system' GROUP BY 1, 2, 3 HAVING count(*) > 1) d"
}
stored_timers=$(timer_events)
[ "$(sql "SELECT count(*) FROM cases WHERE status = 'submitted'")" = 0 ] || fail "a submitted case was not deemed accepted"
[ "$(duplicates)" = 0 ] || fail "a timer fired twice"
[ $((fired_a + fired_b)) -le "$stored_timers" ] || fail "nodes reported $fired_a + $fired_b timer events, $stored_timers stored"
echo "ok: timers on two nodes at once: $stored_timers timer events stored, none twice (node A fired $fired_a, node B $fired_b, their timer loops the rest)"

# --- SIGKILL node A under load: acknowledged writes kept, node B serves on and fires A's timers.
start_writers "$a_url" kill-a1 "$a_url" kill-a2 "$b_url" kill-b1 "$b_url" kill-b2
sleep 0.8
kill -9 "$a_pid"
wait "$a_pid" 2>/dev/null || true
sleep 0.5
stop_writers
acked_a=$(acked_ids "$work"/kill-a*.log | wc -l)
acked_b=$(acked_ids "$work"/kill-b*.log | wc -l)
[ "$acked_a" -gt 0 ] && [ "$acked_b" -gt 0 ] || fail "no load: $acked_a on A, $acked_b on B"
awk -F'|' '$1 != 201 { bad = 1 } END { exit bad }' "$work"/kill-b*.log || fail "node B refused writes"
stored=$(expect_stored "$work"/kill-*.log)
after_kill=$(new_case "$b_url")
[ -n "$after_kill" ] || fail "node B does not serve after the kill"
echo "ok: SIGKILL node A under load: $stored acknowledged writes ($acked_a on A, $acked_b on B) all stored; node B kept serving"
# A's cases are submitted; their deemed acceptance comes due while A is dead: node B fires it.
pending=$(sql "SELECT count(*) FROM cases WHERE status = 'submitted'")
curl -sf -X POST "$b_url/v1/admin/clock" -H "$ADMIN" -H "$JSON" -d '{"advance": {"days": 10}}' >/dev/null
[ "$(sql "SELECT count(*) FROM cases WHERE status = 'submitted'")" = 0 ] || fail "node B left timers due"
acked_ids "$work"/kill-a*.log | sort -u >"$work/a-cases"
deemed=$(sql "SELECT case_id FROM events WHERE action = 'deem_accepted'" | sort | comm -12 - "$work/a-cases" | wc -l)
[ "$deemed" -eq "$(wc -l <"$work/a-cases")" ] || fail "node A's cases: $deemed of $(wc -l <"$work/a-cases") deemed accepted"
[ "$(duplicates)" = 0 ] || fail "a timer fired twice"
echo "ok: timers due while node A is dead: node B fired them ($pending due, of which $deemed cases acknowledged by A), none twice"

# --- PostgreSQL restarted under load: 503 problem documents while away, then 2xx again.
start_node a
await_node a
start_writers "$a_url" pg-a1 "$a_url" pg-a2 "$b_url" pg-b1 "$b_url" pg-b2
sleep 0.5
tools/pg_cluster.sh stop "$pg"
# While it is away: a write and a read on each node are 503 problem documents with Retry-After.
for node in a b; do
  url=${node}_url
  headers=$(curl -s -D - -o "$work/away-$node.json" -X POST "${!url}/v1/cases" -H "$APPLICANT" \
    -H "$JSON" -d @"$APPLICATION" | tr -d '\r')
  grep -q "^HTTP/1.1 503" <<<"$headers" || fail "node $node while away: $(head -1 <<<"$headers")"
  grep -qi "^content-type: application/problem+json" <<<"$headers" || fail "node $node: not a problem document"
  grep -qi "^retry-after: " <<<"$headers" || fail "node $node: no Retry-After"
  [ "$(jq .status "$work/away-$node.json")" = 503 ] || fail "node $node: $(cat "$work/away-$node.json")"
  code=$(curl -s -o /dev/null -w '%{http_code}' "${!url}/v1/cases/$after_kill/history" -H "$AUDITOR")
  [ "$code" = 503 ] || fail "node $node: a read while away answered $code"
done
detail=$(jq -r .detail "$work/away-b.json")
sleep 0.5
tools/pg_cluster.sh start "$pg" >/dev/null
# Back: both nodes answer 2xx again by themselves.
back=$SECONDS
for node in a b; do
  url=${node}_url
  code=""
  for _ in $(seq 1 100); do
    code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "${!url}/v1/cases" -H "$APPLICANT" \
      -H "$JSON" -d @"$APPLICATION")
    [ "$code" = 201 ] && break
    sleep 0.1
  done
  [ "$code" = 201 ] || fail "node $node does not serve again after the restart ($code)"
done
sleep 0.3
stop_writers
# Every answer under load was 201, or 503 as a problem document with Retry-After.
awk -F'|' '$1 == 201 { next } $1 == 503 && $2 ~ /problem\+json/ && $3 != "" { n503++; next }
  { print "unexpected answer: " $0; bad = 1 } END { exit bad || n503 == 0 }' "$work"/pg-*.log ||
  fail "answers while PostgreSQL restarted"
unavailable=$(cat "$work"/pg-*.log | awk -F'|' '$1 == 503' | wc -l)
stored=$(expect_stored "$work"/pg-*.log)
echo "ok: PostgreSQL restarted under load: $unavailable answers 503 (problem documents, Retry-After; \"${detail:0:70}…\"), then 2xx again on both nodes within $((SECONDS - back)) s without restarting them; $stored acknowledged writes all stored"

# --- The whole database verifies: every hash chain, every snapshot, the ledger.
"$binary" verify --db "$db" >"$work/verify.txt" || { cat "$work/verify.txt"; fail "verify"; }
echo "ok: tongban verify over PostgreSQL: $(tail -n 1 "$work/verify.txt")"
for p in "$a_pid" "$b_pid"; do
  kill -TERM "$p"
  wait "$p" || fail "a node did not stop cleanly"
done
node_pids=()
echo "two nodes on PostgreSQL: all passed"
