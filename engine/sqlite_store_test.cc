// Tests of SqliteStore on real SQLite files in a temporary directory: schema and its version,
// commits and reads, optimistic concurrency, idempotency keys, append-only triggers, group commit,
// immutable definitions and read-only opening.
#include "engine/sqlite_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "engine/sqlite.h"

namespace tongban {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "tongban-store-test-XXXXXX").string();
    char* made = mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  std::string File(const std::string& name) const { return (fs::path(path_) / name).string(); }

 private:
  std::string path_;
};

Instant Ms(int64_t ms) {
  return Instant(std::chrono::milliseconds(ms));
}
constexpr int64_t kBase = 1772413200000;  // 2026-03-02T01:00:00Z

Event MakeEvent(const std::string& case_id, int64_t seq, const std::string& key = "",
                const std::string& actor = "rev-1") {
  Event e;
  e.case_id = case_id;
  e.seq = seq;
  e.time = Ms(kBase + seq * 1000);
  e.actor = {actor, "reviewer", "organ-1", ""};
  e.action = seq == 1 ? "submit" : "act" + std::to_string(seq);
  e.data = "{\"n\":" + std::to_string(seq) + "}";
  e.status = seq == 1 ? "submitted" : "under_review";
  e.step = seq == 1 ? "" : "review";
  e.definition_id = "item-a";
  e.definition_version = 1;
  e.prev_hash = std::string(64, '0');
  e.hash = ComputeEventHash(e);
  e.idempotency_key = key;
  return e;
}

// A write of events [from, to] of a case, decided against version from - 1.
CaseWrite MakeWrite(const std::string& case_id, int64_t from, int64_t to,
                    const std::string& key = "", const std::string& actor = "rev-1") {
  CaseWrite w;
  w.expected_version = from - 1;
  for (int64_t seq = from; seq <= to; ++seq) {
    w.events.push_back(MakeEvent(case_id, seq, seq == to ? key : "", actor));
  }
  CaseRecord& r = w.record;
  r.id = case_id;
  r.number = "N-" + case_id;
  r.query_code = "Q" + case_id;
  r.definition_id = "item-a";
  r.definition_version = 1;
  r.status = w.events.back().status;
  r.step = w.events.back().step;
  r.applicant_id = "app-" + case_id;
  r.organ_id = "organ-1";
  r.created_at = Ms(kBase);
  r.updated_at = w.events.back().time;
  r.version = to;
  r.next_timer_at = Ms(kBase + 100000 + to);
  r.snapshot = "{\"version\":" + std::to_string(to) + "}";
  return w;
}

std::unique_ptr<SqliteStore> OpenStore(const std::string& path, bool read_only = false,
                                       bool group_commit = true) {
  SqliteStoreOptions options;
  options.path = path;
  options.read_only = read_only;
  options.group_commit = group_commit;
  auto store = SqliteStore::Open(options);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(store).value() : nullptr;
}

// Runs SQL on the file through a connection of the test's own, bypassing the store.
Status RawExec(const std::string& path, const std::string& sql) {
  auto db = sqlite::Database::Open(path, false, false);
  if (!db.ok()) return db.status();
  return db->Exec(sql);
}

int64_t RawInt(const std::string& path, const std::string& sql) {
  auto db = sqlite::Database::Open(path, false, true);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  if (!db.ok()) return -1;
  sqlite::Statement s(db->get(), sql);
  EXPECT_TRUE(s.ok()) << s.error();
  if (!s.ok() || s.Step() != SQLITE_ROW) return -1;
  return s.Int(0);
}

std::string RawText(const std::string& path, const std::string& sql) {
  auto db = sqlite::Database::Open(path, false, true);
  if (!db.ok()) return "";
  sqlite::Statement s(db->get(), sql);
  if (!s.ok() || s.Step() != SQLITE_ROW) return "";
  return s.Text(0);
}

int64_t Events(SqliteStore& store) {
  return store.CountEvents().value();
}

// ---- Schema
// ---------------------------------------------------------------------------------------

