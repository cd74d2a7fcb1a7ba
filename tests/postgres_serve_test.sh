#!/usr/bin/env bash
# `tongban serve --db postgresql://…` as a real process on a loopback port: the README walkthrough
# (tests/readme_test.sh) drives cases, bundles and the register ledger over HTTP, then
# `tongban verify --db postgresql://…` checks every hash chain and snapshot in PostgreSQL.
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
psql "$TONGBAN_TEST_POSTGRES" -qc "CREATE SCHEMA $schema"
trap 'psql "$TONGBAN_TEST_POSTGRES" -qc "SET client_min_messages = warning; DROP SCHEMA $schema CASCADE"' EXIT
case $TONGBAN_TEST_POSTGRES in
  *\?*) db="$TONGBAN_TEST_POSTGRES&options=-csearch_path%3D$schema" ;;
  *) db="$TONGBAN_TEST_POSTGRES?options=-csearch_path%3D$schema" ;;
esac
tests/readme_test.sh "$binary" "$db"
# The walkthrough's writes are in PostgreSQL, not in some file.
cases=$(psql "$db" -tAc "SELECT count(*) FROM cases")
entries=$(psql "$db" -tAc "SELECT count(*) FROM ledger")
[ "$cases" -gt 0 ] && [ "$entries" -gt 0 ] || { echo "no cases or ledger entries in PostgreSQL"; exit 1; }
"$binary" verify --db "$db"
echo "PostgreSQL serve and verify: $cases cases, $entries ledger entries, verified"
