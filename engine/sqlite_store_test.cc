// Tests of SqliteStore's writes and reads on real SQLite files in a temporary directory: commits
// and reads, multi-case StoreWrites, the ledger chain, optimistic concurrency, idempotency keys,
// append-only triggers, group commit and the WAL checkpoint thread. Its schema, migrations and
// read-only opening: sqlite_store_schema_test.cc.
#include "engine/sqlite_store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "engine/sqlite.h"
#include "engine/sqlite_store_test_util.h"

namespace tongban {
namespace {

namespace fs = std::filesystem;
using namespace sqlite_store_test;  // the shared helpers (sqlite_store_test_util.h)

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

  // Ranges of case ids, as VerifyAll splits a scan: [from, to), an empty `to` without end.
  EXPECT_EQ(store->CaseIdAt(0).value(), "case-a");
  EXPECT_EQ(store->CaseIdAt(1).value(), "case-b");
  EXPECT_FALSE(store->CaseIdAt(2).value().has_value());
  auto events_in = [&](const CaseIdRange& range) {
    std::vector<std::string> seen;
    EXPECT_TRUE(store
                    ->ForEachEvent(range,
                                   [&](Event& e) {
                                     seen.push_back(e.case_id + "/" + std::to_string(e.seq));
                                     e = Event();  // the visitor may take the contents
                                     return true;
                                   })
                    .ok());
    return seen;
  };
  auto cases_in = [&](const CaseIdRange& range) {
    std::vector<std::string> seen;
    EXPECT_TRUE(store
                    ->ForEachCase(range,
                                  [&](const CaseRecord& c) {
                                    seen.push_back(c.id);
                                    return true;
                                  })
                    .ok());
    return seen;
  };
  EXPECT_EQ(events_in({"", "case-b"}),
            (std::vector<std::string>{"case-a/1", "case-a/2", "case-a/3"}));
  EXPECT_EQ(events_in({"case-b", ""}), (std::vector<std::string>{"case-b/1", "case-b/2"}));
  EXPECT_EQ(events_in({"case-a0", "case-b"}), std::vector<std::string>{});
  EXPECT_EQ(cases_in({"", "case-b"}), (std::vector<std::string>{"case-a"}));
  EXPECT_EQ(cases_in({"case-b", ""}), (std::vector<std::string>{"case-b"}));
  EXPECT_EQ(cases_in({"", ""}), (std::vector<std::string>{"case-a", "case-b"}));
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
  {
    auto store = OpenStore(path);
    StoreWrite w;
    w.ledger.push_back(MakeEntry(kLedgerCreditRecorded, "credit-1"));
    ASSERT_TRUE(store->Commit(std::move(w)).ok());
  }
  s = RawExec(path, "UPDATE ledger SET data = '{}' WHERE seq = 1");
  EXPECT_NE(s.message().find("append-only"), std::string::npos) << s.message();
  s = RawExec(path, "DELETE FROM ledger");
  EXPECT_NE(s.message().find("append-only"), std::string::npos) << s.message();
  auto store = OpenStore(path);
  EXPECT_EQ(ReadLedger(*store).size(), 1u);
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

// ---- WAL checkpoints
// -------------------------------------------------------------------------------

// Past wal_checkpoint_pages, the checkpoint thread copies the WAL into the file while the store is
// open, with no commit waiting for it; the WAL file stays bounded (it starts over once copied), and
// everything reads back.
TEST(SqliteStore, AThreadOfItsOwnCopiesTheWalIntoTheFileAndKeepsItBounded) {
  TempDir dir;
  const std::string path = dir.File("wal.db");
  // Above the pages the schema's creation leaves in the WAL at open (about 60).
  constexpr int kPages = 100;
  SqliteStoreOptions options;
  options.path = path;
  options.wal_checkpoint_pages = kPages;
  auto opened = SqliteStore::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  SqliteStore& store = **opened;
  // A frame is 24 bytes of header and a 4 KB page, after the WAL's 32-byte header.
  auto wal_frames = [&] { return (fs::file_size(path + "-wal") - 32) / (24 + 4096); };
  const auto file_size_at_open = fs::file_size(path);

  // Writes until the WAL holds the threshold, far below the writer's own bound (four times it),
  // then none: only the checkpoint thread can copy it now.
  ASSERT_LT(wal_frames(), static_cast<uintmax_t>(kPages));
  int cases = 0;
  while (wal_frames() < static_cast<uintmax_t>(kPages)) {
    ASSERT_TRUE(store.Commit(MakeWrite("c-" + std::to_string(cases++), 1, 3)).ok());
    ASSERT_LT(cases, 1000) << "the WAL does not grow";
  }
  ASSERT_LT(wal_frames(), static_cast<uintmax_t>(4 * kPages));
  for (int tries = 0; tries < 1000 && store.Stats().wal_checkpoints == 0; ++tries) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(store.Stats().wal_checkpoints, 1);
  EXPECT_GT(fs::file_size(path), file_size_at_open) << "nothing was copied into the file";

  // Then many more writes, some thousands of frames: the WAL starts over after the copies and
  // stays near the writer's bound. (Past it by what is written while the thread's copy still
  // runs, when the writer's own checkpoint finds it busy: a loaded machine shows some.)
  for (int i = 0; i < 400; ++i) {
    ASSERT_TRUE(store.Commit(MakeWrite("c-" + std::to_string(cases++), 1, 3)).ok());
  }
  EXPECT_LE(wal_frames(), static_cast<uintmax_t>(8 * kPages));
  StoreStats stats = store.Stats();
  EXPECT_GT(stats.wal_checkpoints, 1);
  EXPECT_EQ(stats.wal_checkpoint_failures, 0);
  for (int i = 0; i < cases; i += 37) {
    auto c = store.GetCase("c-" + std::to_string(i));
    ASSERT_TRUE(c.ok() && c->has_value()) << i;
    EXPECT_EQ((*c)->version, 3);
  }
  EXPECT_EQ(Events(store), 3 * cases);
}

// ---- StoreWrite: several cases and ledger entries in one transaction ----------------------------

TEST(SqliteStore, AStoreWriteCommitsEveryCaseAndLedgerEntry) {
  TempDir dir;
  std::string path = dir.File("t.db");
  auto store = OpenStore(path);
  ASSERT_TRUE(store->Commit(MakeWrite("case-a", 1, 1)).ok());

  StoreWrite w;
  w.cases.push_back(MakeWrite("case-a", 2, 3));  // an existing case
  w.cases.push_back(MakeWrite("case-b", 1, 1));  // new cases
  w.cases.push_back(MakeWrite("case-c", 1, 2));
  w.cases.push_back(MakeWrite("case-d", 1, 1));  // created and appended to in the same write
  w.cases.push_back(MakeWrite("case-d", 2, 2));
  w.ledger.push_back(MakeEntry(kLedgerDelegationAdded, "dlg-1", 1));
  w.ledger.push_back(MakeEntry(kLedgerCreditRecorded, "credit-1", 2));
  ASSERT_TRUE(store->Commit(std::move(w)).ok());

  EXPECT_EQ(store->GetCase("case-a")->value().version, 3);
  EXPECT_EQ(store->GetCase("case-b")->value().version, 1);
  EXPECT_EQ(store->GetCase("case-c")->value().version, 2);
  EXPECT_EQ(store->GetCase("case-d")->value().version, 2);
  EXPECT_EQ(store->GetEvents("case-a", INT64_MAX)->size(), 3u);
  EXPECT_EQ(store->GetEvents("case-d", INT64_MAX)->size(), 2u);
  EXPECT_EQ(Events(*store), 3 + 1 + 2 + 2);

  std::vector<LedgerEntry> ledger = ReadLedger(*store);
  ASSERT_EQ(ledger.size(), 2u);
  // The store numbered and chained them, whatever the caller had put there.
  EXPECT_EQ(ledger[0].seq, 1);
  EXPECT_EQ(ledger[0].prev_hash, kGenesisHash);
  EXPECT_EQ(ledger[0].hash, ComputeLedgerHash(ledger[0]));
  EXPECT_EQ(ledger[1].seq, 2);
  EXPECT_EQ(ledger[1].prev_hash, ledger[0].hash);
  EXPECT_EQ(ledger[1].hash, ComputeLedgerHash(ledger[1]));
  // Every other field as given.
  LedgerEntry given = MakeEntry(kLedgerDelegationAdded, "dlg-1", 1);
  EXPECT_EQ(ledger[0].time, given.time);
  EXPECT_EQ(ledger[0].actor.id, given.actor.id);
  EXPECT_EQ(ledger[0].actor.role, given.actor.role);
  EXPECT_EQ(ledger[0].actor.organ, given.actor.organ);
  EXPECT_EQ(ledger[0].actor.name, given.actor.name);
  EXPECT_EQ(ledger[0].kind, "delegation.added");
  EXPECT_EQ(ledger[0].subject, "dlg-1");
  EXPECT_EQ(ledger[0].data, "{\"n\":1}");
  EXPECT_EQ(ledger[1].kind, "credit.recorded");
  EXPECT_EQ(CheckLedgerChain(ledger), std::nullopt);
  // Reading after a seq.
  std::vector<LedgerEntry> after = ReadLedger(*store, 1);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].seq, 2);
  EXPECT_EQ(after[0].hash, ledger[1].hash);
  EXPECT_TRUE(ReadLedger(*store, 2).empty());
  // Stored as one row per entry, in the table the schema names.
  EXPECT_EQ(RawInt(path, "SELECT count(*) FROM ledger"), 2);
  EXPECT_EQ(RawText(path, "SELECT actor_name FROM ledger WHERE seq = 1"), "王五");