TEST(SqliteStore, CreatesTheSchemaAtUserVersion1) {
  TempDir dir;
  std::string path = dir.File("t.db");
  { ASSERT_NE(OpenStore(path), nullptr); }
  EXPECT_EQ(RawInt(path, "PRAGMA user_version"), SqliteStore::kSchemaVersion);
  EXPECT_EQ(SqliteStore::kSchemaVersion, 1);
  EXPECT_EQ(RawText(path, "PRAGMA journal_mode"), "wal");
  for (const char* table : {"definitions", "events", "cases"}) {
    EXPECT_EQ(RawInt(path, std::string("SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                                       "AND name = '") +
                               table + "'"),
              1)
        << table;
  }
  EXPECT_EQ(RawInt(path, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"), 4);
  // Opening again neither migrates nor fails.
  auto again = OpenStore(path);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->CountEvents().value(), 0);
}

TEST(SqliteStore, RefusesANewerSchema) {
  TempDir dir;
  std::string path = dir.File("t.db");
  { ASSERT_NE(OpenStore(path), nullptr); }
  ASSERT_TRUE(RawExec(path, "PRAGMA user_version = 2").ok());
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
  EXPECT_EQ(RawInt(path, "PRAGMA user_version"), 2);  // left alone
}

TEST(SqliteStore, RefusesAnUnknownSynchronousMode) {
  TempDir dir;
  SqliteStoreOptions options;
  options.path = dir.File("t.db");
  options.synchronous = "EXTRA; DROP TABLE events";
  auto store = SqliteStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument);
}

// ---- Commit and read back
// ---------------------------------------------------------------------------

TEST(SqliteStore, CommitAndReadBack) {
  TempDir dir;
  std::string path = dir.File("t.db");
  auto store = OpenStore(path);
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->Commit(MakeWrite("case-a", 1, 1, "k1", "app-1")).ok());
  ASSERT_TRUE(store->Commit(MakeWrite("case-a", 2, 3)).ok());
  ASSERT_TRUE(store->Commit(MakeWrite("case-b", 1, 2)).ok());

  auto record = store->GetCase("case-a");
  ASSERT_TRUE(record.ok());
  ASSERT_TRUE(record->has_value());
  const CaseRecord& r = **record;
  EXPECT_EQ(r.number, "N-case-a");
  EXPECT_EQ(r.query_code, "Qcase-a");
  EXPECT_EQ(r.definition_id, "item-a");
  EXPECT_EQ(r.status, "under_review");
  EXPECT_EQ(r.step, "review");
  EXPECT_EQ(r.applicant_id, "app-case-a");
  EXPECT_EQ(r.created_at, Ms(kBase));
  EXPECT_EQ(r.updated_at, Ms(kBase + 3000));
  EXPECT_EQ(r.version, 3);
  EXPECT_EQ(r.next_timer_at, Ms(kBase + 100003));
  EXPECT_EQ(r.snapshot, "{\"version\":3}");
  EXPECT_FALSE(store->GetCase("case-z")->has_value());
  auto by_number = store->GetCaseByNumber("N-case-b");
  ASSERT_TRUE(by_number.ok() && by_number->has_value());
  EXPECT_EQ((*by_number)->id, "case-b");

  auto events = store->GetEvents("case-a", INT64_MAX);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 3u);
  for (int i = 0; i < 3; ++i) {
    Event expected = MakeEvent("case-a", i + 1, i == 0 ? "k1" : "", i == 0 ? "app-1" : "rev-1");
    const Event& got = (*events)[i];
    EXPECT_EQ(got.seq, i + 1);
    EXPECT_EQ(got.time, expected.time);
    EXPECT_EQ(got.actor.id, expected.actor.id);
    EXPECT_EQ(got.actor.role, expected.actor.role);
    EXPECT_EQ(got.actor.organ, expected.actor.organ);
    EXPECT_EQ(got.action, expected.action);
    EXPECT_EQ(got.data, expected.data);
    EXPECT_EQ(got.status, expected.status);
    EXPECT_EQ(got.step, expected.step);
    EXPECT_EQ(got.definition_id, expected.definition_id);
    EXPECT_EQ(got.definition_version, expected.definition_version);
    EXPECT_EQ(got.prev_hash, expected.prev_hash);
    EXPECT_EQ(got.hash, expected.hash);
    EXPECT_EQ(got.idempotency_key, expected.idempotency_key);
    EXPECT_EQ(ComputeEventHash(got), got.hash);
  }
  EXPECT_EQ(store->GetEvents("case-a", 2)->size(), 2u);
  EXPECT_TRUE(store->GetEvents("case-z", INT64_MAX)->empty());

  auto hit = store->FindIdempotencyKey("app-1", "k1");
  ASSERT_TRUE(hit.ok() && hit->has_value());
  EXPECT_EQ((*hit)->case_id, "case-a");
  EXPECT_EQ((*hit)->seq, 1);
  EXPECT_FALSE(store->FindIdempotencyKey("rev-1", "k1")->has_value());

  EXPECT_EQ(store->CountCases().value(), 2);
  EXPECT_EQ(store->CountEvents().value(), 5);
  auto by_status = store->CountByStatus();
  ASSERT_TRUE(by_status.ok());
  EXPECT_EQ(*by_status, (std::vector<std::pair<std::string, int64_t>>{{"under_review", 2}}));

  std::vector<std::string> order;
  ASSERT_TRUE(store
                  ->ForEachEvent([&](const Event& e) {
                    order.push_back(e.case_id + "/" + std::to_string(e.seq));
                    return true;
                  })
                  .ok());
  EXPECT_EQ(order,
            (std::vector<std::string>{"case-a/1", "case-a/2", "case-a/3", "case-b/1", "case-b/2"}));
  std::vector<std::string> ids;
  ASSERT_TRUE(store
                  ->ForEachCase([&](const CaseRecord& c) {
                    ids.push_back(c.id);
                    return false;  // stops after the first
                  })
                  .ok());
  EXPECT_EQ(ids, (std::vector<std::string>{"case-a"}));
  ids.clear();
  ASSERT_TRUE(store
                  ->ForEachCaseId([&](const std::string& id) {
                    ids.push_back(id);
                    return true;
                  })
                  .ok());
  EXPECT_EQ(ids, (std::vector<std::string>{"case-a", "case-b"}));
}

