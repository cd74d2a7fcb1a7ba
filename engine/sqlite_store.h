// SqliteStore: the Store on one SQLite file (WAL mode).
//
// Durability: WAL with synchronous=FULL by default, so a Commit() that returned OK survives a crash
// or power loss. One writer thread owns the only writing connection; Commit() enqueues its write
// and blocks until the transaction that contains it is durable. With group commit (the default) the
// writer drains everything queued into one transaction — each StoreWrite (all its case writes and
// ledger entries) in its own savepoint, so a StoreWrite refused for a stale version rolls back
// alone while the others of the batch commit — which turns many concurrent callers' fsyncs into
// one. Readers use a pool of their own connections and never wait for the writer (WAL).
//
// WAL checkpoints: once the WAL holds wal_checkpoint_pages (10,000, about 40 MB; SQLite's own is
// 1,000), a thread of its own, on a connection of its own, copies it back into the file (PASSIVE:
// it takes no lock the writer needs), so no commit waits for the copy and its fsync. Should the
// WAL still reach four times that (a disk slower than the writes), each commit past it checkpoints
// inline, as SQLite's own would, unless the thread's checkpoint is still running. (No checkpoint
// copies past what a reader still reads, so a long read lets the WAL grow until it ends.)
//
// Ledger: the writer thread assigns every entry its seq (dense from 1, over the whole file),
// prev_hash and hash inside the transaction, and caches the chain's end between transactions. The
// cache advances only with a committed transaction: entries of a refused StoreWrite consume no
// seq, and after a failed transaction the end is read back from the file. The cache assumes this
// store is the file's only writer of ledger entries (one serving process per file); should another
// writer append, the next ledger write fails on the seq's primary key instead of forking the chain,
// and the cache is re-read.
//
// Schema: versioned with PRAGMA user_version; Open() migrates an older file forward (keeping its
// data) and refuses a newer one. Version 2 added the ledger table; version 3 the counts kept on
// write (case_counts by status, light_changes for the lights of the cases under review, and each
// case's yellow_ms/red_ms), updated in the transaction of every case write, so that metrics read a
// few rows instead of scanning cases; version 4 the documents (documents, case_documents); version
// 5 the audit queries' indexes and the indicators kept on write (case_facts, indicator_counts,
// delegated_events); version 6 the delivery lights kept on write (delivery_light_changes, and the
// delivery clock's instants in yellow_ms/red_ms of a granted case); version 7 rebuilt cases as a
// rowid table (a case's row with its snapshot outgrew what a WITHOUT ROWID row keeps in its page).
// The migrations are in sqlite_store_schema.cc. Opened read-only, an older file is read as it is,
// not migrated: a version 1 file has no ledger, so Ledger() is empty; before version 3
// CountByStatus() counts the cases and CountLights() is kFailedPrecondition (for the delivery
// clock, before version 6); before version 5 the facts, indicators and delegated events read empty.
// Triggers refuse UPDATE and DELETE on events and ledger entries, so even a careless tool cannot
// rewrite history without dropping them first — and verification catches it if someone does.
//
// Faults of the disk: a read, write or fsync that fails (or a full disk) is kUnavailable, from
// Commit() and from every read; a write refused so stored nothing, and the store serves again
// once the fault clears (engine/fault_injection_test.cc fails every I/O point of a transition, a
// bundle creation and a ledger append in turn). When a group-commit transaction fails as a whole,
// its StoreWrites are run again one by one, so that one write's fault does not fail the others.
// A damaged file reads as kDataLoss.
//
// Overload: at most max_queue StoreWrites wait for the writer; Commit() past that is kUnavailable
// at once, so that callers get an answer instead of unbounded latency.
//
// Thread safety: all methods are thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "engine/light_count_deltas.h"
#include "engine/sqlite.h"
#include "engine/store.h"