  // The counters count case writes; the StoreWrite was one transaction.
  StoreStats stats = store->Stats();
  EXPECT_EQ(stats.commits, 2);
  EXPECT_EQ(stats.writes, 1 + 5);
  EXPECT_EQ(stats.max_batch, 5);

  // A ledger-only write, and an empty one (a no-op, not even a transaction).
  StoreWrite only_ledger;
  only_ledger.ledger.push_back(MakeEntry(kLedgerMandateGranted, "mandate-1", 3));
  ASSERT_TRUE(store->Commit(std::move(only_ledger)).ok());
  EXPECT_TRUE(store->Commit(StoreWrite{}).ok());
  stats = store->Stats();
  EXPECT_EQ(stats.commits, 3);
  EXPECT_EQ(stats.writes, 6);
  ledger = ReadLedger(*store);
  ASSERT_EQ(ledger.size(), 3u);
  EXPECT_EQ(ledger[2].seq, 3);
  EXPECT_EQ(ledger[2].prev_hash, ledger[1].hash);
  EXPECT_EQ(CheckLedgerChain(ledger), std::nullopt);
}

TEST(SqliteStore, AStoreWriteBiggerThanMaxBatchCommitsWhole) {
  TempDir dir;
  SqliteStoreOptions options;
  options.path = dir.File("t.db");
  options.max_batch = 2;
  auto opened = SqliteStore::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto store = std::move(opened).value();
  StoreWrite w;
  for (const char* id : {"c1", "c2", "c3", "c4", "c5"})
    w.cases.push_back(MakeWrite(id, 1, 1));
  ASSERT_TRUE(store->Commit(std::move(w)).ok());
  EXPECT_EQ(store->CountCases().value(), 5);
  EXPECT_EQ(store->Stats().commits, 1);
  EXPECT_EQ(store->Stats().max_batch, 5);
}