TEST(SqliteStore, CommittedDataSurvivesReopening) {
  TempDir dir;
  std::string path = dir.File("t.db");
  {
    auto store = OpenStore(path);
    ASSERT_TRUE(store->Commit(MakeWrite("case-a", 1, 2)).ok());
  }
  auto store = OpenStore(path);
  EXPECT_EQ(store->GetEvents("case-a", INT64_MAX)->size(), 2u);
  EXPECT_EQ(store->GetCase("case-a")->value().version, 2);
}

TEST(SqliteStore, ListCasesFiltersAndPages) {
  TempDir dir;
  auto store = OpenStore(dir.File("t.db"));
  for (const char* id : {"c1", "c2", "c3", "c4"})
    ASSERT_TRUE(store->Commit(MakeWrite(id, 1, 1)).ok());
  ASSERT_TRUE(store->Commit(MakeWrite("c2", 2, 2)).ok());
  CaseFilter f;
  f.limit = 2;
  auto page = store->ListCases(f);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].id, "c1");
  f.after_id = (*page)[1].id;
  page = store->ListCases(f);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].id, "c3");
  CaseFilter by_status;
  by_status.status = "under_review";
  page = store->ListCases(by_status);
  ASSERT_EQ(page->size(), 1u);
  EXPECT_EQ((*page)[0].id, "c2");
  CaseFilter by_applicant;
  by_applicant.applicant_id = "app-c3";
  ASSERT_EQ(store->ListCases(by_applicant)->size(), 1u);
  CaseFilter by_time;
  by_time.created_from = Ms(kBase + 1);
  EXPECT_TRUE(store->ListCases(by_time)->empty());
}

TEST(SqliteStore, DueTimersEarliestFirst) {
  TempDir dir;
  auto store = OpenStore(dir.File("t.db"));
  CaseWrite late = MakeWrite("late", 1, 1);
  late.record.next_timer_at = Ms(kBase + 50);
  CaseWrite early = MakeWrite("early", 1, 1);
  early.record.next_timer_at = Ms(kBase + 10);
  CaseWrite none = MakeWrite("none", 1, 1);
  none.record.next_timer_at.reset();
  CaseWrite future = MakeWrite("future", 1, 1);
  future.record.next_timer_at = Ms(kBase + 1000);
  for (CaseWrite* w : {&late, &early, &none, &future})
    ASSERT_TRUE(store->Commit(*w).ok());
  auto due = store->DueTimers(Ms(kBase + 50), 10);
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(*due, (std::vector<std::string>{"early", "late"}));
  EXPECT_EQ(store->DueTimers(Ms(kBase + 50), 1)->size(), 1u);
}

