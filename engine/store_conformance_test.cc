// The Store contract (store.h), run against every store: SqliteStore on a real file, and
// PostgresStore on a real PostgreSQL server named by the environment variable
// TONGBAN_TEST_POSTGRES (a libpq connection string; tools/pg_cluster.sh starts a throwaway cluster
// and prints one, and tools/test.sh does so for CI). Without it the PostgreSQL cases are skipped,
// saying so. Each PostgreSQL test runs in a schema of its own (search_path), dropped at its end.
//
// "Two nodes" are two store objects on one database: what two `tongban serve` processes on one
// PostgreSQL are.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "engine/postgres_store.h"
#include "engine/sqlite.h"
#include "engine/sqlite_store.h"
#include "workflows/sha256.h"

namespace tongban {
namespace {

namespace fs = std::filesystem;

enum class Backend { kSqlite, kPostgres };

constexpr int64_t kBase = 1772413200000;  // 2026-03-02T01:00:00Z

Instant Ms(int64_t ms) {
  return Instant(std::chrono::milliseconds(ms));
}

Event MakeEvent(const std::string& case_id, int64_t seq, const std::string& key,
                const std::string& actor) {
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
  e.prev_hash = kGenesisHash;
  e.hash = ComputeEventHash(e);
  e.idempotency_key = key;
  return e;
}

// A write of events [from, to] of a case, decided against version from - 1; the last event carries
// `key`.
CaseWrite MakeWrite(const std::string& case_id, int64_t from, int64_t to,
                    const std::string& key = "", const std::string& actor = "rev-1") {
  CaseWrite w;
  w.expected_version = from - 1;
  for (int64_t seq = from; seq <= to; ++seq)
    w.events.push_back(MakeEvent(case_id, seq, seq == to ? key : "", actor));
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

LedgerEntry MakeEntry(const std::string& subject, int n) {
  LedgerEntry e;
  e.time = Ms(kBase + n);
  e.actor = {"admin-1", "administrator", "organ-1", "王五"};
  e.kind = kLedgerDelegationAdded;
  e.subject = subject;
  e.data = "{\"n\":" + std::to_string(n) + "}";
  e.prev_hash = "the store's to set";
  return e;
}

// A connection string for `base` whose sessions use `schema` (libpq's options parameter).
std::string WithSchema(const std::string& base, const std::string& schema) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(base.c_str(), &error);
  if (options == nullptr) {
    PQfreemem(error);
    return base;
  }
  auto quoted = [](const std::string& v) {
    std::string out = "'";
    for (char ch : v) {
      if (ch == '\'' || ch == '\\') out += '\\';
      out += ch;
    }
    return out + "'";
  };
  std::string out;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || std::string(o->keyword) == "options") continue;
    out += std::string(o->keyword) + "=" + quoted(o->val) + " ";
  }
  PQconninfoFree(options);
  return out + "options=" + quoted("-c search_path=" + schema);
}

// Runs SQL on a PostgreSQL database around any store; "" when it worked, else the error.
std::string PgExec(const std::string& conninfo, const std::string& sql) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  std::string error;
  if (PQstatus(conn) != CONNECTION_OK) {
    error = PQerrorMessage(conn);
  } else {
    PQsetNoticeProcessor(
        conn, [](void*, const char*) {}, nullptr);
    PGresult* r = PQexec(conn, sql.c_str());
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
      error = PQresultErrorMessage(r);
    }
    PQclear(r);
  }
  PQfinish(conn);
  return error;
}

class StoreConformance : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kPostgres) {
      const char* base = std::getenv("TONGBAN_TEST_POSTGRES");
      if (base == nullptr || *base == '\0') {
        GTEST_SKIP() << "PostgreSQL store not tested: set TONGBAN_TEST_POSTGRES to a connection "
                        "string (tools/pg_cluster.sh start DIR prints one; tools/test.sh does it)";
      }
      static std::atomic<int> counter{0};
      schema_ = "t_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
      base_ = base;
      const std::string made = PgExec(base_, "CREATE SCHEMA " + schema_);
      ASSERT_EQ(made, "") << "creating schema " << schema_;
      conninfo_ = WithSchema(base_, schema_);
    } else {
      std::string pattern = (fs::temp_directory_path() / "tongban-conformance-XXXXXX").string();
      ASSERT_NE(mkdtemp(pattern.data()), nullptr);
      dir_ = pattern;
      conninfo_ = dir_ + "/t.db";
    }
  }
  void TearDown() override {
    if (!schema_.empty()) {
      EXPECT_EQ(PgExec(base_, "DROP SCHEMA " + schema_ + " CASCADE"), "");
    }
    if (!role_.empty()) {
      EXPECT_EQ(PgExec(base_, "DROP ROLE " + role_), "");
    }
    if (!dir_.empty()) {
      std::error_code ignored;
      fs::remove_all(dir_, ignored);
    }
  }

  Result<std::unique_ptr<Store>> TryOpen(bool read_only = false) {
    if (GetParam() == Backend::kPostgres) {
      PostgresStoreOptions options;
      options.conninfo = conninfo_;
      options.read_only = read_only;
      options.timer_lease_ms = timer_lease_ms_;
      auto store = PostgresStore::Open(options);
      if (!store.ok()) return store.status();
      return std::unique_ptr<Store>(std::move(store).value());
    }
    SqliteStoreOptions options;
    options.path = conninfo_;
    options.read_only = read_only;
    auto store = SqliteStore::Open(options);
    if (!store.ok()) return store.status();
    return std::unique_ptr<Store>(std::move(store).value());
  }
  // A store on the test's database: each call another "node".
  std::unique_ptr<Store> Open() {
    auto store = TryOpen();
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }
  // Sets the database's schema version behind the store's back.
  void SetSchemaVersion(int version) {
    if (GetParam() == Backend::kPostgres) {
      ASSERT_EQ(PgExec(conninfo_, "UPDATE tongban_schema SET version = " + std::to_string(version)),
                "");
    } else {
      auto db = sqlite::Database::Open(conninfo_, false, false);
      ASSERT_TRUE(db.ok());
      ASSERT_TRUE(db->Exec("PRAGMA user_version=" + std::to_string(version)).ok());
    }
  }

  // Runs SQL on the test's database behind the store's back, and sets its schema version.
  void RollBack(const std::string& sql, int version) {
    if (GetParam() == Backend::kPostgres) {
      ASSERT_EQ(PgExec(conninfo_, sql), "");
    } else {
      auto db = sqlite::Database::Open(conninfo_, false, false);
      ASSERT_TRUE(db.ok());
      ASSERT_TRUE(db->Exec(sql).ok()) << db->Error();
    }
    SetSchemaVersion(version);
  }
  // SQL that makes SQLite's cases table WITHOUT ROWID again, as it was up to schema 6: the current
  // table's definition and indexes, read from sqlite_master.
  std::string SqliteCasesWithoutRowid() {
    auto db = sqlite::Database::Open(conninfo_, false, true);
    EXPECT_TRUE(db.ok());
    if (!db.ok()) return "";
    std::string table;
    std::string indexes;
    sqlite::Statement s(db->get(),
                        "SELECT type, sql FROM sqlite_master WHERE tbl_name = 'cases' AND sql IS "
                        "NOT NULL");
    while (s.Step() == SQLITE_ROW) {
      if (s.Text(0) == "table") {
        table = s.Text(1);
      } else {
        indexes += s.Text(1) + ";\n";
      }
    }
    EXPECT_NE(table.find('('), std::string::npos) << table;
    return "CREATE TABLE cases_v6 " + table.substr(table.find('(')) +
           " WITHOUT ROWID;\nINSERT INTO cases_v6 SELECT * FROM cases;\nDROP TABLE cases;\n"
           "ALTER TABLE cases_v6 RENAME TO cases;\n" +
           indexes;
  }
  // The database's schema version.
  int SchemaVersion() {
    if (GetParam() == Backend::kPostgres) {
      PGconn* conn = PQconnectdb(conninfo_.c_str());
      PGresult* r = PQexec(conn, "SELECT version FROM tongban_schema");
      const int version = PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1
                              ? std::atoi(PQgetvalue(r, 0, 0))
                              : -1;
      PQclear(r);
      PQfinish(conn);
      return version;
    }
    auto db = sqlite::Database::Open(conninfo_, false, true);
    if (!db.ok()) return -1;
    sqlite::Statement s(db->get(), "PRAGMA user_version");
    return s.ok() && s.Step() == SQLITE_ROW ? static_cast<int>(s.Int(0)) : -1;
  }
  int CurrentSchemaVersion() const {
    return GetParam() == Backend::kPostgres ? PostgresStore::kSchemaVersion
                                            : SqliteStore::kSchemaVersion;
  }

  // PostgreSQL only: from now on the test's stores log in as a role of their own (made here, the
  // owner of the test's schema), which the test may then lock out and let in again; returns it.
  std::string UseOwnRole() {
    role_ = schema_ + "_role";
    EXPECT_EQ(PgExec(base_, "CREATE ROLE " + role_ + " LOGIN; ALTER SCHEMA " + schema_ +
                                " OWNER TO " + role_),
              "");
    conninfo_ += " user=" + role_;
    return role_;
  }
  // Runs SQL as the cluster's superuser (outside the test's schema); "" when it worked.
  std::string Superuser(const std::string& sql) { return PgExec(base_, sql); }

  std::string conninfo_;  // the PostgreSQL connection string or the SQLite file
  int timer_lease_ms_ = PostgresStoreOptions{}.timer_lease_ms;

 private:
  std::string role_;
  std::string base_;
  std::string schema_;
  std::string dir_;
};

