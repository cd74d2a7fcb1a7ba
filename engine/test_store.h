// Tests only (library tongban_test_store): the one place where the engine and API suites open the
// store they test, so that the same test binaries run on both stores (issue 12).
//
// The store under test is SQLite unless the environment variable TONGBAN_TEST_STORE is "postgres";
// then it is PostgreSQL, on the server named by TONGBAN_TEST_POSTGRES (a libpq connection URI;
// tools/pg_cluster.sh prints one). ctest runs each suite twice: as engine.* / api.* on SQLite and
// as engine.pg.* / api.pg.* on PostgreSQL (label postgres), see engine/CMakeLists.txt.
//
// Tests keep naming their database by an SQLite file path. On PostgreSQL each distinct path stands
// for a schema of its own (search_path in the connection's options), created the first time the
// path is used and the same on every later use, so a test that closes and reopens "its file" (or a
// forked child that opens it) sees the data it wrote. Every schema created during a test is dropped
// when the test ends. A fresh schema costs one CREATE SCHEMA and the store's migration: much
// cheaper than CREATE DATABASE, which copies a template and checkpoints.
//
// When PostgreSQL is asked for but TONGBAN_TEST_POSTGRES is unset, the test binary runs no test and
// exits with code 77 (ctest's SKIP_RETURN_CODE for the PostgreSQL variant), saying why.
//
// Thread safety: every function may be called from any thread.
#pragma once

#include <memory>
#include <string>

#include "engine/sqlite_store.h"
#include "engine/store.h"

namespace tongban {

// True when this run tests the PostgreSQL store (TONGBAN_TEST_STORE=postgres).
bool TestingPostgres();
// "sqlite" or "postgres", for messages.
const char* StoreUnderTestName();

// What `--db` (Engine, `tongban serve`) takes for the database the test names `path`: the path
// itself on SQLite; on PostgreSQL a connection URI of the path's schema (created if new).
std::string DatabaseUnderTest(const std::string& path);

// Opens the store under test on the database named options.path. On PostgreSQL, group_commit,
// max_batch, max_queue and read_only carry over to PostgresStoreOptions; synchronous and vfs are
// SQLite's and ignored (PostgreSQL always commits with synchronous_commit=on). Errors: those of
// SqliteStore::Open or PostgresStore::Open; kFailedPrecondition when the schema cannot be made.
Result<std::unique_ptr<Store>> OpenStoreUnderTest(const SqliteStoreOptions& options);

// PostgreSQL variant only: runs `sql` on the schema of `path` behind the store's back, as someone
// tampering with the database would, so that the tests of verification run on both stores with one
// text. The session's triggers are off (session_replication_role = replica, which needs a
// superuser: tools/pg_cluster.sh's user is one), which is what dropping the append-only triggers
// does on SQLite; so SQLite's `DROP TRIGGER name;` statements in `sql` are left out. Returns ""
// when it worked, else PostgreSQL's error.
std::string TamperWithPostgres(const std::string& path, const std::string& sql);

// Runs `sql` over a connection of its own to `conninfo`, as a client beside any store would; ""
// when it worked, else PostgreSQL's error.
std::string ExecOnPostgres(const std::string& conninfo, const std::string& sql);

// Removes the database named `path`: the SQLite file and its journals, or the PostgreSQL schema
// (at once, not at the test's end). No store may be open on it.
void RemoveDatabaseUnderTest(const std::string& path);

}  // namespace tongban