// ---- Refused writes store nothing -------------------------------------------------------------

TEST(SqliteStore, StaleExpectedVersionIsAbortedAndStoresNothing) {
  TempDir dir;
  auto store = OpenStore(dir.File("t.db"));
  ASSERT_TRUE(store->Commit(MakeWrite("case-a", 1, 1)).ok());
  ASSERT_TRUE(store->Commit(MakeWrite("case-a", 2, 2)).ok());
  // Another writer decided seq 2 against version 1 too: stale.
  CaseWrite stale = MakeWrite("case-a", 2, 3);
  stale.events[0].action = "other";
  stale.record.status = "approved";
  stale.record.snapshot = "{\"stale\":true}";
  Status s = store->Commit(stale);
  EXPECT_EQ(s.code(), StatusCode::kAborted) << s.ToString();
  // A new case that already exists.
  s = store->Commit(MakeWrite("case-a", 1, 1));
  EXPECT_EQ(s.code(), StatusCode::kAborted) << s.ToString();
  // A version from the future.
  s = store->Commit(MakeWrite("case-a", 5, 5));
  EXPECT_EQ(s.code(), StatusCode::kAborted) << s.ToString();
  // An existing-case write for a case that does not exist.
  s = store->Commit(MakeWrite("case-new", 2, 2));
  EXPECT_EQ(s.code(), StatusCode::kAborted) << s.ToString();

  EXPECT_EQ(Events(*store), 2);
  auto events = store->GetEvents("case-a", INT64_MAX);
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[1].action, "act2");
  auto record = store->GetCase("case-a")->value();
  EXPECT_EQ(record.version, 2);
  EXPECT_EQ(record.status, "under_review");
  EXPECT_EQ(record.snapshot, "{\"version\":2}");
  EXPECT_FALSE(store->GetCase("case-new")->has_value());
  // The fresh version goes through.
  EXPECT_TRUE(store->Commit(MakeWrite("case-a", 3, 3)).ok());
}

TEST(SqliteStore, ReusedIdempotencyKeyIsRefusedAndStoresNothing) {
  TempDir dir;
  auto store = OpenStore(dir.File("t.db"));
  ASSERT_TRUE(store->Commit(MakeWrite("case-a", 1, 1, "key-1", "app-1")).ok());
  // The same actor and key, on another case and on the same case.
  Status s = store->Commit(MakeWrite("case-b", 1, 1, "key-1", "app-1"));
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();
  s = store->Commit(MakeWrite("case-a", 2, 3, "key-1", "app-1"));
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();
  EXPECT_EQ(Events(*store), 1);
  EXPECT_FALSE(store->GetCase("case-b")->has_value());
  EXPECT_EQ(store->GetCase("case-a")->value().version, 1);
  // Another actor may use the same key.
  EXPECT_TRUE(store->Commit(MakeWrite("case-b", 1, 1, "key-1", "app-2")).ok());
  EXPECT_EQ(Events(*store), 2);
}

TEST(SqliteStore, ACaseNumberCollisionIsRefusedAndStoresNothing) {
  TempDir dir;
  auto store = OpenStore(dir.File("t.db"));
  ASSERT_TRUE(store->Commit(MakeWrite("case-a", 1, 1)).ok());
  CaseWrite w = MakeWrite("case-b", 1, 1);
  w.record.number = "N-case-a";
  Status s = store->Commit(w);
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();
  EXPECT_EQ(Events(*store), 1);
  EXPECT_TRUE(store->GetEvents("case-b", INT64_MAX)->empty());
}

// ---- Append-only --------------------------------------------------------------------------------