INSTANTIATE_TEST_SUITE_P(Stores, StoreConformance,
                         ::testing::Values(Backend::kSqlite, Backend::kPostgres),
                         [](const auto& info) {
                           return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
                         });

TEST_P(StoreConformance, WritesAndReadsBack) {
  auto store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Commit(MakeWrite("case-b", 1, 2, "key-b")).ok());
  ASSERT_TRUE(store->Commit(MakeWrite("case-a", 1, 1)).ok());
  ASSERT_TRUE(store->Commit(MakeWrite("case-a", 2, 3)).ok());

  auto a = store->GetCase("case-a");
  ASSERT_TRUE(a.ok() && a->has_value()) << a.status().ToString();
  EXPECT_EQ((*a)->version, 3);
  EXPECT_EQ((*a)->status, "under_review");
  EXPECT_EQ((*a)->snapshot, "{\"version\":3}");
  EXPECT_EQ((*a)->next_timer_at, Ms(kBase + 100003));
  EXPECT_EQ((*a)->created_at, Ms(kBase));
  auto by_number = store->GetCaseByNumber("N-case-b");
  ASSERT_TRUE(by_number.ok() && by_number->has_value());
  EXPECT_EQ((*by_number)->id, "case-b");
  EXPECT_FALSE(store->GetCase("case-none")->has_value());

  auto events = store->GetEvents("case-a", INT64_MAX);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 3u);
  EXPECT_EQ((*events)[2].action, "act3");
  EXPECT_EQ((*events)[2].hash, MakeEvent("case-a", 3, "", "rev-1").hash);
  EXPECT_EQ(store->GetEvents("case-a", 2)->size(), 2u);

  auto hit = store->FindIdempotencyKey("rev-1", "key-b");
  ASSERT_TRUE(hit.ok() && hit->has_value());
  EXPECT_EQ((*hit)->case_id, "case-b");
  EXPECT_EQ((*hit)->seq, 2);
  EXPECT_FALSE(store->FindIdempotencyKey("rev-2", "key-b")->has_value());

  CaseFilter filter;
  filter.status = "under_review";
  auto listed = store->ListCases(filter);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].id, "case-a");  // in id order
  filter.after_id = "case-a";
  EXPECT_EQ(store->ListCases(filter)->size(), 1u);
  filter = {};
  filter.applicant_id = "app-case-b";
  EXPECT_EQ(store->ListCases(filter)->size(), 1u);

  auto due = store->DueTimers(Ms(kBase + 100003), 10);
  ASSERT_TRUE(due.ok());
  EXPECT_EQ(*due, (std::vector<std::string>{"case-b", "case-a"}));  // earliest first

  std::vector<std::string> seen;
  ASSERT_TRUE(store
                  ->ForEachEvent([&](Event& e) {
                    seen.push_back(e.case_id + "#" + std::to_string(e.seq));
                    return true;
                  })
                  .ok());
  EXPECT_EQ(seen,
            (std::vector<std::string>{"case-a#1", "case-a#2", "case-a#3", "case-b#1", "case-b#2"}));
  seen.clear();
  ASSERT_TRUE(store
                  ->ForEachCase(CaseIdRange{"case-b", ""},
                                [&](const CaseRecord& r) {
                                  seen.push_back(r.id);
                                  return true;
                                })
                  .ok());
  EXPECT_EQ(seen, std::vector<std::string>{"case-b"});
  EXPECT_EQ(store->CaseIdAt(1)->value_or(""), "case-b");
  EXPECT_FALSE(store->CaseIdAt(2)->has_value());
  EXPECT_EQ(*store->CountCases(), 2);
  EXPECT_EQ(*store->CountEvents(), 5);
}

TEST_P(StoreConformance, ARefusedWriteStoresNothing) {
  auto store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Commit(MakeWrite("case-a", 1, 2, "key-1")).ok());
  EXPECT_EQ(store->Commit(MakeWrite("case-a", 2, 3)).code(), StatusCode::kAborted);
  EXPECT_EQ(store->Commit(MakeWrite("case-a", 1, 1)).code(), StatusCode::kAborted);
  EXPECT_EQ(store->Commit(MakeWrite("case-x", 2, 2)).code(), StatusCode::kAborted);
  EXPECT_EQ(store->Commit(MakeWrite("case-b", 1, 1, "key-1")).code(), StatusCode::kAlreadyExists);
  CaseWrite clash = MakeWrite("case-c", 1, 1);
  clash.record.number = "N-case-a";
  EXPECT_EQ(store->Commit(clash).code(), StatusCode::kAlreadyExists);
  // One stale case refuses the whole StoreWrite: its other case and its ledger entries too.
  StoreWrite both;
  both.cases.push_back(MakeWrite("case-d", 1, 1));
  both.cases.push_back(MakeWrite("case-a", 1, 1));
  both.ledger.push_back(MakeEntry("d-1", 1));
  EXPECT_EQ(store->Commit(both).code(), StatusCode::kAborted);
  EXPECT_EQ(*store->CountEvents(), 2);
  EXPECT_EQ(*store->CountCases(), 1);
  EXPECT_TRUE(store->Ledger()->empty());
  EXPECT_EQ(store->GetCase("case-a")->value().version, 2);
  // The refused entries consumed no seq.
  StoreWrite entry;
  entry.ledger.push_back(MakeEntry("d-2", 2));
  ASSERT_TRUE(store->Commit(entry).ok());
  EXPECT_EQ(store->Ledger()->at(0).seq, 1);
}

DocumentRecord MakeDocument(const std::string& case_id, const std::string& content, int64_t at_ms) {
  DocumentRecord d;
  d.case_id = case_id;
  d.hash = Sha256Hex(content);
  d.media_type = "application/pdf";
  d.size = static_cast<int64_t>(content.size());
  d.name = "材料.pdf";
  d.kind = "material";
  d.attached_at = Ms(at_ms);
  d.attached_by = "app-" + case_id;
  d.content = content;
  return d;
}