namespace tongban {

struct SqliteStoreOptions {
  std::string path;
  std::string synchronous = "FULL";  // FULL, NORMAL or OFF (benchmarks only)
  bool group_commit = true;          // false: one transaction per write (the benchmark baseline)
  int max_batch = 512;     // case writes per transaction at most (a bigger StoreWrite goes alone)
  bool read_only = false;  // for tools that only read (verify, replay)
  // StoreWrites waiting for the writer at most; Commit() past it is kUnavailable at once ("the
  // store is overloaded"). 0: unbounded.
  int max_queue = 4096;
  // The SQLite VFS to open the file through; "" for the default. Tests name FaultVfs::kName
  // (fault_vfs.h) to fail chosen reads, writes and syncs.
  std::string vfs;
  // WAL pages past which the checkpoint thread copies the WAL back into the file; the writer
  // does at four times this (see the top of this file). At least 1.
  int wal_checkpoint_pages = 10000;
};

class SqliteStore final : public Store {
 public:
  static constexpr int kSchemaVersion = 7;

  static Result<std::unique_ptr<SqliteStore>> Open(const SqliteStoreOptions& options);
  // Stops accepting writes, finishes those queued, and closes every connection.
  ~SqliteStore() override;

  Status DeployAll(const std::vector<DefinitionRecord>& definitions) override;
  Result<std::vector<DefinitionRecord>> Definitions() override;
  using Store::Commit;  // Commit(CaseWrite)
  Status Commit(StoreWrite write) override;
  Result<std::vector<LedgerEntry>> Ledger(int64_t after_seq = 0) override;
  Result<std::optional<DocumentRecord>> GetDocument(const std::string& case_id,
                                                    const std::string& hash) override;
  Result<std::vector<DocumentRecord>> CaseDocuments(const std::string& case_id) override;
  Result<std::optional<CaseRecord>> GetCase(const std::string& id) override;
  Result<std::optional<CaseRecord>> GetCaseByNumber(const std::string& number) override;
  Result<std::vector<Event>> GetEvents(const std::string& case_id, int64_t up_to_seq) override;
  Result<std::optional<IdempotencyHit>> FindIdempotencyKey(const std::string& actor_id,
                                                           const std::string& key) override;
  Result<std::vector<CaseRecord>> ListCases(const CaseFilter& filter) override;
  Result<std::vector<std::string>> DueTimers(Instant now, int limit) override;
  Status ForEachCaseId(const std::function<bool(const std::string&)>& visit) override;
  using Store::ForEachCase;
  using Store::ForEachEvent;
  Status ForEachEvent(const CaseIdRange& range, const std::function<bool(Event&)>& visit) override;
  Status ForEachCase(const CaseIdRange& range,
                     const std::function<bool(CaseRecord&)>& visit) override;
  Result<std::optional<std::string>> CaseIdAt(int64_t index) override;
  Result<int64_t> CountCases() override;
  Result<int64_t> CountEvents() override;
  Result<std::vector<std::pair<std::string, int64_t>>> CountByStatus() override;
  Result<LightCounts> CountLights(Instant now, LightClock clock) override;
  Result<std::vector<std::string>> CasesWithUnknownLights(int limit, LightClock clock) override;
  Result<std::vector<IndicatorCount>> Indicators(const std::string& from_month,
                                                 const std::string& to_month) override;
  Result<std::vector<FactsRow>> FindCaseFacts(const FactsQuery& query) override;
  Result<std::vector<Event>> FindEvents(const EventQuery& query) override;
  StoreStats Stats() const override;

  const SqliteStoreOptions& options() const { return options_; }

 private:
  struct Connection;
  class Lease;
  struct PendingWrite {
    StoreWrite write;
    std::promise<Status> done;
  };
  // The last entry of the ledger: seq 0 and kGenesisHash while it is empty.
  struct LedgerEnd {
    int64_t seq = 0;
    std::string hash;
  };