TEST(SqliteStore, TriggersRefuseRewritingHistory) {
  TempDir dir;
  std::string path = dir.File("t.db");
  {
    auto store = OpenStore(path);
    ASSERT_TRUE(store->Commit(MakeWrite("case-a", 1, 2)).ok());
    DefinitionRecord d{"item", "item-a", 1, "hash-1", "{}", Ms(kBase)};
    ASSERT_TRUE(store->Deploy(d).ok());
  }
  Status s = RawExec(path, "UPDATE events SET data = '{}' WHERE case_id = 'case-a' AND seq = 1");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("append-only"), std::string::npos) << s.message();
  s = RawExec(path, "DELETE FROM events WHERE case_id = 'case-a' AND seq = 2");
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("append-only"), std::string::npos) << s.message();
  s = RawExec(path, "UPDATE definitions SET text = '{\"x\":1}'");
  EXPECT_NE(s.message().find("immutable"), std::string::npos) << s.message();
  s = RawExec(path, "DELETE FROM definitions");
  EXPECT_NE(s.message().find("immutable"), std::string::npos) << s.message();
  auto store = OpenStore(path);
  auto events = store->GetEvents("case-a", INT64_MAX);
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[0].data, "{\"n\":1}");
  EXPECT_EQ(store->Definitions()->size(), 1u);
}

// ---- Group commit
// ---------------------------------------------------------------------------------

TEST(SqliteStore, GroupCommitBatchesConcurrentWriters) {
  TempDir dir;
  auto store = OpenStore(dir.File("t.db"));
  constexpr int kThreads = 16;
  constexpr int kCasesPerThread = 25;
  std::atomic<int> ready{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < kThreads)
        std::this_thread::yield();
      for (int i = 0; i < kCasesPerThread; ++i) {
        std::string id = "t" + std::to_string(t) + "-" + std::to_string(i);
        if (!store->Commit(MakeWrite(id, 1, 1)).ok()) failures.fetch_add(1);
        if (!store->Commit(MakeWrite(id, 2, 2)).ok()) failures.fetch_add(1);
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Events(*store), kThreads * kCasesPerThread * 2);
  EXPECT_EQ(store->CountCases().value(), kThreads * kCasesPerThread);
  StoreStats stats = store->Stats();
  EXPECT_EQ(stats.writes, kThreads * kCasesPerThread * 2);
  EXPECT_GT(stats.max_batch, 1) << "16 concurrent writers never shared a transaction";
  EXPECT_LT(stats.commits, stats.writes);
}

TEST(SqliteStore, AStaleWriteInABatchRollsBackAlone) {
  // Many writers race to create the same case and to append to another: exactly one of each wins,
  // the rest are refused, and nothing of theirs is stored, whatever batch they shared.
  TempDir dir;
  auto store = OpenStore(dir.File("t.db"));
  ASSERT_TRUE(store->Commit(MakeWrite("shared", 1, 1)).ok());
  constexpr int kThreads = 12;
  std::atomic<int> ready{0};
  std::atomic<int> created{0};
  std::atomic<int> appended{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < kThreads)
        std::this_thread::yield();
      CaseWrite create = MakeWrite("contested", 1, 1);
      create.events[0].action = "submit-" + std::to_string(t);
      Status s = store->Commit(create);
      if (s.ok())
        created.fetch_add(1);
      else
        EXPECT_EQ(s.code(), StatusCode::kAborted) << s.ToString();
      CaseWrite append = MakeWrite("shared", 2, 3);
      append.events[0].action = "append-" + std::to_string(t);
      s = store->Commit(append);
      if (s.ok())
        appended.fetch_add(1);
      else
        EXPECT_EQ(s.code(), StatusCode::kAborted) << s.ToString();
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(created.load(), 1);
  EXPECT_EQ(appended.load(), 1);
  EXPECT_EQ(store->GetEvents("contested", INT64_MAX)->size(), 1u);
  EXPECT_EQ(store->GetEvents("shared", INT64_MAX)->size(), 3u);
  EXPECT_EQ(Events(*store), 4);
}

TEST(SqliteStore, WithoutGroupCommitEveryWriteIsItsOwnTransaction) {
  TempDir dir;
  auto store = OpenStore(dir.File("t.db"), false, /*group_commit=*/false);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        EXPECT_TRUE(store->Commit(MakeWrite("c" + std::to_string(t * 10 + i), 1, 1)).ok());
      }
    });
  }
  for (auto& t : threads)
    t.join();
  StoreStats stats = store->Stats();
  EXPECT_EQ(stats.writes, 20);
  EXPECT_EQ(stats.commits, 20);
  EXPECT_EQ(stats.max_batch, 1);
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
  // Nor does a writable open take it for a fresh database.
  options.read_only = false;
  store = SqliteStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().message().find("not a database"), std::string::npos)
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

}  // namespace
}  // namespace tongban