// Documents: the bytes stored once by hash (binary-safe, NULs included), attached per case;
// another case does not see them; attaching again is a no-op; a refused write attaches nothing;
// both nodes read what one wrote.
TEST_P(StoreConformance, DocumentsAreContentAddressedAndAttachedPerCase) {
  auto node_a = Open();
  auto node_b = Open();
  ASSERT_TRUE(node_a && node_b);
  const std::string pdf = std::string("%PDF-1.7\n\0\x01\xff binary", 20);
  const std::string png = std::string("\x89PNG\r\n\x1a\n\0\0", 10);
  StoreWrite first;
  first.documents.push_back(MakeDocument("case-a", pdf, kBase + 1));
  first.cases.push_back(MakeWrite("case-a", 1, 1));
  ASSERT_TRUE(node_a->Commit(std::move(first)).ok());
  StoreWrite more;
  more.documents.push_back(MakeDocument("case-a", png, kBase + 2));
  more.documents.push_back(MakeDocument("case-b", pdf, kBase + 3));  // the same bytes, another case
  ASSERT_TRUE(node_a->Commit(std::move(more)).ok());

  auto got = node_b->GetDocument("case-a", Sha256Hex(pdf));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->content, pdf);
  EXPECT_EQ((*got)->size, 20);
  EXPECT_EQ((*got)->name, "材料.pdf");
  EXPECT_EQ((*got)->media_type, "application/pdf");
  EXPECT_EQ((*got)->attached_at, Ms(kBase + 1));
  auto listed = node_b->CaseDocuments("case-a");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].hash, Sha256Hex(pdf));
  EXPECT_EQ((*listed)[1].hash, Sha256Hex(png));
  EXPECT_TRUE((*listed)[1].content.empty());  // listings carry no bytes
  EXPECT_FALSE(node_b->GetDocument("case-b", Sha256Hex(png))->has_value());
  EXPECT_EQ(node_b->CaseDocuments("case-c")->size(), 0u);

  // Again, with other metadata: the first attachment stands.
  StoreWrite again;
  DocumentRecord renamed = MakeDocument("case-a", pdf, kBase + 9);
  renamed.name = "other.pdf";
  again.documents.push_back(renamed);
  ASSERT_TRUE(node_b->Commit(std::move(again)).ok());
  EXPECT_EQ(node_a->GetDocument("case-a", Sha256Hex(pdf))->value().name, "材料.pdf");

  // A refused write (a stale case write) attaches nothing.
  StoreWrite refused;
  refused.documents.push_back(MakeDocument("case-a", "%PDF-refused", kBase + 4));
  refused.cases.push_back(MakeWrite("case-a", 1, 1));
  EXPECT_EQ(node_a->Commit(std::move(refused)).code(), StatusCode::kAborted);
  EXPECT_FALSE(node_a->GetDocument("case-a", Sha256Hex("%PDF-refused"))->has_value());
  EXPECT_EQ(node_a->CaseDocuments("case-a")->size(), 2u);
}

// Two nodes decide on the same version of one case at once, again and again: each time exactly one
// commits and the other is told to decide again (kAborted).
TEST_P(StoreConformance, ConcurrentWritersOfOneCaseOnTwoNodesExactlyOneWins) {
  auto node_a = Open();
  auto node_b = Open();
  ASSERT_TRUE(node_a && node_b);
  constexpr int kRounds = 20;
  for (int round = 0; round < kRounds; ++round) {
    const std::string id = "case-" + std::to_string(round);
    std::vector<Status> outcomes(4);
    std::vector<std::thread> threads;
    // Two creating the case, then two appending to version 1.
    for (int i = 0; i < 2; ++i) {
      threads.emplace_back(
          [&, i] { outcomes[i] = (i == 0 ? node_a : node_b)->Commit(MakeWrite(id, 1, 1)); });
    }
    for (auto& t : threads)
      t.join();
    threads.clear();
    for (int i = 2; i < 4; ++i) {
      threads.emplace_back([&, i] {
        CaseWrite w = MakeWrite(id, 2, 2);
        w.record.snapshot = "{\"by\":" + std::to_string(i) + "}";
        outcomes[i] = (i == 2 ? node_a : node_b)->Commit(std::move(w));
      });
    }
    for (auto& t : threads)
      t.join();
    for (int pair = 0; pair < 2; ++pair) {
      const Status& x = outcomes[2 * pair];
      const Status& y = outcomes[2 * pair + 1];
      EXPECT_NE(x.ok(), y.ok()) << round << ": " << x.ToString() << " / " << y.ToString();
      EXPECT_EQ((x.ok() ? y : x).code(), StatusCode::kAborted) << (x.ok() ? y : x).ToString();
    }
    auto events = node_b->GetEvents(id, INT64_MAX);
    ASSERT_TRUE(events.ok());
    EXPECT_EQ(events->size(), 2u);
    EXPECT_EQ(node_a->GetCase(id)->value().snapshot,
              outcomes[2].ok() ? "{\"by\":2}" : "{\"by\":3}");
  }
  EXPECT_EQ(*node_a->CountCases(), kRounds);
}

// A retry that lands on the other node gets the first outcome, even when both are in flight.
TEST_P(StoreConformance, IdempotencyKeysHoldAcrossNodes) {
  auto node_a = Open();
  auto node_b = Open();
  ASSERT_TRUE(node_a && node_b);
  ASSERT_TRUE(node_a->Commit(MakeWrite("case-a", 1, 1, "retry-1", "app-1")).ok());
  EXPECT_EQ(node_b->Commit(MakeWrite("case-b", 1, 1, "retry-1", "app-1")).code(),
            StatusCode::kAlreadyExists);
  auto hit = node_b->FindIdempotencyKey("app-1", "retry-1");
  ASSERT_TRUE(hit.ok() && hit->has_value());
  EXPECT_EQ((*hit)->case_id, "case-a");
  for (int round = 0; round < 10; ++round) {
    const std::string key = "race-" + std::to_string(round);
    Status a, b;
    std::thread ta([&] { a = node_a->Commit(MakeWrite("a-" + key, 1, 1, key, "app-1")); });
    std::thread tb([&] { b = node_b->Commit(MakeWrite("b-" + key, 1, 1, key, "app-1")); });
    ta.join();
    tb.join();
    EXPECT_NE(a.ok(), b.ok()) << a.ToString() << " / " << b.ToString();
    EXPECT_EQ((a.ok() ? b : a).code(), StatusCode::kAlreadyExists);
  }
  EXPECT_EQ(*node_a->CountCases(), 11);
}

