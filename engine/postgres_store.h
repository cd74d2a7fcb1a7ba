// PostgresStore: the Store on a PostgreSQL database, through libpq, for several Tongban nodes
// serving one province from one database (issue 12). SqliteStore (sqlite_store.h) stays the
// default; the contract is store.h's, and the same conformance tests run on both
// (store_conformance_test.cc).
//
// Several nodes, correct by construction — every rule is enforced by the database, never by a
// node's memory:
// - Optimistic concurrency: a case write locks the case's row and checks its version in the one
//   statement that updates it (UPDATE … FROM (SELECT … FOR UPDATE)); a new case is an INSERT under
//   the primary key. Of two nodes writing one case at once, the second waits for the first to
//   commit and is then refused with kAborted, as SqliteStore refuses a stale version.
// - Idempotency keys are UNIQUE (actor_id, idempotency_key) in the database: a retry that lands on
//   another node is kAlreadyExists, and FindIdempotencyKey there finds the first outcome.
// - The ledger stays one hash chain: its end lives in the row ledger_head, locked (FOR UPDATE) by
//   every transaction that appends, from its start; the next node appends after the lock is
//   released, from the end the first committed.
// - Every node sees the others' ledger entries at its next authorization decision: Registers
//   (registers.h) reads the entries after the last one it applied before each decision — one
//   indexed query on the ledger's primary key — so no notification is needed.
// - Timers fire once, and a dead node's are taken over: ClaimDueTimers (store.h) stamps the due
//   cases no live claim holds with a lease (cases.timer_claim_ms, timer_lease_ms on the
//   database's clock) in one UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED), so two nodes
//   claiming at once get disjoint cases; every write of a case ends its claim, and a node that
//   dies holding claims delays those timers by at most the lease. The version check stays what
//   makes a timer's event unique.
// - Counts (case_counts, light_changes) are kept on write in the same transaction. Their rows are
//   hot across nodes, so a transaction updates them last, in key order, once for its whole batch:
//   two transactions always lock them in the same order and cannot deadlock on them.
//
// Durability: every transaction commits with synchronous_commit=on (set on each connection), so a
// Commit() that returned OK is on PostgreSQL's disk (and on its synchronous standbys, if any).
//
// Group commit, as SqliteStore: one writer connection per store (per node) and one writer thread
// that drains the queue into one transaction, each StoreWrite in its own SAVEPOINT, so a refused
// write rolls back alone. The writer is the serial stage, and each round trip to the server waits
// on the scheduler of a busy machine: a write's statements go in one libpq pipeline
// (postgres_pipeline.h), so a write costs one round trip (a refused one two), and a batch two more
// (the counts and the ledger's head; COMMIT), three when it appends to the ledger (BEGIN with the
// head's lock first). When the transaction fails as a whole (the connection dropped, a deadlock
// with another node), each of its StoreWrites runs again alone (up to three times while the
// connection stays sound) and gets its own outcome. Readers use a pool of their own connections and
// never wait for the writer.
//
// The database going away: a connection that fails or drops, a server shutting down or starting,
// a deadlock or serialization failure is kUnavailable — the API's 503 with Retry-After — and
// nothing of the write was stored (a transaction is all or nothing: never a half-written case).
// The one exception is a connection lost during COMMIT itself: the server may have committed, and
// the kUnavailable says so; a retry with the write's idempotency key finds the first outcome.
// The store reconnects by itself, without a restart of the node:
// - the writer: a batch that finds its connection broken before it began (the server restarted
//   since the last write) begins again on a fresh connection, so the first write after a restart
//   succeeds; while no connection can be made, each batch tries once and all its writes fail at
//   once with kUnavailable (queued writes never wait on a connection of their own, nor hang);
// - readers: a read whose pooled connection turns out broken drops every idle connection of the
//   pool (all from before) and runs once more on a fresh one.
// A connection attempt gives up after connect_timeout_s (unless the connection string sets
// connect_timeout); over TCP, an open connection whose server vanished without closing it is given
// up after about a minute (TCP keepalives after 30 s idle, tcp_user_timeout 60 s; the connection
// string may set its own). A connection string libpq cannot parse is kInvalidArgument.
//
// Schema: versioned in the table tongban_schema (one row); Open() migrates an older database
// forward, each step in one transaction under LOCK TABLE tongban_schema (two nodes starting at once
// migrate once), and refuses a newer one (kFailedPrecondition). Its versions are this store's own
// (version 1 holds what SqliteStore's version 3 holds; version 2 adds cases.timer_claim_ms; version
// 3 the documents, SqliteStore's version 4; version 4 the audit tables, SqliteStore's version 5;
// version 5 the delivery lights, SqliteStore's version 6).
// Triggers refuse UPDATE and DELETE on events, ledger entries and definitions. Text keys are
// COLLATE "C", so ids sort byte-wise as in SQLite.
//
// Plain SQL: standard SQL plus these PostgreSQL features, all kept by openGauss and KingbaseES —
// SELECT … FOR UPDATE, FOR UPDATE SKIP LOCKED, UPDATE … RETURNING, UPDATE … FROM (SELECT … FOR
// UPDATE), two statements in one simple query, ALTER TABLE … ADD COLUMN, EXTRACT(EPOCH FROM
// clock_timestamp()), SAVEPOINT / ROLLBACK TO SAVEPOINT, LOCK TABLE … IN EXCLUSIVE MODE, CREATE
// TABLE IF NOT EXISTS, partial indexes, COLLATE "C", trigger functions in PL/pgSQL (CREATE TRIGGER
// … EXECUTE PROCEDURE), dollar quoting, LIMIT/OFFSET, SET synchronous_commit /
// default_transaction_read_only, and libpq's protocol (prepared statements, SQLSTATE). No
// extensions, no INSERT … ON CONFLICT … DO UPDATE (documents use ON CONFLICT DO NOTHING), no
// advisory locks, no LISTEN/NOTIFY. Pipelining is libpq's use of the extended query protocol
// (several messages before one Sync), not a feature of the server.
//
// Thread safety: all methods are thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/light_count_deltas.h"
#include "engine/store.h"

