#!/usr/bin/env bash
# `tongban serve --db postgresql://…` as a real process on a loopback port: the README walkthrough
# (tests/readme_test.sh) drives cases, bundles and the register ledger over HTTP, then
# `tongban verify --db postgresql://…` checks every hash chain and snapshot in PostgreSQL. Then
# `tongban copy` moves engine/testdata/store-v2.db (every shipped scenario, written by an older
# version) into another schema (its schema made first by `tongban migrate`) and verifies the copy,
# and refuses to copy into it again.
# Usage: tests/postgres_serve_test.sh TONGBAN_BINARY   (run from the repository root)
# Needs TONGBAN_TEST_POSTGRES (tools/pg_cluster.sh prints one; tools/test.sh sets it); skipped
# (exit 77) without it. Runs in a schema of its own, dropped at the end.
set -euo pipefail
binary=$1
if [ -z "${TONGBAN_TEST_POSTGRES:-}" ]; then
  echo "SKIP: set TONGBAN_TEST_POSTGRES to a PostgreSQL connection URI to run this test"
  exit 77
fi
schema=serve_test_$$
copy_schema=copy_test_$$
psql "$TONGBAN_TEST_POSTGRES" -qc "CREATE SCHEMA $schema; CREATE SCHEMA $copy_schema"
trap 'psql "$TONGBAN_TEST_POSTGRES" -qc "SET client_min_messages = warning;
  DROP SCHEMA $schema CASCADE; DROP SCHEMA $copy_schema CASCADE"' EXIT
in_schema() {  # in_schema SCHEMA: the connection URI whose sessions use SCHEMA
  case $TONGBAN_TEST_POSTGRES in
    *\?*) echo "$TONGBAN_TEST_POSTGRES&options=-csearch_path%3D$1" ;;
    *) echo "$TONGBAN_TEST_POSTGRES?options=-csearch_path%3D$1" ;;
  esac
}
db=$(in_schema "$schema")
tests/readme_test.sh "$binary" "$db"
# The walkthrough's writes are in PostgreSQL, not in some file.
cases=$(psql "$db" -tAc "SELECT count(*) FROM cases")
entries=$(psql "$db" -tAc "SELECT count(*) FROM ledger")
[ "$cases" -gt 0 ] && [ "$entries" -gt 0 ] || { echo "no cases or ledger entries in PostgreSQL"; exit 1; }
"$binary" verify --db "$db"
echo "PostgreSQL serve and verify: $cases cases, $entries ledger entries, verified"

copy=$(in_schema "$copy_schema")
# `tongban migrate` creates the schema in the empty one; the copy then goes into it.
"$binary" migrate --db "$copy" | grep -q "^OK: schema version 5 (PostgreSQL)"
[ "$(psql "$copy" -tAc "SELECT version FROM tongban_schema")" = 5 ] || { echo "migrate: no schema"; exit 1; }
copied=$("$binary" copy --from engine/testdata/store-v2.db --to "$copy")
echo "$copied"
grep -q "^OK: copied and verified" <<<"$copied"
[ "$(psql "$copy" -tAc "SELECT count(*) FROM events")" -gt 100 ] || { echo "copy: events missing"; exit 1; }
# A schema-2 file never recorded light instants: its cases under review and its grants arrive
# unknown (computed at a scrape until the timer loop rewrites them), not as green ones.
expected=$(sqlite3 -readonly engine/testdata/store-v2.db \
  "SELECT count(*) FROM cases WHERE status IN ('under_review', 'approved')")
unknown=$(psql "$copy" -tAc "SELECT count(*) FROM cases WHERE NOT lights_known")
[ "$unknown" -gt 0 ] && [ "$unknown" = "$expected" ] ||
  { echo "copy: $unknown cases of unknown lights, $expected expected"; exit 1; }
if "$binary" copy --from engine/testdata/store-v2.db --to "$copy" 2>/dev/null; then
  echo "copy into a database holding cases was not refused"
  exit 1
fi
"$binary" verify --db "$copy"
echo "PostgreSQL copy: verified"