// Several threads on two nodes append at once: still one dense, sound chain.
TEST_P(StoreConformance, ConcurrentLedgerAppendsFromTwoNodesFormOneChain) {
  if (GetParam() == Backend::kSqlite) {
    GTEST_SKIP() << "SqliteStore serves one process per file: its writer caches the chain's end";
  }
  auto node_a = Open();
  auto node_b = Open();
  ASSERT_TRUE(node_a && node_b);
  constexpr int kThreads = 3;
  constexpr int kWrites = 15;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2 * kThreads; ++t) {
    threads.emplace_back([&, t] {
      Store* node = (t % 2 == 0 ? node_a : node_b).get();
      for (int i = 0; i < kWrites; ++i) {
        StoreWrite w;
        const std::string id = "c-" + std::to_string(t) + "-" + std::to_string(i);
        w.cases.push_back(MakeWrite(id, 1, 1));
        w.ledger.push_back(MakeEntry(id + "-x", i));
        w.ledger.push_back(MakeEntry(id + "-y", i));
        Status s = node->Commit(std::move(w));
        EXPECT_TRUE(s.ok()) << s.ToString();
        if (!s.ok()) failures.fetch_add(1);
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(failures.load(), 0);
  auto ledger = node_b->Ledger();
  ASSERT_TRUE(ledger.ok());
  ASSERT_EQ(ledger->size(), static_cast<size_t>(2 * kThreads * kWrites * 2));
  auto fault = CheckLedgerChain(*ledger);
  EXPECT_FALSE(fault.has_value()) << fault->seq << ": " << fault->reason;
  // Each write's two entries are adjacent: a StoreWrite's entries are not interleaved.
  for (size_t i = 0; i < ledger->size(); i += 2) {
    EXPECT_EQ((*ledger)[i].subject.substr(0, (*ledger)[i].subject.size() - 2),
              (*ledger)[i + 1].subject.substr(0, (*ledger)[i + 1].subject.size() - 2));
  }
  EXPECT_EQ(node_a->Ledger(40)->size(), ledger->size() - 40);
}

TEST_P(StoreConformance, CountsAreKeptOnWriteOnEveryNode) {
  auto node_a = Open();
  auto node_b = Open();
  ASSERT_TRUE(node_a && node_b);
  // Writers on both nodes move cases between statuses at once.
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Store* node = (t % 2 == 0 ? node_a : node_b).get();
      for (int i = 0; i < 10; ++i) {
        const std::string id = "c-" + std::to_string(t) + "-" + std::to_string(i);
        Status created = node->Commit(MakeWrite(id, 1, 1));
        EXPECT_TRUE(created.ok()) << created.ToString();
        if (i % 2 == 1) continue;  // stays submitted
        CaseWrite review = MakeWrite(id, 2, 2);
        review.record.yellow_at = Ms(kBase + 1000 * (1 + i % 4));
        review.record.red_at = Ms(kBase + 10000);
        Status reviewed = node->Commit(std::move(review));
        EXPECT_TRUE(reviewed.ok()) << reviewed.ToString();
      }
    });
  }
  for (auto& t : threads)
    t.join();
  auto by_status = node_b->CountByStatus();
  ASSERT_TRUE(by_status.ok());
  EXPECT_EQ(*by_status, (std::vector<std::pair<std::string, int64_t>>{{"submitted", 20},
                                                                      {"under_review", 20}}));
  EXPECT_EQ(*node_a->CountCases(), 40);
  // Yellow at kBase + 1000 (i = 0, 4, 8) and + 3000 (i = 2, 6) per thread; red at + 10000.
  auto lights = node_a->CountLights(Ms(kBase + 1000), LightClock::kDecision);
  ASSERT_TRUE(lights.ok());
  EXPECT_EQ(lights->yellow, 12);
  EXPECT_EQ(lights->green, 8);
  EXPECT_EQ(lights->red, 0);
  lights = node_b->CountLights(Ms(kBase + 10000), LightClock::kDecision);
  EXPECT_EQ(lights->yellow, 0);
  EXPECT_EQ(lights->red, 20);
  EXPECT_EQ(lights->green, 0);
  EXPECT_EQ(lights->unknown, 0);
}

// Granted cases awaiting delivery are counted by their delivery light from the instants written
// with them, on every node; a grant without instants (a bundle's record) is not counted, and a
// delivered case leaves the count.
TEST_P(StoreConformance, DeliveryLightsAreKeptOnWrite) {
  auto node_a = Open();
  auto node_b = Open();
  ASSERT_TRUE(node_a && node_b);
  auto grant = [&](Store* node, const std::string& id, std::optional<int64_t> yellow_ms,
                   std::optional<int64_t> red_ms) {
    CaseWrite w = MakeWrite(id, 3, 3);
    w.record.status = "approved";
    if (yellow_ms) w.record.yellow_at = Ms(*yellow_ms);
    if (red_ms) w.record.red_at = Ms(*red_ms);
    Status granted = node->Commit(std::move(w));
    EXPECT_TRUE(granted.ok()) << granted.ToString();
  };
  for (int i = 0; i < 6; ++i) {
    const std::string id = "d-" + std::to_string(i);
    ASSERT_TRUE(node_a->Commit(MakeWrite(id, 1, 2)).ok());
    // Yellow at +1000 (i = 0, 1, 2), +3000 (i = 3, 4); red at +10000. The sixth has no instants.
    if (i < 5) {
      grant(i % 2 == 0 ? node_a.get() : node_b.get(), id, kBase + (i < 3 ? 1000 : 3000),
            kBase + 10000);
    } else {
      grant(node_b.get(), id, std::nullopt, std::nullopt);
    }
  }
  auto at = [&](Store* node, int64_t ms) {
    auto counted = node->CountLights(Ms(ms), LightClock::kDelivery);
    EXPECT_TRUE(counted.ok()) << counted.status().ToString();
    return counted.ok() ? *counted : LightCounts{};
  };
  LightCounts before = at(node_a.get(), kBase);
  EXPECT_EQ(before.green, 5);
  EXPECT_EQ(before.yellow + before.red + before.unknown, 0);
  LightCounts some_yellow = at(node_b.get(), kBase + 1000);
  EXPECT_EQ(some_yellow.green, 2);
  EXPECT_EQ(some_yellow.yellow, 3);
  LightCounts red = at(node_a.get(), kBase + 10000);
  EXPECT_EQ(red.red, 5);
  EXPECT_EQ(red.green + red.yellow, 0);
  // The grants do not count among the cases under review.
  EXPECT_EQ(node_a->CountLights(Ms(kBase + 10000), LightClock::kDecision)->red, 0);
  // A delivered case (closed) and a rewritten one (a later instant) move out and in again.
  CaseWrite delivered = MakeWrite("d-0", 4, 4);
  delivered.record.status = "closed";
  ASSERT_TRUE(node_b->Commit(std::move(delivered)).ok());
  CaseWrite moved = MakeWrite("d-1", 4, 4);
  moved.record.status = "approved";
  moved.record.yellow_at = Ms(kBase + 20000);
  moved.record.red_at = Ms(kBase + 30000);
  ASSERT_TRUE(node_a->Commit(std::move(moved)).ok());
  LightCounts after = at(node_b.get(), kBase + 10000);
  EXPECT_EQ(after.red, 3);
  EXPECT_EQ(after.green, 1);
  EXPECT_EQ(after.yellow, 0);
  EXPECT_TRUE(node_a->CasesWithUnknownLights(10, LightClock::kDelivery)->empty());
}

// A record of unknown lights (`tongban copy` of a case an older version wrote) is written and read
// back as unknown, in no colour, whatever instants it carries, until a write records them.
TEST_P(StoreConformance, ARecordOfUnknownLightsStaysUnknownUntilRewritten) {
  auto store = Open();
  ASSERT_TRUE(store);
  for (const auto& [id, status] : {std::pair<std::string, std::string>{"u-review", "under_review"},
                                   {"u-granted", "approved"}}) {
    CaseWrite w = MakeWrite(id, 1, 1);
    w.record.status = status;
    w.record.yellow_at = Ms(kBase);  // says nothing: the lights are not known
    w.record.lights_known = false;
    ASSERT_TRUE(store->Commit(std::move(w)).ok());
    auto read = store->GetCase(id);
    ASSERT_TRUE(read.ok() && *read);
    EXPECT_FALSE((*read)->lights_known) << id;
  }
  for (LightClock clock : {LightClock::kDecision, LightClock::kDelivery}) {
    auto counted = store->CountLights(Ms(kBase + 1000), clock);
    ASSERT_TRUE(counted.ok()) << counted.status().ToString();
    EXPECT_EQ(counted->unknown, 1);
    EXPECT_EQ(counted->green + counted->yellow + counted->red, 0);
    auto unknown = store->CasesWithUnknownLights(10, clock);
    ASSERT_TRUE(unknown.ok());
    EXPECT_EQ(*unknown,
              std::vector<std::string>{clock == LightClock::kDecision ? "u-review" : "u-granted"});
  }
  CaseWrite rewritten = MakeWrite("u-review", 2, 2);
  rewritten.record.status = "under_review";
  rewritten.record.yellow_at = Ms(kBase);
  ASSERT_TRUE(store->Commit(std::move(rewritten)).ok());
  auto counted = store->CountLights(Ms(kBase + 1000), LightClock::kDecision);
  ASSERT_TRUE(counted.ok());
  EXPECT_EQ(counted->unknown, 0);
  EXPECT_EQ(counted->yellow, 1);
  EXPECT_TRUE(store->CasesWithUnknownLights(10, LightClock::kDecision)->empty());
  EXPECT_TRUE((*store->GetCase("u-review"))->lights_known);
}