namespace tongban {

namespace postgres_store_detail {
struct Rows;
class PostgresPipeline;
}  // namespace postgres_store_detail

// True for a libpq connection URI (postgresql://… or postgres://…): what `--db` takes for
// PostgreSQL; anything else is an SQLite file's path.
bool IsPostgresConnectionString(std::string_view db);

// `base` (a URI or key=value pairs) rewritten as a postgresql:// URI whose sessions use `schema`
// alone: every parameter of `base` as a query parameter, and options=-c search_path=SCHEMA (any
// options of `base` are dropped). For tests and benchmarks that run in a throw-away schema of a
// shared database. `base` unchanged when libpq cannot parse it (Open then reports why).
std::string PostgresUriWithSchema(const std::string& base, const std::string& schema);

struct PostgresStoreOptions {
  // A libpq connection string: a URI (postgresql://user@host/db?…) or key=value pairs.
  std::string conninfo;
  bool group_commit = true;  // false: one transaction per StoreWrite
  int max_batch = 512;       // case writes per transaction at most (a bigger StoreWrite goes alone)
  bool read_only = false;    // for tools that only read (verify, replay): no migration, no writes
  // StoreWrites waiting for the writer at most; Commit() past it is kUnavailable at once. 0:
  // unbounded.
  int max_queue = 4096;
  // How long a node's claim on a due timer lasts (ClaimDueTimers), in milliseconds: the most a
  // dead node's timers wait before another node takes them over. Longer than a timer run takes.
  int timer_lease_ms = 60000;
  // Seconds a connection attempt may take, unless the connection string sets connect_timeout.
  int connect_timeout_s = 5;
};

class PostgresStore final : public Store {
 public:
  static constexpr int kSchemaVersion = 5;