  explicit SqliteStore(SqliteStoreOptions options);
  Status Initialize();
  Result<std::unique_ptr<Connection>> Connect(bool writer);
  std::unique_ptr<Connection> AcquireReader();
  void ReleaseReader(std::unique_ptr<Connection> connection);
  void WriterLoop();
  // The checkpoint thread: a PASSIVE checkpoint on `connection` each time OnWalCommit asks.
  void CheckpointLoop(std::unique_ptr<Connection> connection);
  // The writer connection's WAL hook (sqlite3_wal_hook), called after each commit with the
  // pages the WAL holds; `store` is this. Always SQLITE_OK: a failed checkpoint fails no commit.
  static int OnWalCommit(void* store, sqlite3* db, const char* schema, int pages);
  // Counts a checkpoint's outcome (an SQLite result code; busy is neither made nor failed).
  void CountCheckpoint(int rc);
  // Runs `batch` in one transaction of the writer connection, each StoreWrite in its savepoint;
  // (*results)[i] is the outcome of batch[i] (OK, or its refusal). Returns kUnavailable when the
  // transaction itself failed: then nothing of it is stored and `results` means nothing.
  Status RunTransaction(std::vector<std::unique_ptr<PendingWrite>>& batch,
                        std::vector<Status>* results);
  // Applies one StoreWrite inside the open savepoint; `end` is the ledger's end before it (read
  // from the file when unset) and after it.
  // What a transaction's case writes change in case_counts and light_changes, summed by row and
  // written once before COMMIT (WriteCounts): two statements per status and light instant a batch
  // touches, not four to eight per case write. Rows a write touches are written even when its
  // changes sum to zero, as adding and subtracting one by one did.
  // month, organ, item, zone
  using IndicatorKey = std::array<std::string, 4>;
  struct CountChanges {
    std::map<std::string, int64_t> by_status;
    // (key, indicator name) -> change of indicator_counts (a case's facts out and in).
    std::map<std::pair<IndicatorKey, std::string>, int64_t> indicators;
    LightCountDeltas lights;
    // Adds `delta` to the count of `status`, and its light changes (light_count_deltas.h).
    void AddCase(const std::string& status, bool lights_known, std::optional<int64_t> yellow_ms,
                 std::optional<int64_t> red_ms, int64_t delta);
    void Add(const CountChanges& other);
  };
  Status ApplyWrite(Connection& c, StoreWrite& write, std::optional<LedgerEnd>* end,
                    CountChanges* counts);
  Status ApplyCaseWrite(Connection& c, const CaseWrite& write, CountChanges* counts);
  Status WriteCounts(Connection& c, const CountChanges& counts);
  // Replaces the stored facts of a case (schema 5), moving its counters in `counts`.
  Status WriteFacts(Connection& c, const std::string& case_id, const CaseFacts& facts,
                    CountChanges* counts);
  // The case columns this file has (light instants from schema version 3).
  const char* CaseColumns() const;
  // DeployAll's statements, inside its transaction on `conn`.
  Status StoreDefinitions(Connection& conn, const std::vector<DefinitionRecord>& definitions);
  // The case whose `unique_column` (id or number) holds `value`.
  Result<std::optional<CaseRecord>> GetCaseWhere(const char* unique_column,
                                                 const std::string& value);
  Status AppendLedger(Connection& c, std::vector<LedgerEntry>& entries,
                      std::optional<LedgerEnd>* end);
  Status AttachDocuments(Connection& c, const std::vector<DocumentRecord>& documents);

  SqliteStoreOptions options_;
  std::unique_ptr<Connection> writer_;
  std::mutex readers_mutex_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;

  std::mutex queue_mutex_;
  std::condition_variable queue_cv_;
  std::deque<std::unique_ptr<PendingWrite>> queue_;
  bool stopping_ = false;
  std::thread writer_thread_;
  // Writer thread only: the end of the ledger as of the last committed transaction; unset until
  // the first ledger write and after a failed transaction (then read from the file again).
  std::optional<LedgerEnd> ledger_end_;
  // The file's schema version once open: kSchemaVersion, or older when opened read-only.
  int file_schema_version_ = 0;

  std::atomic<int64_t> commits_{0};
  std::atomic<int64_t> writes_{0};
  std::atomic<int64_t> max_batch_{0};
  std::atomic<int64_t> overloaded_{0};
  std::atomic<int64_t> queued_{0};

  // The checkpoint thread's: OnWalCommit sets checkpoint_wanted_, CheckpointLoop clears it.
  std::mutex checkpoint_mutex_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_wanted_ = false;    // guarded by checkpoint_mutex_
  bool checkpoint_stopping_ = false;  // guarded by checkpoint_mutex_
  std::thread checkpoint_thread_;
  // Checkpoints made, and those that failed (not merely busy), on either thread.
  std::atomic<int64_t> wal_checkpoints_{0};
  std::atomic<int64_t> wal_checkpoint_failures_{0};
};

}  // namespace tongban