// Six cases due; two nodes claim them. On PostgreSQL each due case goes to one node, a write ends
// its claim, and the claims of a node that died are taken over once their lease has run out. On
// SQLite (one process per file) claiming is listing.
TEST_P(StoreConformance, DueTimersAreClaimedByOneNodeAndTakenOverAfterTheLease) {
  timer_lease_ms_ = 1500;
  auto node_a = Open();
  auto node_b = Open();
  ASSERT_TRUE(node_a && node_b);
  std::vector<std::string> all;
  for (int i = 0; i < 6; ++i) {
    all.push_back("case-" + std::to_string(i));
    CaseWrite w = MakeWrite(all.back(), 1, 1);
    w.record.next_timer_at = Ms(kBase + 100000 + i);  // earliest first: case-0, case-1, …
    ASSERT_TRUE(node_a->Commit(std::move(w)).ok());
  }
  const Instant now = Ms(kBase + 200000);
  EXPECT_TRUE(node_a->ClaimDueTimers(Ms(kBase), 10)->empty());  // none due yet
  if (GetParam() == Backend::kSqlite) {
    EXPECT_EQ(*node_a->ClaimDueTimers(now, 10), all);
    EXPECT_EQ(*node_b->ClaimDueTimers(now, 10), all);
    return;
  }
  const auto claimed_at = std::chrono::steady_clock::now();
  auto a = node_a->ClaimDueTimers(now, 4);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(*a, (std::vector<std::string>{"case-0", "case-1", "case-2", "case-3"}));
  auto b = node_b->ClaimDueTimers(now, 10);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(*b, (std::vector<std::string>{"case-4", "case-5"}));
  // Claimed cases are not claimed again while their lease lasts, by either node.
  auto again_a = node_a->ClaimDueTimers(now, 10);
  auto again_b = node_b->ClaimDueTimers(now, 10);
  const bool within_lease =
      std::chrono::steady_clock::now() - claimed_at < std::chrono::milliseconds(timer_lease_ms_);
  if (within_lease) {
    EXPECT_TRUE(again_a->empty()) << again_a->front();
    EXPECT_TRUE(again_b->empty()) << again_b->front();
  }
  // A write ends the claim: the case is due again (its timer still due), so it can be claimed.
  CaseWrite w = MakeWrite("case-0", 2, 2);
  w.record.next_timer_at = Ms(kBase + 100000);
  ASSERT_TRUE(node_b->Commit(std::move(w)).ok());
  EXPECT_EQ(*node_b->ClaimDueTimers(now, 10), std::vector<std::string>{"case-0"});
  // Node A dies holding case-1..3: another node takes them over once the lease has run out (and
  // node B's claims lapse too: every case is claimed again).
  node_a.reset();
  auto node_c = Open();
  ASSERT_TRUE(node_c);
  std::set<std::string> taken;
  std::optional<std::chrono::steady_clock::time_point> first_taken;
  for (int wait = 0; wait < 200 && taken.size() < all.size(); ++wait) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto c = node_c->ClaimDueTimers(now, 10);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    if (!c->empty() && !first_taken) first_taken = std::chrono::steady_clock::now();
    taken.insert(c->begin(), c->end());
  }
  ASSERT_TRUE(first_taken.has_value());
  EXPECT_GE(*first_taken - claimed_at, std::chrono::milliseconds(timer_lease_ms_));
  EXPECT_EQ(taken, std::set<std::string>(all.begin(), all.end()));
}

// Three claimers on each of two nodes take due cases in small batches until none is left: every
// case is claimed exactly once.
TEST_P(StoreConformance, ConcurrentTimerClaimsFromTwoNodesAreDisjoint) {
  if (GetParam() == Backend::kSqlite) {
    GTEST_SKIP() << "SqliteStore serves one process per file: its claims are listings";
  }
  auto node_a = Open();
  auto node_b = Open();
  ASSERT_TRUE(node_a && node_b);
  constexpr int kCases = 60;
  for (int i = 0; i < kCases; ++i) {
    ASSERT_TRUE(node_a->Commit(MakeWrite("case-" + std::to_string(i), 1, 1)).ok());
  }
  std::mutex mutex;
  std::multiset<std::string> claimed;
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      Store* node = (t % 2 == 0 ? node_a : node_b).get();
      while (true) {
        auto got = node->ClaimDueTimers(Ms(kBase + 200000), 5);
        EXPECT_TRUE(got.ok()) << got.status().ToString();
        if (!got.ok() || got->empty()) return;
        std::lock_guard<std::mutex> lock(mutex);
        claimed.insert(got->begin(), got->end());
      }
    });
  }
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(claimed.size(), static_cast<size_t>(kCases));
  EXPECT_EQ(std::set<std::string>(claimed.begin(), claimed.end()).size(),
            static_cast<size_t>(kCases));
}

// The database going away and coming back, without restarting the store: the store's role is
// locked out and its connections cut (what a server restart does to them). While it is away every
// write and read is kUnavailable at once — queued writes too, none hangs — and nothing is stored;
// once it is back, the next write and read succeed on fresh connections.
TEST_P(StoreConformance, WritesFailWhileTheDatabaseIsAwayAndSucceedOnceItIsBack) {
  if (GetParam() == Backend::kSqlite) {
    GTEST_SKIP() << "an SQLite file does not go away (failing disks: fault_injection_test.cc)";
  }
  const std::string role = UseOwnRole();
  auto store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->Commit(MakeWrite("case-a", 1, 1)).ok());
  ASSERT_TRUE(store->GetCase("case-a").ok());  // a reader connection in the pool
  const std::string cut =
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '" + role + "'";
  // Cut alone (a restart that is already over): the next write and read reconnect by themselves.
  ASSERT_EQ(Superuser(cut), "");
  Status written = store->Commit(MakeWrite("case-a", 2, 2));
  EXPECT_TRUE(written.ok()) << written.ToString();
  auto read = store->GetCase("case-a");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ((*read)->version, 2);

  // Away: no new connection is let in.
  ASSERT_EQ(Superuser("ALTER ROLE " + role + " NOLOGIN"), "");
  ASSERT_EQ(Superuser(cut), "");
  std::vector<Status> outcomes(12);
  std::vector<std::thread> writers;
  for (size_t i = 0; i < outcomes.size(); ++i) {
    writers.emplace_back(
        [&, i] { outcomes[i] = store->Commit(MakeWrite("case-away-" + std::to_string(i), 1, 1)); });
  }
  for (auto& t : writers)
    t.join();
  for (const Status& s : outcomes)
    EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  auto away = store->GetCase("case-a");
  EXPECT_EQ(away.status().code(), StatusCode::kUnavailable) << away.status().ToString();
  EXPECT_EQ(store->ClaimDueTimers(Ms(kBase + 200000), 10).status().code(),
            StatusCode::kUnavailable);

  // Back: the same store object serves again.
  ASSERT_EQ(Superuser("ALTER ROLE " + role + " LOGIN"), "");
  written = store->Commit(MakeWrite("case-a", 3, 3));
  EXPECT_TRUE(written.ok()) << written.ToString();
  read = store->GetCase("case-a");
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ((*read)->version, 3);
  EXPECT_EQ(*store->CountCases(), 1);  // nothing of the refused writes was stored
  EXPECT_EQ(*store->CountEvents(), 3);
}

TEST_P(StoreConformance, DefinitionsAreImmutableAcrossNodes) {
  auto node_a = Open();
  auto node_b = Open();
  ASSERT_TRUE(node_a && node_b);
  DefinitionRecord d{"item", "item-a", 1, "hash-1", "{}", Ms(kBase)};
  ASSERT_TRUE(node_a->Deploy(d).ok());
  EXPECT_TRUE(node_b->Deploy(d).ok());  // the same content: a no-op
  d.content_hash = "hash-2";
  EXPECT_EQ(node_b->Deploy(d).code(), StatusCode::kAlreadyExists);
  auto deployed = node_b->Definitions();
  ASSERT_TRUE(deployed.ok());
  ASSERT_EQ(deployed->size(), 1u);
  EXPECT_EQ((*deployed)[0].content_hash, "hash-1");
}

