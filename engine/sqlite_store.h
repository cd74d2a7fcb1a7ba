// SqliteStore: the Store on one SQLite file (WAL mode).
//
// Durability: WAL with synchronous=FULL by default, so a Commit() that returned OK survives a crash
// or power loss. One writer thread owns the only writing connection; Commit() enqueues its write
// and blocks until the transaction that contains it is durable. With group commit (the default) the
// writer drains everything queued into one transaction — each write in its own savepoint, so a
// write refused for a stale version rolls back alone — which turns many concurrent callers' fsyncs
// into one. Readers use a pool of their own connections and never wait for the writer (WAL).
//
// Schema: versioned with PRAGMA user_version; Open() migrates an older file forward and refuses a
// newer one. Triggers refuse UPDATE and DELETE on events, so even a careless tool cannot rewrite
// history without dropping them first — and verification catches it if someone does.
//
// Thread safety: all methods are thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/sqlite.h"
#include "engine/store.h"

namespace tongban {

struct SqliteStoreOptions {
  std::string path;
  std::string synchronous = "FULL";  // FULL, NORMAL or OFF (benchmarks only)
  bool group_commit = true;          // false: one transaction per write (the benchmark baseline)
  int max_batch = 512;               // writes per transaction at most
  bool read_only = false;            // for tools that only read (verify, replay)
};

class SqliteStore final : public Store {
 public:
  static constexpr int kSchemaVersion = 1;

  static Result<std::unique_ptr<SqliteStore>> Open(const SqliteStoreOptions& options);
  // Stops accepting writes, finishes those queued, and closes every connection.
  ~SqliteStore() override;

  Status Deploy(const DefinitionRecord& definition) override;
  Result<std::vector<DefinitionRecord>> Definitions() override;
  Status Commit(CaseWrite write) override;
  Result<std::optional<CaseRecord>> GetCase(const std::string& id) override;
  Result<std::optional<CaseRecord>> GetCaseByNumber(const std::string& number) override;
  Result<std::vector<Event>> GetEvents(const std::string& case_id, int64_t up_to_seq) override;
  Result<std::optional<IdempotencyHit>> FindIdempotencyKey(const std::string& actor_id,
                                                           const std::string& key) override;
  Result<std::vector<CaseRecord>> ListCases(const CaseFilter& filter) override;
  Result<std::vector<std::string>> DueTimers(Instant now, int limit) override;
  Status ForEachCaseId(const std::function<bool(const std::string&)>& visit) override;
  Status ForEachEvent(const std::function<bool(const Event&)>& visit) override;
  Status ForEachCase(const std::function<bool(const CaseRecord&)>& visit) override;
  Result<int64_t> CountCases() override;
  Result<int64_t> CountEvents() override;
  Result<std::vector<std::pair<std::string, int64_t>>> CountByStatus() override;
  StoreStats Stats() const override;

  const SqliteStoreOptions& options() const { return options_; }

 private:
  struct Connection;
  class Lease;
  struct PendingWrite {
    CaseWrite write;
    std::promise<Status> done;
  };

  explicit SqliteStore(SqliteStoreOptions options);
  Status Initialize();
  Result<std::unique_ptr<Connection>> Connect(bool writer);
  std::unique_ptr<Connection> AcquireReader();
  void ReleaseReader(std::unique_ptr<Connection> connection);
  void WriterLoop();
  Status ApplyWrite(Connection& c, const CaseWrite& write);

  SqliteStoreOptions options_;
  std::unique_ptr<Connection> writer_;
  std::mutex readers_mutex_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;

  std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::deque<std::unique_ptr<PendingWrite>> queue_;
  bool stopping_ = false;
  std::thread writer_thread_;

  std::atomic<int64_t> commits_{0};
  std::atomic<int64_t> writes_{0};
  std::atomic<int64_t> max_batch_{0};
};

}  // namespace tongban