// Checks that nothing of a refused StoreWrite made of `case-a` at 3..3 (stale or not), the new
// case `case-new`, and a ledger entry about `refused` was stored.
void ExpectNothingOfTheRefusedWrite(SqliteStore& store, int64_t case_a_version) {
  EXPECT_FALSE(store.GetCase("case-new")->has_value());
  EXPECT_TRUE(store.GetEvents("case-new", INT64_MAX)->empty());
  EXPECT_EQ(store.GetCase("case-a")->value().version, case_a_version);
  EXPECT_EQ(store.GetEvents("case-a", INT64_MAX)->size(), static_cast<size_t>(case_a_version));
  for (const LedgerEntry& e : ReadLedger(store))
    EXPECT_NE(e.subject, "refused") << e.seq;
}

TEST(SqliteStore, OneStaleCaseRefusesTheWholeStoreWrite) {
  TempDir dir;
  auto store = OpenStore(dir.File("t.db"));
  ASSERT_TRUE(store->Commit(MakeWrite("case-a", 1, 2)).ok());
  StoreWrite w;
  w.cases.push_back(MakeWrite("case-new", 1, 2));  // fine on its own, and first
  w.cases.push_back(MakeWrite("case-a", 2, 3));    // decided against version 1: stale
  w.ledger.push_back(MakeEntry(kLedgerCreditRecorded, "refused"));
  Status s = store->Commit(w);
  EXPECT_EQ(s.code(), StatusCode::kAborted) << s.ToString();
  ExpectNothingOfTheRefusedWrite(*store, 2);
  EXPECT_TRUE(ReadLedger(*store).empty());
  EXPECT_EQ(Events(*store), 2);
  EXPECT_EQ(store->Stats().writes, 1);
  // With the stale write made fresh, the same StoreWrite goes through.
  w.cases[1] = MakeWrite("case-a", 3, 3);
  ASSERT_TRUE(store->Commit(w).ok());
  EXPECT_EQ(store->GetCase("case-a")->value().version, 3);
  EXPECT_EQ(store->GetCase("case-new")->value().version, 2);
  ASSERT_EQ(ReadLedger(*store).size(), 1u);
  EXPECT_EQ(ReadLedger(*store)[0].seq, 1);
}