// A deployment is all or nothing: a list deployed with its items is never seen without them (a
// node starting beside a deploying one loaded such a list and refused to start), and one clash
// stores nothing of the call. Two nodes deploying the same definitions at once both succeed.
TEST_P(StoreConformance, ADeploymentIsAllOrNothingAndTwoNodesMayRaceOnIt) {
  auto node_a = Open();
  auto node_b = Open();
  ASSERT_TRUE(node_a && node_b);
  ASSERT_TRUE(node_a->Deploy({"item", "item-a", 1, "hash-1", "{}", Ms(kBase)}).ok());
  const std::vector<DefinitionRecord> clashing = {
      {"calendar", "cal-1", 1, "hash-c", "{}", Ms(kBase)},
      {"item", "item-a", 1, "hash-other", "{}", Ms(kBase)}};
  EXPECT_EQ(node_b->DeployAll(clashing).code(), StatusCode::kAlreadyExists);
  ASSERT_EQ(node_a->Definitions()->size(), 1u);  // not the calendar either

  std::vector<DefinitionRecord> shipped;
  for (int i = 0; i < 40; ++i) {
    shipped.push_back({i % 2 == 0 ? "handling_agreements" : "item", "def-" + std::to_string(i), 1,
                       "hash-" + std::to_string(i), "{}", Ms(kBase)});
  }
  std::atomic<bool> partial_seen{false};
  std::atomic<bool> deploying{true};
  std::thread reader([&] {
    // What a starting node reads: nothing of the batch, or all of it.
    while (deploying) {
      auto seen = node_b->Definitions();
      if (seen.ok() && seen->size() != 1 && seen->size() != 1 + shipped.size()) {
        partial_seen = true;
      }
    }
  });
  Status deployed_a;
  Status deployed_b;
  std::thread a([&] { deployed_a = node_a->DeployAll(shipped); });
  std::thread b([&] { deployed_b = node_b->DeployAll(shipped); });
  a.join();
  b.join();
  deploying = false;
  reader.join();
  EXPECT_TRUE(deployed_a.ok()) << deployed_a.ToString();
  EXPECT_TRUE(deployed_b.ok()) << deployed_b.ToString();
  EXPECT_FALSE(partial_seen);
  EXPECT_EQ(node_a->Definitions()->size(), 1 + shipped.size());
}

TEST_P(StoreConformance, ReopeningKeepsDataAndContinuesTheChain) {
  {
    auto store = Open();
    ASSERT_TRUE(store);
    StoreWrite w;
    w.cases.push_back(MakeWrite("case-a", 1, 1));
    w.ledger.push_back(MakeEntry("s-1", 1));
    ASSERT_TRUE(store->Commit(std::move(w)).ok());
  }
  auto store = Open();
  ASSERT_TRUE(store);
  StoreWrite w;
  w.ledger.push_back(MakeEntry("s-2", 2));
  ASSERT_TRUE(store->Commit(std::move(w)).ok());
  auto ledger = store->Ledger();
  ASSERT_EQ(ledger->size(), 2u);
  EXPECT_FALSE(CheckLedgerChain(*ledger).has_value());
  auto read_only = TryOpen(/*read_only=*/true);
  ASSERT_TRUE(read_only.ok()) << read_only.status().ToString();
  EXPECT_EQ((*read_only)->GetCase("case-a")->value().version, 1);
  EXPECT_EQ((*read_only)->Commit(MakeWrite("case-b", 1, 1)).code(),
            StatusCode::kFailedPrecondition);
}

TEST_P(StoreConformance, RefusesASchemaNewerThanItKnows) {
  ASSERT_TRUE(Open());
  SetSchemaVersion(99);
  for (bool read_only : {false, true}) {
    auto store = TryOpen(read_only);
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(store.status().message().find("newer"), std::string::npos)
        << store.status().ToString();
  }
}

CaseFacts Facts(const std::string& organ, const std::string& zone, int64_t applied_offset,
                std::map<std::string, int64_t> counters) {
  CaseFacts f;
  f.month = "2026-03";
  f.organ = organ;
  f.item = "item-a";
  f.zone = zone;
  f.applied_at = Ms(kBase + applied_offset);
  f.counters = std::move(counters);
  return f;
}

int64_t Sum(const std::vector<IndicatorCount>& counts, const std::string& zone,
            const std::string& name) {
  int64_t n = 0;
  for (const IndicatorCount& c : counts)
    if (c.zone == zone && c.name == name) n += c.value;
  return n;
}

// Facts written with each case are folded into the indicator counters in the same transaction: a
// case's later write takes out what it counted for and adds what it counts for now (moving it to
// another zone, here), on every node; the audit indexes find cases by facts and events by actor,
// action and delegation.
// A write whose facts are those stored leaves the facts and the indicators as they are (the stores
// skip rewriting them); a write that changes any one of them, however small, is kept.
TEST_P(StoreConformance, FactsAWriteLeavesAsTheyWereStayAndAChangedOneIsKept) {
  auto store = Open();
  ASSERT_TRUE(store);
  const CaseFacts accepted = Facts("organ-1", "zone-1", 0, {{"accepted", 1}, {"applications", 1}});
  for (int version = 1; version <= 3; ++version) {
    CaseWrite w = MakeWrite("case-f", version, version);
    w.record.facts = accepted;
    ASSERT_TRUE(store->Commit(std::move(w)).ok());
    auto counts = store->Indicators("2026-03", "2026-03");
    ASSERT_TRUE(counts.ok()) << counts.status().ToString();
    EXPECT_EQ(Sum(*counts, "zone-1", "applications"), 1) << "after write " << version;
    EXPECT_EQ(Sum(*counts, "zone-1", "accepted"), 1) << "after write " << version;
  }
  // Only the decision's instant and lateness change: the counters are the same.
  CaseWrite decided = MakeWrite("case-f", 4, 4);
  decided.record.facts = accepted;
  decided.record.facts->decided_at = Ms(kBase + 90000);
  decided.record.facts->late_statutory = true;
  ASSERT_TRUE(store->Commit(std::move(decided)).ok());
  FactsQuery late;
  late.late_only = true;
  late.decided_from = Ms(kBase + 90000);
  late.decided_to = Ms(kBase + 90001);
  auto found = store->FindCaseFacts(late);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ(found->front().facts.decided_at, Ms(kBase + 90000));
  EXPECT_TRUE(found->front().facts.late_statutory);
  EXPECT_FALSE(found->front().facts.late_promised);
  // Then a counter changes and the case moves zone: out of one row, into the other.
  CaseWrite moved = MakeWrite("case-f", 5, 5);
  moved.record.facts = Facts("organ-1", "zone-2", 0, {{"accepted", 1}, {"applications", 1}});
  moved.record.facts->counters["visits"] = 3;
  ASSERT_TRUE(store->Commit(std::move(moved)).ok());
  auto counts = store->Indicators("2026-03", "2026-03");
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(Sum(*counts, "zone-1", "applications"), 0);
  EXPECT_EQ(Sum(*counts, "zone-2", "applications"), 1);
  EXPECT_EQ(Sum(*counts, "zone-2", "visits"), 3);
}

