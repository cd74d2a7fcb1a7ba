// Tests of SqliteStore's file: the schema at its version, newer schemas and bad options refused,
// the migration of a version-1 file as it shipped, immutable definitions, and read-only opening.
// Its writes and reads: sqlite_store_test.cc.
#include "engine/sqlite_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "engine/sqlite.h"
#include "engine/sqlite_store_test_util.h"

namespace tongban {
namespace {

namespace fs = std::filesystem;
using namespace sqlite_store_test;  // the shared helpers (sqlite_store_test_util.h)

// ---- Schema
// ---------------------------------------------------------------------------------------

TEST(SqliteStore, CreatesTheSchemaAtUserVersion7) {
  TempDir dir;
  std::string path = dir.File("t.db");
  { ASSERT_NE(OpenStore(path), nullptr); }
  EXPECT_EQ(RawInt(path, "PRAGMA user_version"), SqliteStore::kSchemaVersion);
  EXPECT_EQ(SqliteStore::kSchemaVersion, 7);
  // Cases in a rowid table (a case's row, snapshot and all, stays in its b-tree page), the events
  // WITHOUT ROWID (small rows, clustered by case).
  EXPECT_EQ(
      RawText(path, "SELECT sql FROM sqlite_master WHERE name = 'cases'").find("WITHOUT ROWID"),
      std::string::npos);
  EXPECT_NE(
      RawText(path, "SELECT sql FROM sqlite_master WHERE name = 'events'").find("WITHOUT ROWID"),
      std::string::npos);
  EXPECT_EQ(RawInt(path,
                   "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = "
                   "'cases' AND name LIKE 'cases_%'"),
            5);
  EXPECT_EQ(RawText(path, "PRAGMA journal_mode"), "wal");
  for (const char* table : {"definitions", "events", "cases", "ledger", "case_counts",
                            "light_changes", "documents", "case_documents", "case_facts",
                            "indicator_counts", "delegated_events", "delivery_light_changes"}) {
    EXPECT_EQ(RawInt(path, std::string("SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                                       "AND name = '") +
                               table + "'"),
              1)
        << table;
  }
  EXPECT_EQ(RawInt(path, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"), 10);
  EXPECT_EQ(RawInt(path,
                   "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = "
                   "'ledger_subject' AND tbl_name = 'ledger'"),
            1);
  // Opening again neither migrates nor fails.
  auto again = OpenStore(path);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->CountEvents().value(), 0);
}

TEST(SqliteStore, RefusesANewerSchema) {
  TempDir dir;
  std::string path = dir.File("t.db");
  { ASSERT_NE(OpenStore(path), nullptr); }
  const int newer = SqliteStore::kSchemaVersion + 1;
  ASSERT_TRUE(RawExec(path, "PRAGMA user_version = " + std::to_string(newer)).ok());
  for (bool read_only : {false, true}) {
    SqliteStoreOptions options;
    options.path = path;
    options.read_only = read_only;
    auto store = SqliteStore::Open(options);
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(store.status().message().find("newer"), std::string::npos)
        << store.status().message();
  }
  EXPECT_EQ(RawInt(path, "PRAGMA user_version"), newer);  // left alone
}

TEST(SqliteStore, RefusesAnUnknownSynchronousModeAndAWalCheckpointThresholdBelowOne) {
  TempDir dir;
  SqliteStoreOptions options;
  options.path = dir.File("t.db");
  options.synchronous = "EXTRA; DROP TABLE events";
  auto store = SqliteStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument);
  options.synchronous = "FULL";
  options.wal_checkpoint_pages = 0;
  store = SqliteStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(options.path)) << "refused before the file was made";
}

// ---- Migration ----------------------------------------------------------------------------------

// The schema of version 1 exactly as it shipped (sqlite_store.cc at 720ca4d). Frozen here: the
// migration must keep working on files made by it, whatever later versions do.
constexpr const char* kSchemaV1 = R"sql(
CREATE TABLE definitions (
  kind TEXT NOT NULL,
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  content_hash TEXT NOT NULL,
  text TEXT NOT NULL,
  deployed_ms INTEGER NOT NULL,
  PRIMARY KEY (kind, id, version)
) WITHOUT ROWID;
CREATE TRIGGER definitions_immutable_update BEFORE UPDATE ON definitions
BEGIN SELECT RAISE(ABORT, 'deployed definitions are immutable'); END;
CREATE TRIGGER definitions_immutable_delete BEFORE DELETE ON definitions
BEGIN SELECT RAISE(ABORT, 'deployed definitions are immutable'); END;

CREATE TABLE events (
  case_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  time_ms INTEGER NOT NULL,
  actor_id TEXT NOT NULL,
  actor_role TEXT NOT NULL,
  actor_organ TEXT NOT NULL,
  action TEXT NOT NULL,
  data TEXT NOT NULL,
  status TEXT NOT NULL,
  step TEXT NOT NULL,
  definition_id TEXT NOT NULL,
  definition_version INTEGER NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  idempotency_key TEXT,
  PRIMARY KEY (case_id, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX events_idempotency ON events (actor_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

CREATE TABLE cases (
  id TEXT PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,
  query_code TEXT NOT NULL,
  definition_id TEXT NOT NULL,
  definition_version INTEGER NOT NULL,
  status TEXT NOT NULL,
  step TEXT NOT NULL,
  applicant_id TEXT NOT NULL,
  organ_id TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  version INTEGER NOT NULL,
  next_timer_ms INTEGER,
  snapshot TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX cases_status ON cases (status, id);
CREATE INDEX cases_applicant ON cases (applicant_id, id);
CREATE INDEX cases_timer ON cases (next_timer_ms) WHERE next_timer_ms IS NOT NULL;
PRAGMA user_version = 1;
)sql";

// Writes `w` into a version 1 file with plain SQL, as tongban 1 did.
void InsertV1(sqlite::Database& db, const CaseWrite& w) {
  for (const Event& e : w.events) {
    sqlite::Statement s(db.get(), "INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    ASSERT_TRUE(s.ok()) << s.error();
    s.Bind(1, e.case_id).Bind(2, e.seq).Bind(3, e.time.time_since_epoch().count());
    s.Bind(4, e.actor.id).Bind(5, e.actor.role).Bind(6, e.actor.organ).Bind(7, e.action);
    s.Bind(8, e.data).Bind(9, e.status).Bind(10, e.step).Bind(11, e.definition_id);
    s.Bind(12, static_cast<int64_t>(e.definition_version)).Bind(13, e.prev_hash);
    s.Bind(14, e.hash);
    if (e.idempotency_key.empty()) {
      s.BindNull(15);
    } else {
      s.Bind(15, e.idempotency_key);
    }
    ASSERT_TRUE(s.Run().ok());
  }
  const CaseRecord& r = w.record;
  sqlite::Statement s(db.get(), "INSERT INTO cases VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  ASSERT_TRUE(s.ok()) << s.error();
  s.Bind(1, r.id).Bind(2, r.number).Bind(3, r.query_code).Bind(4, r.definition_id);
  s.Bind(5, static_cast<int64_t>(r.definition_version)).Bind(6, r.status).Bind(7, r.step);
  s.Bind(8, r.applicant_id).Bind(9, r.organ_id).Bind(10, r.created_at.time_since_epoch().count());
  s.Bind(11, r.updated_at.time_since_epoch().count()).Bind(12, r.version);
  s.Bind(13, r.next_timer_at->time_since_epoch().count()).Bind(14, r.snapshot);
  ASSERT_TRUE(s.Run().ok());
}

TEST(SqliteStore, MigratesAVersion1DatabaseAndKeepsItsData) {
  TempDir dir;
  std::string path = dir.File("v1.db");
  {
    auto db = sqlite::Database::Open(path, true, false);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->Exec(kSchemaV1).ok());
    ASSERT_TRUE(
        db->Exec("INSERT INTO definitions VALUES ('item','item-a',1,'hash-1','{}',0)").ok());
    InsertV1(*db, MakeWrite("case-a", 1, 2, "key-1", "app-1"));
    InsertV1(*db, MakeWrite("case-b", 1, 1));
  }
  ASSERT_EQ(RawInt(path, "PRAGMA user_version"), 1);

  // Read-only (as `tongban verify` opens it), an old file is read as it is and not migrated.
  {
    auto store = OpenStore(path, /*read_only=*/true);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->CountCases().value(), 2);
    EXPECT_EQ(store->GetEvents("case-a", INT64_MAX)->size(), 2u);
    EXPECT_TRUE(ReadLedger(*store).empty());
  }
  ASSERT_EQ(RawInt(path, "PRAGMA user_version"), 1);
  ASSERT_EQ(RawInt(path, "SELECT count(*) FROM sqlite_master WHERE name = 'ledger'"), 0);

  auto store = OpenStore(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(RawInt(path, "PRAGMA user_version"), SqliteStore::kSchemaVersion);
  EXPECT_EQ(RawInt(path, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"), 10);
  // The cases and events as they were.
  EXPECT_EQ(store->CountCases().value(), 2);
  EXPECT_EQ(Events(*store), 3);
  CaseRecord a = store->GetCase("case-a")->value();
  CaseRecord expected = MakeWrite("case-a", 1, 2).record;
  EXPECT_EQ(a.number, expected.number);
  EXPECT_EQ(a.version, 2);
  EXPECT_EQ(a.status, expected.status);
  EXPECT_EQ(a.updated_at, expected.updated_at);
  EXPECT_EQ(a.next_timer_at, expected.next_timer_at);
  EXPECT_EQ(a.snapshot, expected.snapshot);
  auto events = store->GetEvents("case-a", INT64_MAX);
  ASSERT_EQ(events->size(), 2u);
  for (const Event& e : *events)
    EXPECT_EQ(ComputeEventHash(e), e.hash);
  EXPECT_EQ(store->FindIdempotencyKey("app-1", "key-1")->value().case_id, "case-a");
  EXPECT_EQ(store->Definitions()->size(), 1u);
  // An empty ledger, ready for its first entry, and the old cases take new writes.
  EXPECT_TRUE(ReadLedger(*store).empty());
  StoreWrite w;
  w.cases.push_back(MakeWrite("case-a", 3, 3));
  w.ledger.push_back(MakeEntry(kLedgerDelegationAdded, "dlg-1"));
  ASSERT_TRUE(store->Commit(std::move(w)).ok());
  std::vector<LedgerEntry> ledger = ReadLedger(*store);
  ASSERT_EQ(ledger.size(), 1u);
  EXPECT_EQ(ledger[0].seq, 1);
  EXPECT_EQ(ledger[0].prev_hash, kGenesisHash);
  EXPECT_EQ(store->GetCase("case-a")->value().version, 3);
  // The reused key is still refused after the migration.
  EXPECT_EQ(store->Commit(MakeWrite("case-c", 1, 1, "key-1", "app-1")).code(),
            StatusCode::kAlreadyExists);
  store.reset();
  // Opening the migrated file again neither migrates nor fails.
  store = OpenStore(path);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(ReadLedger(*store).size(), 1u);
  EXPECT_EQ(store->CountCases().value(), 2);
}

// ---- Definitions
// ----------------------------------------------------------------------------------

TEST(SqliteStore, DefinitionsAreImmutable) {
  TempDir dir;
  auto store = OpenStore(dir.File("t.db"));
  DefinitionRecord d{"item", "item-a", 1, "hash-1", "{\"a\":1}", Ms(kBase)};
  ASSERT_TRUE(store->Deploy(d).ok());
  // The same content again: a no-op.
  DefinitionRecord same = d;
  same.deployed_at = Ms(kBase + 5000);
  EXPECT_TRUE(store->Deploy(same).ok());
  // Other content under the same kind, id and version: refused.
  DefinitionRecord other{"item", "item-a", 1, "hash-2", "{\"a\":2}", Ms(kBase)};
  Status s = store->Deploy(other);
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();
  // A new version, or another kind with the same id, is a new definition.
  EXPECT_TRUE(store->Deploy({"item", "item-a", 2, "hash-2", "{\"a\":2}", Ms(kBase)}).ok());
  EXPECT_TRUE(store->Deploy({"calendar", "item-a", 1, "hash-3", "{}", Ms(kBase)}).ok());
  auto all = store->Definitions();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  // Calendars first (items refer to them), then by id and version.
  EXPECT_EQ((*all)[0].kind, "calendar");
  EXPECT_EQ((*all)[1].kind, "item");
  EXPECT_EQ((*all)[1].version, 1);
  EXPECT_EQ((*all)[1].text, "{\"a\":1}");
  EXPECT_EQ((*all)[1].content_hash, "hash-1");
  EXPECT_EQ((*all)[1].deployed_at, Ms(kBase));  // the first deployment's time is kept
  EXPECT_EQ((*all)[2].kind, "item");
  EXPECT_EQ((*all)[2].version, 2);
}

// ---- Read-only
// --------------------------------------------------------------------------------------

TEST(SqliteStore, ReadOnlyOpenOfAMissingFileFailsAndCreatesNothing) {
  TempDir dir;
  std::string path = dir.File("missing.db");
  SqliteStoreOptions options;
  options.path = path;
  options.read_only = true;
  auto store = SqliteStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find(path), std::string::npos) << store.status().message();
  EXPECT_FALSE(fs::exists(path));
}

TEST(SqliteStore, ReadOnlyOpenOfANonTongbanFileFails) {
  TempDir dir;
  // Not a database at all.
  const std::string text = dir.File("notes.txt");
  {
    std::ofstream out(text);
    out << "These are not the events you are looking for.\n";
    for (int i = 0; i < 200; ++i)
      out << "filler line " << i << "\n";
  }
  SqliteStoreOptions options;
  options.path = text;
  options.read_only = true;
  auto store = SqliteStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("not a database"), std::string::npos)
      << store.status().message();
  EXPECT_NE(store.status().message().find(text), std::string::npos) << store.status().message();
  // Nor does a writable open take it for a fresh database; it says so in the same words.
  options.read_only = false;
  store = SqliteStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("not a tongban database: " + text), std::string::npos)
      << store.status().message();
  options.read_only = true;
  // A SQLite database of someone else's.
  std::string other = dir.File("other.db");
  {
    auto db = sqlite::Database::Open(other, true, false);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->Exec("CREATE TABLE t (x); INSERT INTO t VALUES (1);").ok());
  }
  options.path = other;
  store = SqliteStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("not a tongban database"), std::string::npos)
      << store.status().message();
}

TEST(SqliteStore, ReadOnlyStoreReadsButNeverWrites) {
  TempDir dir;
  std::string path = dir.File("t.db");
  {
    auto store = OpenStore(path);
    ASSERT_TRUE(store->Commit(MakeWrite("case-a", 1, 2)).ok());
  }
  auto store = OpenStore(path, /*read_only=*/true);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->GetEvents("case-a", INT64_MAX)->size(), 2u);
  EXPECT_EQ(store->Commit(MakeWrite("case-a", 3, 3)).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(store->Deploy({"item", "x", 1, "h", "{}", Ms(kBase)}).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(Events(*store), 2);
}

// A mistyped --db naming another application's SQLite file: serving refuses it before changing a
// byte, neither WAL mode nor Tongban's tables beside the other application's.
TEST(SqliteStore, WritableOpenLeavesAnotherApplicationsDatabaseAsItIs) {
  TempDir dir;
  std::string other = dir.File("other.db");
  {
    auto db = sqlite::Database::Open(other, true, false);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->Exec("CREATE TABLE t (x); INSERT INTO t VALUES (1);").ok());
  }
  auto read_all = [](const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string before = read_all(other);
  SqliteStoreOptions options;
  options.path = other;
  auto store = SqliteStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("not a tongban database: " + other), std::string::npos)
      << store.status().message();
  EXPECT_EQ(read_all(other), before);
  EXPECT_FALSE(fs::exists(other + "-wal"));
  // A Tongban file opens as before, fresh and again.
  options.path = dir.File("tongban.db");
  ASSERT_TRUE(SqliteStore::Open(options).ok());
  ASSERT_TRUE(SqliteStore::Open(options).ok());
}

}  // namespace
}  // namespace tongban
