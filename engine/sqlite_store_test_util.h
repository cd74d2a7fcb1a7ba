// Tests only: what the SQLite store's test files share (sqlite_store_test.cc, its writes;
// sqlite_store_schema_test.cc, its schema, migrations and read-only opening): a temporary directory
// for the files, events and writes made up for a test, the store opened on a file, and raw access
// to the file around the store (SQL through a connection of the test's own, and the real sqlite3
// command-line tool).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "engine/sqlite.h"
#include "engine/sqlite_store.h"

namespace tongban::sqlite_store_test {

class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "tongban-store-test-XXXXXX").string();
    char* made = mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string File(const std::string& name) const {
    return (std::filesystem::path(path_) / name).string();
  }

 private:
  std::string path_;
};

inline Instant Ms(int64_t ms) {
  return Instant(std::chrono::milliseconds(ms));
}
constexpr int64_t kBase = 1772413200000;  // 2026-03-02T01:00:00Z

inline Event MakeEvent(const std::string& case_id, int64_t seq, const std::string& key = "",
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
inline CaseWrite MakeWrite(const std::string& case_id, int64_t from, int64_t to,
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

inline std::unique_ptr<SqliteStore> OpenStore(const std::string& path, bool read_only = false,
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
inline Status RawExec(const std::string& path, const std::string& sql) {
  auto db = sqlite::Database::Open(path, false, false);
  if (!db.ok()) return db.status();
  return db->Exec(sql);
}

inline int64_t RawInt(const std::string& path, const std::string& sql) {
  auto db = sqlite::Database::Open(path, false, true);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  if (!db.ok()) return -1;
  sqlite::Statement s(db->get(), sql);
  EXPECT_TRUE(s.ok()) << s.error();
  if (!s.ok() || s.Step() != SQLITE_ROW) return -1;
  return s.Int(0);
}

inline std::string RawText(const std::string& path, const std::string& sql) {
  auto db = sqlite::Database::Open(path, false, true);
  if (!db.ok()) return "";
  sqlite::Statement s(db->get(), sql);
  if (!s.ok() || s.Step() != SQLITE_ROW) return "";
  return s.Text(0);
}

inline int64_t Events(SqliteStore& store) {
  return store.CountEvents().value();
}

// A ledger entry as a caller hands it over: seq, prev_hash and hash are the store's to set, so
// they are filled with nonsense here to show that they are overwritten.
inline LedgerEntry MakeEntry(const std::string& kind, const std::string& subject, int n = 0) {
  LedgerEntry e;
  e.seq = 1000 + n;
  e.time = Ms(kBase + 500 + n);
  e.actor = {"admin-1", "administrator", "organ-1", "王五"};
  e.kind = kind;
  e.subject = subject;
  e.data = "{\"n\":" + std::to_string(n) + "}";
  e.prev_hash = "caller-prev";
  e.hash = "caller-hash";
  return e;
}

inline std::vector<LedgerEntry> ReadLedger(SqliteStore& store, int64_t after_seq = 0) {
  auto ledger = store.Ledger(after_seq);
  EXPECT_TRUE(ledger.ok()) << ledger.status().ToString();
  return ledger.ok() ? std::move(ledger).value() : std::vector<LedgerEntry>{};
}

// Runs `sql` on a closed database with the real sqlite3 command-line tool; returns its exit code
// and puts what it printed in `output`.
inline int Sqlite3(const std::string& db, const std::string& sql, std::string* output) {
  std::string script = db + ".sql";
  {
    std::ofstream out(script);
    out << ".bail on\n" << sql << "\n";
  }
  std::string command = "sqlite3 '" + db + "' < '" + script + "' 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  output->clear();
  char buffer[256];
  while (fgets(buffer, sizeof buffer, pipe) != nullptr)
    output->append(buffer);
  return pclose(pipe);
}

}  // namespace tongban::sqlite_store_test