// Writes queued at once share a transaction (group commit); refused ones among them — a stale
// version, a used idempotency key, an event the case already has (its row's UPDATE succeeded
// first) — roll back alone, with their facts, counts and ledger entries, wherever they fall in
// the batch; the others are stored whole, the counts exact and the ledger dense.
TEST_P(StoreConformance, RefusedWritesAmongABatchRollBackAloneAndTheCountsStayExact) {
  auto store = Open();
  ASSERT_TRUE(store);
  constexpr int kCases = 32;
  for (int i = 0; i < kCases; ++i) {
    CaseWrite created = MakeWrite("b-" + std::to_string(i), 1, 1, "key-" + std::to_string(i));
    created.record.facts = Facts("organ-1", "window-1", i, {{"applications", 1}});
    ASSERT_TRUE(store->Commit(std::move(created)).ok());
  }
  std::vector<Status> outcomes(kCases);
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kCases; ++i) {
    threads.emplace_back([&, i] {
      const std::string id = "b-" + std::to_string(i);
      StoreWrite w;
      CaseWrite decided = MakeWrite(id, 2, 2);
      if (i % 4 == 0) decided = MakeWrite(id, 3, 3);  // decided against version 2: stale
      if (i % 4 == 1) decided = MakeWrite(id, 2, 2, "key-" + std::to_string((i + 1) % kCases));
      if (i % 4 == 2) {
        decided = MakeWrite(id, 1, 2);  // event 1 again, against the right version
        decided.expected_version = 1;
      }
      decided.record.facts = Facts("organ-1", "zone-2", i, {{"applications", 1}, {"decided", 1}});
      decided.record.yellow_at = Ms(kBase + 1000);
      decided.record.red_at = Ms(kBase + 10000);
      w.cases.push_back(std::move(decided));
      w.ledger.push_back(MakeEntry(id, i));
      while (!go.load())
        std::this_thread::yield();
      outcomes[i] = store->Commit(std::move(w));
    });
  }
  go.store(true);
  for (auto& t : threads)
    t.join();
  int stored = 0;
  for (int i = 0; i < kCases; ++i) {
    const Status& s = outcomes[i];
    switch (i % 4) {
      case 0:
        EXPECT_EQ(s.code(), StatusCode::kAborted) << i << ": " << s.ToString();
        EXPECT_NE(s.message().find("is at version 1, not 2"), std::string::npos) << s.ToString();
        break;
      case 1:
        EXPECT_EQ(s.code(), StatusCode::kAlreadyExists) << i << ": " << s.ToString();
        break;
      case 2:
        // Both stores: the case moved on past this write (its event's seq is taken).
        EXPECT_EQ(s.code(), StatusCode::kAborted) << i << ": " << s.ToString();
        EXPECT_NE(s.message().find("already has event"), std::string::npos) << s.ToString();
        break;
      default:
        EXPECT_TRUE(s.ok()) << i << ": " << s.ToString();
        ++stored;
    }
    EXPECT_EQ(store->GetCase("b-" + std::to_string(i))->value().version, i % 4 == 3 ? 2 : 1) << i;
  }
  EXPECT_EQ(*store->CountEvents(), kCases + stored);
  EXPECT_EQ(*store->CountByStatus(),
            (std::vector<std::pair<std::string, int64_t>>{{"submitted", kCases - stored},
                                                          {"under_review", stored}}));
  auto lights = store->CountLights(Ms(kBase + 1000), LightClock::kDecision);
  ASSERT_TRUE(lights.ok());
  EXPECT_EQ(lights->yellow, stored);
  EXPECT_EQ(lights->green, 0);
  auto counts = store->Indicators("2026-03", "2026-03");
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  EXPECT_EQ(Sum(*counts, "window-1", "applications"), kCases - stored);
  EXPECT_EQ(Sum(*counts, "zone-2", "applications"), stored);
  EXPECT_EQ(Sum(*counts, "zone-2", "decided"), stored);
  // Only the stored writes' entries, one seq each, in one sound chain.
  auto ledger = store->Ledger();
  ASSERT_TRUE(ledger.ok());
  ASSERT_EQ(ledger->size(), static_cast<size_t>(stored));
  for (size_t k = 0; k < ledger->size(); ++k) {
    EXPECT_EQ((*ledger)[k].seq, static_cast<int64_t>(k + 1));
    EXPECT_EQ(std::stoi((*ledger)[k].subject.substr(2)) % 4, 3) << (*ledger)[k].subject;
  }
  auto fault = CheckLedgerChain(*ledger);
  EXPECT_FALSE(fault.has_value()) << fault->seq << ": " << fault->reason;
}

TEST_P(StoreConformance, IndicatorsAndAuditIndexesAreKeptOnWrite) {
  auto node_a = Open();
  auto node_b = Open();
  ASSERT_TRUE(node_a && node_b);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      Store* node = (t == 0 ? node_a : node_b).get();
      for (int i = 0; i < 6; ++i) {
        const std::string id = "f-" + std::to_string(t) + "-" + std::to_string(i);
        CaseWrite created = MakeWrite(id, 1, 1);
        created.record.facts = Facts("organ-1", "window-1", i, {{"applications", 1}});
        ASSERT_TRUE(node->Commit(std::move(created)).ok());
        // Accepted and decided by zone-2, two of them late, one under a delegation.
        CaseWrite decided = MakeWrite(id, 2, 2);
        decided.record.facts =
            Facts("organ-1", "zone-2", i, {{"applications", 1}, {"decided", 1}, {"visits", 2}});
        decided.record.facts->decided_at = Ms(kBase + 50000 + i);
        decided.record.facts->late_statutory = i < 2;
        decided.record.facts->late_promised = i < 2;
        if (i == 3) decided.delegations = {{2, "deleg-" + std::to_string(t)}};
        ASSERT_TRUE(node->Commit(std::move(decided)).ok());
      }
    });
  }
  for (auto& t : threads)
    t.join();
  auto counts = node_a->Indicators("2026-03", "2026-03");
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  EXPECT_EQ(Sum(*counts, "window-1", "applications"), 0);  // moved out, row at zero: not listed
  EXPECT_EQ(Sum(*counts, "zone-2", "applications"), 12);
  EXPECT_EQ(Sum(*counts, "zone-2", "decided"), 12);
  EXPECT_EQ(Sum(*counts, "zone-2", "visits"), 24);
  for (const IndicatorCount& c : *counts)
    EXPECT_NE(c.value, 0) << c.zone << " " << c.name;
  EXPECT_TRUE(node_b->Indicators("2026-04", "2026-12")->empty());

  FactsQuery late;
  late.late_only = true;
  late.decided_from = Ms(kBase + 50000);
  late.decided_to = Ms(kBase + 50002);
  auto found = node_b->FindCaseFacts(late);
  ASSERT_TRUE(found.ok()) << found.status().ToString();
  ASSERT_EQ(found->size(), 4u);
  for (const FactsRow& row : *found) {
    EXPECT_TRUE(row.facts.late_statutory) << row.case_id;
    EXPECT_EQ(row.number, "N-" + row.case_id);
    EXPECT_EQ(row.status, "under_review");
    EXPECT_EQ(row.facts.zone, "zone-2");
    EXPECT_EQ(row.facts.counters.at("visits"), 2);
  }
  FactsQuery applied;
  applied.organ = "organ-1";
  applied.applied_from = Ms(kBase + 4);
  applied.limit = 3;
  EXPECT_EQ(node_a->FindCaseFacts(applied)->size(), 3u);  // 4 match (i = 4, 5 on each node)
  applied.organ = "organ-2";
  EXPECT_TRUE(node_a->FindCaseFacts(applied)->empty());

  EventQuery by_actor;
  by_actor.actor_id = "rev-1";
  by_actor.from = Ms(kBase + 2000);
  auto events = node_a->FindEvents(by_actor);
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  EXPECT_EQ(events->size(), 12u);  // the seq-2 events
  EventQuery by_action;
  by_action.actions = {"submit", "nothing"};
  EXPECT_EQ(node_b->FindEvents(by_action)->size(), 12u);
  EventQuery by_delegation;
  by_delegation.delegation = "deleg-1";
  events = node_a->FindEvents(by_delegation);
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ(events->front().case_id, "f-1-3");
  EXPECT_EQ(events->front().seq, 2);
  EventQuery two;
  two.actor_id = "rev-1";
  two.delegation = "deleg-1";
  EXPECT_EQ(node_a->FindEvents(two).status().code(), StatusCode::kInvalidArgument);
}