  // Connects, and (unless read-only) creates or migrates the schema. Errors: kInvalidArgument for a
  // connection string libpq cannot parse; kUnavailable when the server cannot be reached;
  // kFailedPrecondition for a schema newer than this build, or read-only on a database without
  // Tongban's schema.
  static Result<std::unique_ptr<PostgresStore>> Open(const PostgresStoreOptions& options);
  // Stops accepting writes, finishes those queued, and closes every connection.
  ~PostgresStore() override;

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
  // Claims due timers for this node for timer_lease_ms (see above and store.h).
  // kFailedPrecondition on a read-only store.
  Result<std::vector<std::string>> ClaimDueTimers(Instant now, int limit) override;
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
  // Empty for kDecision: every case in a PostgreSQL database was written with its decision light
  // instants; for kDelivery, the granted cases written before version 5.
  Result<std::vector<std::string>> CasesWithUnknownLights(int limit, LightClock clock) override;
  Result<std::vector<IndicatorCount>> Indicators(const std::string& from_month,
                                                 const std::string& to_month) override;
  Result<std::vector<FactsRow>> FindCaseFacts(const FactsQuery& query) override;
  Result<std::vector<Event>> FindEvents(const EventQuery& query) override;
  StoreStats Stats() const override;

  const PostgresStoreOptions& options() const { return options_; }

 private:
  struct Connection;
  class Lease;
  // Runs one read on a reader connection leased for it alone: a scan holds no connection while its
  // visitor runs over a page.
  Result<postgres_store_detail::Rows> QueryPage(
      const std::string& sql, const std::vector<std::optional<std::string>>& params);
  struct CountDeltas;
  struct PendingWrite {
    StoreWrite write;
    std::promise<Status> done;
  };
  struct LedgerEnd {
    int64_t seq = 0;
    std::string hash;
  };

  explicit PostgresStore(PostgresStoreOptions options);
  Status Initialize();
  Result<std::unique_ptr<Connection>> Connect();
  Status Migrate(Connection& c);
  Result<std::unique_ptr<Connection>> AcquireReader();
  void ReleaseReader(std::unique_ptr<Connection> connection);
  // Closes every idle reader connection: they are all from before the connection broke.
  void DropIdleReaders();
  void WriterLoop();
  // Runs `batch` in one transaction, each StoreWrite in its savepoint; (*results)[i] is the outcome
  // of batch[i]. kUnavailable when the transaction itself failed: nothing of it is stored.
  Status RunTransaction(std::vector<std::unique_ptr<PendingWrite>>& batch,
                        std::vector<Status>* results);
  struct WritePlan;
  struct StagedWrite;
  struct CountRow;
  // Makes sure the writer has a connection (a broken one, or one left out of step, is replaced);
  // when `appends`, also begins the transaction and locks the ledger's head (*end), in one round
  // trip, on a fresh connection once more if the first broke while idle. Without `appends`,
  // RunTransaction sends BEGIN with the first write's statements.
  Status Begin(bool appends, LedgerEnd* end);
  // Queues a StoreWrite's statements on `p`: its documents, its cases (the row, the events, the
  // SELECT of the stored facts, the delegations) and its ledger entries, chained from *end (which
  // moves past them). Nothing here depends on another statement's answer.
  WritePlan QueueWrite(postgres_store_detail::PostgresPipeline& p, StoreWrite& write,
                       LedgerEnd* end);
  // Reads the answers of QueueWrite's statements in their order, and gives the write the outcome
  // that running them one by one and stopping at the first failure would. Ok: `staged` holds
  // its count changes and the case_facts writes that still follow from the facts read. A case row
  // that was not at the expected version: kAborted, with `stale` naming the case (its message
  // needs the version the row is at, read after the rollback).
  Status ReadWrite(postgres_store_detail::PostgresPipeline& p, const WritePlan& plan,
                   const StoreWrite& write, StagedWrite* staged, const CaseWrite** stale);
  // The count rows `deltas` changes, in key order (see the header's note on counts).
  static std::vector<CountRow> CountRows(const CountDeltas& deltas);
  // DeployAll's statements, inside its transaction on `c`.
  Status StoreDefinitions(Connection& c, const std::vector<DefinitionRecord>& definitions);
  Status AddToRow(Connection& c, const std::string& update, const std::string& insert,
                  const std::vector<std::optional<std::string>>& params);
  bool WriterHealthy() const;  // writer thread only

  PostgresStoreOptions options_;
  std::unique_ptr<Connection> writer_;  // writer thread only (after Initialize)
  // Count rows (CountRow::key) the writer has seen in the database: rows are never deleted, so
  // these are updated without waiting for the answer of the one before (writer thread only).
  std::set<std::string> known_count_rows_;
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
  std::atomic<int64_t> overloaded_{0};
  std::atomic<int64_t> queued_{0};
};

}  // namespace tongban
