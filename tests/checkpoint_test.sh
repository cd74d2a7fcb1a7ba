#!/usr/bin/env bash
# Signed checkpoints end to end (engine/checkpoint.h): a real server fills an SQLite file through
# the README walkthrough (cases, a bundle, register ledger entries), `tongban keygen` and
# `tongban checkpoint` record a checkpoint and its witness, and then the sqlite3 CLI does each kind
# of damage to a copy of the file — a case deleted whole (a bundle's part too), a case's last events deleted, the newest
# ledger entries deleted, a deployed item rewritten with its content hash, the file swapped for a
# copy taken before the checkpoint — and
# `tongban verify --checkpoint` must fail and name each; the untouched file must pass, and a witness
# with one changed byte must fail its signature.
# Usage: tests/checkpoint_test.sh TONGBAN_BINARY   (run from the repository root; needs sqlite3,
# curl and jq)
set -euo pipefail
binary=$(realpath "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db=$work/tongban.db
tests/readme_test.sh "$binary" "$db" >"$work/walkthrough.log" 2>&1 || {
  cat "$work/walkthrough.log"
  exit 1
}
failed=0
fail() {
  echo "FAILED: $*"
  failed=1
}

"$binary" keygen --private-key "$work/operator.pem" --public-key "$work/operator.pub.pem"
[ "$(stat -c %a "$work/operator.pem")" = 600 ] || fail "the private key is not mode 0600"
if "$binary" keygen --private-key "$work/operator.pem" --public-key "$work/x.pem" 2>/dev/null; then
  fail "keygen overwrote a key"
fi
# A copy from before the checkpoint, with every case as the checkpoint will see it.
sqlite3 "$db" ".backup '$work/before.db'"
"$binary" checkpoint --db "$db" --key "$work/operator.pem" --out "$work/witness.jsonl"
if "$binary" checkpoint --db "$db" --key "$work/operator.pem" --out "$work/witness.jsonl" \
  2>/dev/null; then
  fail "checkpoint overwrote a witness"
fi
cases=$(sqlite3 "$db" "SELECT count(DISTINCT case_id) FROM events")
definitions=$(sqlite3 "$db" "SELECT count(*) FROM definitions")
[ "$(head -1 "$work/witness.jsonl" | jq .cases)" = "$cases" ] || fail "the witness lacks cases"
[ "$(head -1 "$work/witness.jsonl" | jq .definitions.count)" = "$definitions" ] ||
  fail "the witness lacks definitions"
[ "$(wc -l <"$work/witness.jsonl")" -eq $((cases + definitions + 1)) ] ||
  fail "the witness lacks head lines"
[ "$(sqlite3 "$db" "SELECT kind FROM ledger ORDER BY seq DESC LIMIT 1")" = checkpoint ] ||
  fail "the checkpoint is not the newest ledger entry"

# verify_copy NAME SQL: applies SQL to a copy of the database (append-only triggers dropped first,
# as anyone holding the file could) and runs verify --checkpoint on it; output in $work/NAME.out.
verify_copy() {
  local name=$1 sql=$2 rc=0
  sqlite3 "$db" ".backup '$work/$name.db'"
  sqlite3 "$work/$name.db" "DROP TRIGGER events_append_only_delete;
    DROP TRIGGER ledger_append_only_delete; $sql"
  "$binary" verify --db "$work/$name.db" --checkpoint "$work/witness.jsonl" \
    --public-key "$work/operator.pub.pem" >"$work/$name.out" || rc=$?
  cat "$work/$name.out"
  [ "$rc" = 1 ] || fail "$name: verify exited $rc, not 1"
}
expect() {  # expect NAME TEXT: the output of verify_copy NAME shows TEXT
  grep -qF -- "$2" "$work/$1.out" || fail "$1: verify did not show: $2"
}

# Untouched: the whole verification and the checkpoint pass; the new ledger kind verifies.
"$binary" verify --db "$db" --checkpoint "$work/witness.jsonl" \
  --public-key "$work/operator.pub.pem" | tee "$work/clean.out"
grep -q "^OK: checkpoint of .* holds" "$work/clean.out" || fail "untouched: no OK line"
"$binary" verify --db "$db" | grep -q "^OK:" || fail "plain verify fails after a checkpoint"

# A case deleted whole (its row and its events): the one with the most events.
victim=$(sqlite3 "$db" "SELECT case_id FROM events GROUP BY case_id ORDER BY count(*) DESC,
  case_id LIMIT 1")
verify_copy deleted "DELETE FROM events WHERE case_id = '$victim';
  DELETE FROM cases WHERE id = '$victim';"
expect deleted "CHECKPOINT case-deleted: case $victim is missing"
[ "$(grep -c "^CHECKPOINT" "$work/deleted.out")" = 1 ] || fail "deleted: more than one finding"
# The same as JSON.
"$binary" verify --db "$work/deleted.db" --checkpoint "$work/witness.jsonl" \
  --public-key "$work/operator.pub.pem" --format json >"$work/deleted.json" || true
[ "$(jq -r '.ok, .checkpoint.findings[0].kind, .checkpoint.findings[0].subject' \
  "$work/deleted.json" | tr '\n' ' ')" = "false case-deleted $victim " ] ||
  fail "deleted: JSON findings wrong: $(cat "$work/deleted.json")"

# A bundle's part deleted whole (the bundle's own events still name it).
child=$(sqlite3 "$db" "SELECT id FROM cases WHERE definition_id = 'establishment-registration'")
[ -n "$child" ] || fail "the walkthrough made no establishment-registration part"
verify_copy deleted-child "DELETE FROM events WHERE case_id = '$child';
  DELETE FROM cases WHERE id = '$child';"
expect deleted-child "CHECKPOINT case-deleted: case $child is missing"

# The same case's last events deleted (all but the first).
last=$(sqlite3 "$db" "SELECT max(seq) FROM events WHERE case_id = '$victim'")
verify_copy truncated "DELETE FROM events WHERE case_id = '$victim' AND seq > 1;"
expect truncated "CHECKPOINT history-truncated: case $victim is truncated: its events end at seq 1, the checkpoint has seq $last"

# The newest two ledger entries deleted: the last one witnessed, and the checkpoint's own.
ledger_seq=$(head -1 "$work/witness.jsonl" | jq .ledger.seq)
verify_copy ledger "DELETE FROM ledger WHERE seq >= $ledger_seq;"
expect ledger "CHECKPOINT ledger-truncated: the ledger is truncated: it ends at seq $((ledger_seq - 1)), the checkpoint has seq $ledger_seq"
expect ledger "CHECKPOINT checkpoint-entry-missing"

# A deployed item rewritten together with its content hash (its statutory limit stretched by 5
# days, the hash recomputed as deploying computes it: keys sorted, compact): its text and stored
# hash agree, so the whole verification passes it and only the checkpoint can tell.
item=establishment-registration
version=$(sqlite3 "$db" "SELECT max(version) FROM definitions WHERE kind = 'item' AND id = '$item'")
text=$(sqlite3 "$db" "SELECT text FROM definitions WHERE kind = 'item' AND id = '$item'
  AND version = $version")
stretched=$(printf '%s' "$text" | jq -c '.time_limits.statutory_days += 5')
stretched_hash=$(printf '%s' "$stretched" | jq -cSj . | sha256sum | cut -d' ' -f1)
verify_copy definition "DROP TRIGGER definitions_immutable_update;
  UPDATE definitions SET text = '$(printf '%s' "$stretched" | sed "s/'/''/g")',
    content_hash = '$stretched_hash'
  WHERE kind = 'item' AND id = '$item' AND version = $version;"
expect definition "CHECKPOINT definition-differs: definition item/$item@$version is not the one in the checkpoint"
grep -q "^OK: .* definition(s) match their content hashes" "$work/definition.out" ||
  fail "definition: the rewrite was not consistent, so this shows nothing verify alone misses"

# The file rolled back to the copy taken just before the checkpoint.
cp "$work/before.db" "$work/rolled-back.db"
rc=0
"$binary" verify --db "$work/rolled-back.db" --checkpoint "$work/witness.jsonl" \
  --public-key "$work/operator.pub.pem" >"$work/rolled-back.out" || rc=$?
cat "$work/rolled-back.out"
[ "$rc" = 1 ] || fail "rolled back: verify exited $rc, not 1"
expect rolled-back "CHECKPOINT checkpoint-entry-missing: the checkpoint's own ledger entry"

# One changed byte of the witness: a digit of a case head's hash, then one of the header.
tamper() {  # tamper NAME SED-EXPRESSION
  sed "$2" "$work/witness.jsonl" >"$work/$1.jsonl"
  cmp -s "$work/$1.jsonl" "$work/witness.jsonl" && fail "$1: sed changed nothing"
  rc=0
  "$binary" verify --db "$db" --checkpoint "$work/$1.jsonl" \
    --public-key "$work/operator.pub.pem" >"$work/$1.out" || rc=$?
  cat "$work/$1.out"
  [ "$rc" = 1 ] || fail "$1: verify exited $rc, not 1"
  expect "$1" "CHECKPOINT signature:"
}
tamper head-byte '2{s/"hash":"0/"hash":"1/;t;s/"hash":"./"hash":"0/}'
tamper header-byte '1{s/"events":\([0-9]*\)0,/"events":\11,/;t;s/"events":\([0-9]*\)[1-9],/"events":\10,/}'

[ "$failed" = 0 ] || exit 1
echo "checkpoint: untouched passes; deleted case, truncated history, truncated ledger, rewritten definition, rolled-back copy and altered witness detected and named"