// No server needed: these fail before or at connecting.
TEST(PostgresStore, ABadConnectionStringIsAClearError) {
  PostgresStoreOptions options;
  options.conninfo = "postgresql://host:notaport:x/db?nonsense=1";
  auto store = PostgresStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument) << store.status().ToString();
  EXPECT_NE(store.status().message().find("connection string"), std::string::npos);

  // Well formed, but nothing listens there.
  options.conninfo = "postgresql:///tongban?host=/nonexistent-tongban-socket-dir";
  store = PostgresStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kUnavailable) << store.status().ToString();
  EXPECT_NE(store.status().message().find("cannot connect"), std::string::npos);
}

TEST(PostgresStore, KnowsAConnectionStringFromAFilePath) {
  EXPECT_TRUE(IsPostgresConnectionString("postgresql://u@h/db"));
  EXPECT_TRUE(IsPostgresConnectionString("postgres:///db?host=/tmp"));
  EXPECT_FALSE(IsPostgresConnectionString("tongban.db"));
  EXPECT_FALSE(IsPostgresConnectionString("var/postgres/tongban.db"));
}

// A database of the schema before the delivery lights (SQLite 5, PostgreSQL 4), one before the
// audit tables (SQLite 4, PostgreSQL 3: documents) and one before the documents (SQLite 3,
// PostgreSQL 2), made by dropping what came later, migrate step by step at open and keep their
// data; a grant written before the delivery lights is unknown until its next write; the events
// taken under a delegation before the migration are indexed from their stored data.authority.
// SQLite first goes back to its schema 6, whose cases table was WITHOUT ROWID.
TEST_P(StoreConformance, MigratesThePreviousSchemasStepByStep) {
  const std::string pdf = "%PDF-1.7 before the audit tables";
  {
    auto store = Open();
    ASSERT_TRUE(store);
    StoreWrite w;
    w.documents.push_back(MakeDocument("case-a", pdf, kBase + 1));
    w.cases.push_back(MakeWrite("case-a", 1, 2));
    Event& delegated = w.cases[0].events[1];
    delegated.data =
        R"({"authority":{"basis":"delegation","delegation":"del-1","organ":"organ-2"},"n":2})";
    delegated.prev_hash = w.cases[0].events[0].hash;
    delegated.hash = ComputeEventHash(delegated);
    // A grant as the older versions wrote it: no delivery instants.
    w.cases.push_back(MakeWrite("case-g", 1, 1));
    w.cases[1].record.status = "approved";
    ASSERT_TRUE(store->Commit(std::move(w)).ok());
  }
  const bool postgres = GetParam() == Backend::kPostgres;
  const std::string drop_delivery =
      std::string("DROP INDEX cases_delivery_lights_unknown; DROP TABLE delivery_light_changes;") +
      (postgres ? " ALTER TABLE cases DROP COLUMN lights_known;" : "");
  const std::string drop_audit =
      drop_delivery +
      " DROP INDEX events_actor; DROP INDEX events_action; DROP TABLE case_facts; "
      "DROP TABLE indicator_counts; DROP TABLE delegated_events;";
  const int current = CurrentSchemaVersion();
  // The version that added the delivery lights: the last for PostgreSQL, the one before for SQLite.
  const int delivery = postgres ? current : current - 1;
  if (!postgres) {
    auto without_rowid = [&] {
      auto db = sqlite::Database::Open(conninfo_, false, true);
      EXPECT_TRUE(db.ok());
      if (!db.ok()) return false;
      sqlite::Statement s(db->get(), "SELECT sql FROM sqlite_master WHERE name = 'cases'");
      return s.Step() == SQLITE_ROW && s.Text(0).find("WITHOUT ROWID") != std::string::npos;
    };
    RollBack(SqliteCasesWithoutRowid(), 6);
    ASSERT_TRUE(without_rowid());
    auto store = Open();
    ASSERT_TRUE(store);
    EXPECT_EQ(SchemaVersion(), current);
    EXPECT_FALSE(without_rowid());
    auto record = store->GetCase("case-g");
    ASSERT_TRUE(record.ok() && record->has_value()) << record.status().ToString();
    EXPECT_EQ((*record)->snapshot, MakeWrite("case-g", 1, 1).record.snapshot);
    EXPECT_EQ((*record)->status, "approved");
    EXPECT_EQ(*store->CountCases(), 2);
    int ids = 0;
    ASSERT_TRUE(store
                    ->ForEachCase([&](const CaseRecord& r) {
                      EXPECT_EQ(r.id, ids == 0 ? "case-a" : "case-g");
                      ++ids;
                      return true;
                    })
                    .ok());
    EXPECT_EQ(ids, 2);
  }
  RollBack(drop_delivery, delivery - 1);
  {
    auto store = Open();
    ASSERT_TRUE(store);
    EXPECT_EQ(SchemaVersion(), current);
    // The grant written before is unknown until its next write, and then counted.
    auto deliveries = store->CountLights(Ms(kBase), LightClock::kDelivery);
    ASSERT_TRUE(deliveries.ok()) << deliveries.status().ToString();
    EXPECT_EQ(deliveries->unknown, 1);
    EXPECT_EQ(deliveries->green, 0);
    EXPECT_EQ(*store->CasesWithUnknownLights(10, LightClock::kDelivery),
              std::vector<std::string>{"case-g"});
    CaseWrite rewritten = MakeWrite("case-g", 2, 2);
    rewritten.record.status = "approved";
    rewritten.record.yellow_at = Ms(kBase + 1000);
    rewritten.record.red_at = Ms(kBase + 2000);
    ASSERT_TRUE(store->Commit(std::move(rewritten)).ok());
    deliveries = store->CountLights(Ms(kBase), LightClock::kDelivery);
    EXPECT_EQ(deliveries->unknown, 0);
    EXPECT_EQ(deliveries->green, 1);
    EXPECT_TRUE(store->CasesWithUnknownLights(10, LightClock::kDelivery)->empty());
  }
  RollBack(drop_audit, delivery - 2);
  {
    auto store = Open();
    ASSERT_TRUE(store);
    EXPECT_EQ(SchemaVersion(), current);
    auto document = store->GetDocument("case-a", Sha256Hex(pdf));
    ASSERT_TRUE(document.ok() && document->has_value()) << document.status().ToString();
    EXPECT_EQ((*document)->content, pdf);
    EventQuery q;
    q.delegation = "del-1";
    auto found = store->FindEvents(q);
    ASSERT_TRUE(found.ok()) << found.status().ToString();
    ASSERT_EQ(found->size(), 1u);
    EXPECT_EQ((*found)[0].seq, 2);
    EXPECT_TRUE(store->Indicators("2026-01", "2026-12")->empty());
  }
  RollBack(drop_audit + " DROP TABLE case_documents; DROP TABLE documents;", delivery - 3);
  auto store = Open();
  ASSERT_TRUE(store);
  EXPECT_EQ(SchemaVersion(), current);
  auto events = store->GetEvents("case-a", INT64_MAX);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_EQ((*events)[1].hash, ComputeEventHash((*events)[1]));
  EventQuery q;
  q.delegation = "del-1";
  EXPECT_EQ(store->FindEvents(q)->size(), 1u);
  // The tables of every step are there again and take writes.
  StoreWrite more;
  more.documents.push_back(MakeDocument("case-b", pdf, kBase + 5));
  more.cases.push_back(MakeWrite("case-b", 1, 1));
  more.cases[0].record.facts = Facts("organ-1", "organ-1", 0, {{"applications", 1}});
  ASSERT_TRUE(store->Commit(std::move(more)).ok());
  EXPECT_TRUE(store->GetDocument("case-b", Sha256Hex(pdf))->has_value());
  EXPECT_FALSE(store->Indicators("2026-03", "2026-03")->empty());
}

}  // namespace
}  // namespace tongban