TEST(SqliteStore, AReusedIdempotencyKeyRefusesTheWholeStoreWrite) {
  TempDir dir;
  auto store = OpenStore(dir.File("t.db"));
  ASSERT_TRUE(store->Commit(MakeWrite("case-a", 1, 2, "key-1", "app-1")).ok());
  StoreWrite w;
  w.cases.push_back(MakeWrite("case-new", 1, 1));
  w.cases.push_back(MakeWrite("case-a", 3, 3, "key-1", "app-1"));
  w.ledger.push_back(MakeEntry(kLedgerCreditRecorded, "refused"));
  Status s = store->Commit(std::move(w));
  EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << s.ToString();
  ExpectNothingOfTheRefusedWrite(*store, 2);
  EXPECT_TRUE(ReadLedger(*store).empty());
  // The same key twice inside one StoreWrite is refused too.
  StoreWrite twice;
  twice.cases.push_back(MakeWrite("case-new", 1, 1, "key-2", "app-1"));
  twice.cases.push_back(MakeWrite("case-a", 3, 3, "key-2", "app-1"));
  EXPECT_EQ(store->Commit(std::move(twice)).code(), StatusCode::kAlreadyExists);
  ExpectNothingOfTheRefusedWrite(*store, 2);
}

TEST(SqliteStore, ARefusedStoreWriteRollsBackAloneInItsGroupBatch) {
  TempDir dir;
  std::string path = dir.File("t.db");
  auto store = OpenStore(path);
  ASSERT_TRUE(store->Commit(MakeWrite("case-a", 1, 2)).ok());
  ASSERT_TRUE(store->Commit(MakeWrite("case-b", 1, 1)).ok());
  const int64_t commits_before = store->Stats().commits;

  // Hold the write lock so that the writer thread waits in BEGIN with one batch, while the writes
  // below queue up behind it and then go into the next transaction together.
  auto blocker = sqlite::Database::Open(path, false, false);
  ASSERT_TRUE(blocker.ok());
  ASSERT_TRUE(blocker->Exec("BEGIN IMMEDIATE").ok());

  std::vector<StoreWrite> writes(5);
  writes[0].ledger.push_back(MakeEntry(kLedgerMandateGranted, "first", 0));  // the lone batch
  writes[1].cases.push_back(MakeWrite("fresh-1", 1, 1));
  writes[1].ledger.push_back(MakeEntry(kLedgerCreditRecorded, "ok-1", 1));
  writes[2].cases.push_back(MakeWrite("case-new", 1, 1));
  writes[2].cases.push_back(MakeWrite("case-a", 2, 3));  // stale: case-a is at 2
  writes[2].ledger.push_back(MakeEntry(kLedgerCreditRecorded, "refused", 2));
  writes[2].ledger.push_back(MakeEntry(kLedgerCreditRepaired, "refused", 3));
  writes[3].cases.push_back(MakeWrite("case-b", 2, 2));
  writes[3].ledger.push_back(MakeEntry(kLedgerDelegationAdded, "ok-3", 4));
  writes[4].cases.push_back(MakeWrite("fresh-4", 1, 1));
  std::vector<Status> results(writes.size());
  std::vector<std::thread> threads;
  threads.emplace_back([&] { results[0] = store->Commit(writes[0]); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the writer takes it alone
  std::atomic<int> started{0};
  for (size_t i = 1; i < writes.size(); ++i) {
    threads.emplace_back([&, i] {
      started.fetch_add(1);
      results[i] = store->Commit(writes[i]);
    });
  }
  while (started.load() < static_cast<int>(writes.size()) - 1)
    std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let them reach the queue
  ASSERT_TRUE(blocker->Exec("COMMIT").ok());
  for (auto& t : threads)
    t.join();

  EXPECT_TRUE(results[0].ok()) << results[0].ToString();
  EXPECT_TRUE(results[1].ok()) << results[1].ToString();
  EXPECT_EQ(results[2].code(), StatusCode::kAborted) << results[2].ToString();
  EXPECT_TRUE(results[3].ok()) << results[3].ToString();
  EXPECT_TRUE(results[4].ok()) << results[4].ToString();
  // The four queued writes (five case writes) shared one transaction.
  StoreStats stats = store->Stats();
  EXPECT_LE(stats.commits - commits_before, 2);
  EXPECT_EQ(stats.max_batch, 1 + 2 + 1 + 1) << "the writes did not share a batch";
  EXPECT_EQ(stats.writes, 2 + 1 + 1 + 1);  // the refused StoreWrite's two are not counted

  ExpectNothingOfTheRefusedWrite(*store, 2);
  EXPECT_EQ(store->GetCase("fresh-1")->value().version, 1);
  EXPECT_EQ(store->GetCase("case-b")->value().version, 2);
  EXPECT_EQ(store->GetCase("fresh-4")->value().version, 1);
  EXPECT_EQ(Events(*store), 2 + 2 + 1 + 1);
  // The ledger: the three committed entries, dense and chained, whatever their order in the batch.
  std::vector<LedgerEntry> ledger = ReadLedger(*store);
  ASSERT_EQ(ledger.size(), 3u);
  EXPECT_EQ(ledger[0].subject, "first");
  std::set<std::string> subjects;
  for (const LedgerEntry& e : ledger)
    subjects.insert(e.subject);
  EXPECT_EQ(subjects, (std::set<std::string>{"first", "ok-1", "ok-3"}));
  auto fault = CheckLedgerChain(ledger);
  EXPECT_EQ(fault, std::nullopt) << fault->seq << ": " << fault->reason;
}

TEST(SqliteStore, LedgerSeqsStayDenseAfterRefusedWrites) {
  TempDir dir;
  std::string path = dir.File("t.db");
  auto store = OpenStore(path);
  ASSERT_TRUE(store->Commit(MakeWrite("case-a", 1, 1)).ok());
  StoreWrite first;
  first.ledger.push_back(MakeEntry(kLedgerCreditRecorded, "credit-1", 1));
  ASSERT_TRUE(store->Commit(std::move(first)).ok());

  // Refused for a stale case: its two entries take no seq.
  StoreWrite stale;
  stale.cases.push_back(MakeWrite("case-a", 1, 1));
  stale.ledger.push_back(MakeEntry(kLedgerCreditRecorded, "refused", 2));
  stale.ledger.push_back(MakeEntry(kLedgerCreditRecorded, "refused", 3));
  EXPECT_EQ(store->Commit(std::move(stale)).code(), StatusCode::kAborted);

  // Refused by the database half-way through its entries (an entry the file will not take): the
  // first entry had already been numbered inside the savepoint.
  ASSERT_TRUE(RawExec(path,
                      "CREATE TRIGGER refuse_boom BEFORE INSERT ON ledger WHEN NEW.kind = 'boom' "
                      "BEGIN SELECT RAISE(ABORT, 'boom refused'); END")
                  .ok());
  StoreWrite half;
  half.cases.push_back(MakeWrite("case-new", 1, 1));
  half.ledger.push_back(MakeEntry(kLedgerCreditRecorded, "refused", 4));
  half.ledger.push_back(MakeEntry("boom", "refused", 5));
  Status s = store->Commit(std::move(half));
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("boom refused"), std::string::npos) << s.ToString();
  ExpectNothingOfTheRefusedWrite(*store, 1);

  StoreWrite next;
  next.ledger.push_back(MakeEntry(kLedgerCreditRepaired, "credit-1", 6));
  next.ledger.push_back(MakeEntry(kLedgerCreditRecorded, "credit-2", 7));
  ASSERT_TRUE(store->Commit(std::move(next)).ok());
  std::vector<LedgerEntry> ledger = ReadLedger(*store);
  ASSERT_EQ(ledger.size(), 3u);
  for (size_t i = 0; i < ledger.size(); ++i)
    EXPECT_EQ(ledger[i].seq, static_cast<int64_t>(i + 1));
  EXPECT_EQ(ledger[1].subject, "credit-1");
  EXPECT_EQ(ledger[1].kind, "credit.repaired");
  EXPECT_EQ(ledger[1].prev_hash, ledger[0].hash);
  EXPECT_EQ(CheckLedgerChain(ledger), std::nullopt);
  EXPECT_EQ(RawInt(path, "SELECT max(seq) FROM ledger"), 3);
}

TEST(SqliteStore, TheLedgerChainOnFileSurvivesReopeningAndTamperingIsFound) {
  TempDir dir;
  std::string path = dir.File("t.db");
  std::string first_hash;
  {
    auto store = OpenStore(path);
    for (int i = 1; i <= 4; ++i) {
      StoreWrite w;
      w.cases.push_back(MakeWrite("case-" + std::to_string(i), 1, 1));
      w.ledger.push_back(MakeEntry(kLedgerCreditRecorded, "credit-" + std::to_string(i), i));
      ASSERT_TRUE(store->Commit(std::move(w)).ok());
    }
  }
  {
    // Read back from the file by a fresh store: sound.
    auto store = OpenStore(path, /*read_only=*/true);
    ASSERT_NE(store, nullptr);
    std::vector<LedgerEntry> ledger = ReadLedger(*store);
    ASSERT_EQ(ledger.size(), 4u);
    auto fault = CheckLedgerChain(ledger);
    EXPECT_EQ(fault, std::nullopt) << fault->seq << ": " << fault->reason;
    first_hash = ledger[0].hash;
    // Read-only: no writes.
    StoreWrite w;
    w.ledger.push_back(MakeEntry(kLedgerCreditRecorded, "x"));
    EXPECT_EQ(store->Commit(std::move(w)).code(), StatusCode::kFailedPrecondition);
  }
  // The trigger stops the sqlite3 tool...
  std::string output;
  EXPECT_NE(Sqlite3(path, "UPDATE ledger SET data = '{\"n\":99}' WHERE seq = 3;", &output), 0);
  EXPECT_NE(output.find("append-only"), std::string::npos) << output;
  // ...until someone drops it.
  ASSERT_EQ(Sqlite3(path,
                    "DROP TRIGGER ledger_append_only_update;\n"
                    "UPDATE ledger SET data = '{\"n\":99}' WHERE seq = 3;",
                    &output),
            0)
      << output;
  {
    auto store = OpenStore(path);
    std::vector<LedgerEntry> ledger = ReadLedger(*store);
    ASSERT_EQ(ledger.size(), 4u);
    EXPECT_EQ(ledger[2].data, "{\"n\":99}");
    auto fault = CheckLedgerChain(ledger);
    ASSERT_TRUE(fault.has_value());
    EXPECT_EQ(fault->seq, 3);
    EXPECT_EQ(ledger[0].hash, first_hash);
  }
  // A deleted entry is found at its seq too.
  ASSERT_EQ(Sqlite3(path,
                    "DROP TRIGGER ledger_append_only_delete;\n"
                    "DELETE FROM ledger WHERE seq = 2;",
                    &output),
            0)
      << output;
  auto store = OpenStore(path);
  auto fault = CheckLedgerChain(ReadLedger(*store));
  ASSERT_TRUE(fault.has_value());
  EXPECT_EQ(fault->seq, 2);
}

TEST(SqliteStore, ReopeningContinuesTheLedgerChain) {
  TempDir dir;
  std::string path = dir.File("t.db");
  std::string end_hash;
  {
    auto store = OpenStore(path);
    StoreWrite w;
    w.ledger.push_back(MakeEntry(kLedgerMandateGranted, "mandate-1", 1));
    w.ledger.push_back(MakeEntry(kLedgerMandateGranted, "mandate-2", 2));
    ASSERT_TRUE(store->Commit(std::move(w)).ok());
    end_hash = ReadLedger(*store).back().hash;
  }
  for (int round = 0; round < 2; ++round) {
    auto store = OpenStore(path);
    StoreWrite w;
    w.ledger.push_back(MakeEntry(kLedgerMandateRevoked, "mandate-1", 3 + round));
    ASSERT_TRUE(store->Commit(std::move(w)).ok());
    std::vector<LedgerEntry> ledger = ReadLedger(*store);
    ASSERT_EQ(ledger.size(), static_cast<size_t>(3 + round));
    EXPECT_EQ(ledger.back().seq, 3 + round);
    EXPECT_EQ(ledger.back().prev_hash, end_hash);
    EXPECT_EQ(CheckLedgerChain(ledger), std::nullopt);
    end_hash = ledger.back().hash;
  }
}

}  // namespace
}  // namespace tongban
