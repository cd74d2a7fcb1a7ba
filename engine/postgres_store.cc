// PostgresStore: connecting, migrating the schema, the connection pool, and the writer thread with
// its group commit (postgres_store_detail.h lists the other files).
#include "engine/postgres_store.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <map>
#include <optional>

#include "engine/postgres_store_detail.h"

namespace tongban {

using postgres_store_detail::FromMillis;
using postgres_store_detail::Int;
using postgres_store_detail::kAttempts;
using postgres_store_detail::kCaseColumns;
using postgres_store_detail::kEventColumns;
using postgres_store_detail::kPostgresMigrations;
using postgres_store_detail::MillisOf;
using postgres_store_detail::OptionalMillis;
using postgres_store_detail::Param;
using postgres_store_detail::Params;
using postgres_store_detail::Rows;
using postgres_store_detail::ToHex;
using postgres_store_detail::ToMillis;
using postgres_store_detail::Trimmed;

bool IsPostgresConnectionString(std::string_view db) {
  return db.starts_with("postgresql://") || db.starts_with("postgres://");
}

namespace {

// Percent-encodes everything but URI's unreserved characters.
std::string UriEncode(const std::string& text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : text) {
    if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~') {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += kHex[ch >> 4];
      out += kHex[ch & 15];
    }
  }
  return out;
}

}  // namespace

std::string PostgresUriWithSchema(const std::string& base, const std::string& schema) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(base.c_str(), &error);
  if (options == nullptr) {
    PQfreemem(error);
    return base;
  }
  std::string out = "postgresql://?";
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr || std::string(o->keyword) == "options") continue;
    out += std::string(o->keyword) + "=" + UriEncode(o->val) + "&";
  }
  PQconninfoFree(options);
  return out + "options=" + UriEncode("-c search_path=" + schema);
}

namespace {
// An indicator row's key (month, organ, item, zone) as one string, '\x1f' between the parts (no
// id holds it), so that the deltas sort and merge as one map.
std::string IndicatorKey(const std::string& month, const std::string& organ,
                         const std::string& item, const std::string& zone) {
  return month + '\x1f' + organ + '\x1f' + item + '\x1f' + zone;
}
std::array<std::string, 4> SplitIndicatorKey(const std::string& key) {
  std::array<std::string, 4> parts;
  size_t start = 0;
  for (size_t i = 0; i < 4; ++i) {
    const size_t end = i == 3 ? key.size() : key.find('\x1f', start);
    parts[i] = key.substr(start, end - start);
    start = end + 1;
  }
  return parts;
}
}  // namespace

// Count changes of a transaction, applied once at its end in key order (see the header).
struct PostgresStore::CountDeltas {
  std::map<std::string, int64_t> statuses;
  // (IndicatorKey, indicator name) -> change of indicator_counts.
  std::map<std::pair<std::string, std::string>, int64_t> indicators;
  LightCountDeltas lights;

  void AddCase(const std::string& status, bool lights_known, std::optional<int64_t> yellow_ms,
               std::optional<int64_t> red_ms, int64_t delta) {
    statuses[status] += delta;
    lights.AddCase(status, lights_known, yellow_ms, red_ms, delta);
  }
  void Merge(const CountDeltas& other) {
    for (const auto& [status, n] : other.statuses)
      statuses[status] += n;
    for (const auto& [key, n] : other.indicators)
      indicators[key] += n;
    lights.Merge(other.lights);
  }
};

PostgresStore::PostgresStore(PostgresStoreOptions options) : options_(std::move(options)) {}

Result<std::unique_ptr<PostgresStore>> PostgresStore::Open(const PostgresStoreOptions& options) {
  std::unique_ptr<PostgresStore> store(new PostgresStore(options));
  TONGBAN_RETURN_IF_ERROR(store->Initialize());
  return store;
}

Result<std::unique_ptr<PostgresStore::Connection>> PostgresStore::Connect() {
  auto c = std::make_unique<Connection>();
  // Defaults before the connection string, which may set its own. connect_timeout: a server that
  // does not answer (a host down, packets dropped) fails the attempt in seconds rather than after
  // the system's TCP timeout. Keepalives and tcp_user_timeout do the same for a connection already
  // open (over TCP; a Unix socket ignores them): a server that vanished without closing it is
  // noticed in about a minute and answered 503, instead of a request hanging for the kernel's two
  // hours. No statement_timeout: a verification or a checkpoint streams every event in one
  // statement and may rightly take minutes.
  const std::string timeout = std::to_string(std::max(1, options_.connect_timeout_s));
  const char* keywords[] = {
      "connect_timeout",  "keepalives",       "keepalives_idle", "keepalives_interval",
      "keepalives_count", "tcp_user_timeout", "dbname",          nullptr};
  const char* values[] = {timeout.c_str(),           "1",    "30", "10", "3", "60000",
                          options_.conninfo.c_str(), nullptr};
  c->conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (c->conn == nullptr) return Status::Unavailable("postgresql: out of memory");
  if (PQstatus(c->conn) != CONNECTION_OK) {
    return Status::Unavailable("postgresql: cannot connect: " + Trimmed(PQerrorMessage(c->conn)));
  }
  // The server's notices ("relation already exists, skipping") are not for the node's log.
  PQsetNoticeProcessor(
      c->conn, [](void*, const char*) {}, nullptr);
  // Durability is the server's: a commit returns once its WAL is flushed, whatever the server's
  // default. Read-only tools cannot write by mistake.
  TONGBAN_RETURN_IF_ERROR(c->Run("SET synchronous_commit = on"));
  if (options_.read_only) {
    TONGBAN_RETURN_IF_ERROR(c->Run("SET default_transaction_read_only = on"));
  }
  return c;
}

Status PostgresStore::Initialize() {
  // A string libpq cannot parse is the caller's mistake, not an outage.
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(options_.conninfo.c_str(), &error);
  if (parsed == nullptr) {
    std::string message = error != nullptr ? Trimmed(error) : "out of memory";
    PQfreemem(error);
    return Status::InvalidArgument("bad PostgreSQL connection string: " + message);
  }
  PQconninfoFree(parsed);
  auto first = Connect();
  if (!first.ok()) return first.status();
  Connection& c = **first;
  if (options_.read_only) {
    auto version = c.Query("SELECT version FROM tongban_schema WHERE id = 1");
    if (!version.ok() || version->size() == 0) {
      return Status::FailedPrecondition("not a tongban database (no schema version): " +
                                        (version.ok() ? "" : version.status().message()));
    }
    if (version->Int(0, 0) > kSchemaVersion) {
      return Status::FailedPrecondition(
          "database schema version " + std::to_string(version->Int(0, 0)) +
          " is newer than this tongban understands (" + std::to_string(kSchemaVersion) + ")");
    }
    ReleaseReader(std::move(first).value());
    return Status::Ok();
  }
  TONGBAN_RETURN_IF_ERROR(Migrate(c));
  writer_ = std::move(first).value();
  writer_thread_ = std::thread([this] { WriterLoop(); });
  return Status::Ok();
}

Status PostgresStore::Migrate(Connection& c) {
  // Two nodes creating the table at once: one of them fails on the catalog's unique index, and
  // then finds the table made.
  const char* create =
      "CREATE TABLE IF NOT EXISTS tongban_schema (id INTEGER PRIMARY KEY CHECK (id = 1), "
      "version INTEGER NOT NULL)";
  if (!c.Run(create).ok()) TONGBAN_RETURN_IF_ERROR(c.Run(create));
  int version = 0;
  do {
    TONGBAN_RETURN_IF_ERROR(c.Run("BEGIN"));
    // Serialises migrations of several nodes; readers of the table are not blocked.
    Status step = c.Run("LOCK TABLE tongban_schema IN EXCLUSIVE MODE");
    auto read =
        step.ok() ? c.Query("SELECT version FROM tongban_schema WHERE id = 1") : Result<Rows>(step);
    if (read.ok()) {
      version = read->size() == 0 ? 0 : static_cast<int>(read->Int(0, 0));
      if (version > kSchemaVersion) {
        step = Status::FailedPrecondition("database schema version " + std::to_string(version) +
                                          " is newer than this tongban understands (" +
                                          std::to_string(kSchemaVersion) + ")");
      } else if (version < kSchemaVersion) {
        step = c.Run(kPostgresMigrations[version]);
        if (step.ok()) {
          auto set =
              c.Query(version == 0 ? "INSERT INTO tongban_schema (id, version) VALUES (1, $1)"
                                   : "UPDATE tongban_schema SET version = $1 WHERE id = 1",
                      {Int(version + 1)});
          step = set.status();
        }
        if (!step.ok()) {
          step = Status(step.code() == StatusCode::kUnavailable ? StatusCode::kUnavailable
                                                                : StatusCode::kInternal,
                        "migrating the schema to version " + std::to_string(version + 1) +
                            " failed: " + step.message());
        }
        ++version;
      }
    } else {
      step = read.status();
    }
    if (!step.ok()) {
      (void)c.Run("ROLLBACK");
      return step;
    }
    TONGBAN_RETURN_IF_ERROR(c.Run("COMMIT"));
  } while (version < kSchemaVersion);
  return Status::Ok();
}

PostgresStore::~PostgresStore() {
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_thread_.joinable()) writer_thread_.join();
}

Result<std::unique_ptr<PostgresStore::Connection>> PostgresStore::AcquireReader() {
  {
    std::lock_guard<std::mutex> lock(readers_mutex_);
    if (!idle_readers_.empty()) {
      auto c = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return c;
    }
  }
  return Connect();
}

void PostgresStore::DropIdleReaders() {
  std::vector<std::unique_ptr<Connection>> dropped;
  {
    std::lock_guard<std::mutex> lock(readers_mutex_);
    dropped.swap(idle_readers_);
  }
}

void PostgresStore::ReleaseReader(std::unique_ptr<Connection> connection) {
  // A connection that failed (the server restarted, a read was cut short) is not reused.
  if (!connection->healthy()) return;
  std::lock_guard<std::mutex> lock(readers_mutex_);
  if (idle_readers_.size() < 64) idle_readers_.push_back(std::move(connection));
}

// ---- Writes -------------------------------------------------------------------------------------

Status PostgresStore::Commit(StoreWrite write) {
  if (options_.read_only) return Status::FailedPrecondition("the store is open read-only");
  if (write.cases.empty() && write.ledger.empty() && write.documents.empty()) return Status::Ok();
  auto pending = std::make_unique<PendingWrite>();
  pending->write = std::move(write);
  std::future<Status> done = pending->done.get_future();
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    if (stopping_) return Status::Unavailable("the store is shutting down");
    if (options_.max_queue > 0 && queue_.size() >= static_cast<size_t>(options_.max_queue)) {
      overloaded_.fetch_add(1);
      return Status::Unavailable("the store is overloaded: " + std::to_string(queue_.size()) +
                                 " writes are waiting; try again shortly");
    }
    queue_.push_back(std::move(pending));
    queued_.store(static_cast<int64_t>(queue_.size()));
  }
  queue_cv_.notify_one();
  return done.get();
}

void PostgresStore::WriterLoop() {
  while (true) {
    std::vector<std::unique_ptr<PendingWrite>> batch;
    {
      std::unique_lock<std::mutex> lock(queue_mutex_);
      queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      size_t weight = 0;
      const size_t limit = static_cast<size_t>(std::max(1, options_.max_batch));
      while (!queue_.empty()) {
        const size_t next = std::max<size_t>(1, queue_.front()->write.cases.size());
        if (!batch.empty() && (!options_.group_commit || weight + next > limit)) break;
        weight += next;
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      queued_.store(static_cast<int64_t>(queue_.size()));
    }
    std::vector<Status> results;
    Status failed = RunTransaction(batch, &results);
    if (!failed.ok() && !WriterHealthy()) {
      // The connection is lost (the server went away or is restarting) and could not be made
      // again: no write of the batch can be stored now, and none waits for a connection attempt
      // of its own. All fail at once (kUnavailable); the next batch connects again.
      results.assign(batch.size(), failed);
    } else if (!failed.ok()) {
      // The transaction failed as a whole (a deadlock with another node, a failure of the
      // server): each write again alone, so that each gets its own outcome; a write that lost a
      // race with another node (the connection still sound) is tried again, a few times.
      results.assign(batch.size(), Status::Ok());
      for (size_t i = 0; i < batch.size(); ++i) {
        std::vector<std::unique_ptr<PendingWrite>> one;
        one.push_back(std::move(batch[i]));
        Status alone = failed;
        std::vector<Status> result;
        for (int attempt = batch.size() > 1 ? 0 : 1; attempt < kAttempts; ++attempt) {
          if (attempt > 0 && !WriterHealthy()) break;
          alone = RunTransaction(one, &result);
          if (alone.ok()) break;
        }
        results[i] = alone.ok() ? result[0] : alone;
        batch[i] = std::move(one[0]);
      }
    }
    for (size_t i = 0; i < batch.size(); ++i)
      batch[i]->done.set_value(results[i]);
  }
}

bool PostgresStore::WriterHealthy() const {
  return writer_ != nullptr && PQstatus(writer_->conn) == CONNECTION_OK;
}

Status PostgresStore::RunTransaction(std::vector<std::unique_ptr<PendingWrite>>& batch,
                                     std::vector<Status>* results) {
  results->assign(batch.size(), Status::Ok());
  if (writer_ == nullptr || PQstatus(writer_->conn) != CONNECTION_OK) {
    // Lost (the server restarted): connect again, or this batch is unavailable.
    auto again = Connect();
    if (!again.ok()) return again.status();
    writer_ = std::move(again).value();
  }
  Status begun = writer_->Run("BEGIN");
  if (!begun.ok() && begun.code() == StatusCode::kUnavailable) {
    // The connection broke while idle (the server restarted since the last write): nothing of
    // the batch was sent, so it begins again on a fresh connection.
    auto again = Connect();
    if (!again.ok()) return again.status();
    writer_ = std::move(again).value();
    begun = writer_->Run("BEGIN");
  }
  TONGBAN_RETURN_IF_ERROR(begun);
  Connection& c = *writer_;
  const bool appends = std::any_of(batch.begin(), batch.end(),
                                   [](const auto& p) { return !p->write.ledger.empty(); });
  Status broken = Status::Ok();
  LedgerEnd end;
  LedgerEnd start;
  if (appends) {
    // Locked first, before any case row: every appending transaction takes its locks in this
    // order, so two nodes never deadlock over the ledger.
    auto head = c.Query("SELECT seq, hash FROM ledger_head WHERE id = 1 FOR UPDATE");
    if (!head.ok()) {
      broken = head.status();
    } else if (head->size() != 1) {
      broken = Status::DataLoss("the ledger's head row is missing");
    } else {
      end = {head->Int(0, 0), head->Text(0, 1)};
      start = end;
    }
  }
  CountDeltas counts;
  int64_t committed_writes = 0;
  int64_t batch_writes = 0;
  // Each StoreWrite runs inside the savepoint "write", so that a refused one rolls back alone. To
  // save round trips (the writer is the one serial stage), a write's RELEASE and the next one's
  // SAVEPOINT go as one simple query, a savepoint rolled back to is kept for the next write, and
  // the last one is left for COMMIT to release.
  bool savepoint_open = false;
  for (size_t i = 0; i < batch.size() && broken.ok(); ++i) {
    StoreWrite& write = batch[i]->write;
    batch_writes += static_cast<int64_t>(write.cases.size());
    const LedgerEnd before = end;
    Status s = savepoint_open ? Status::Ok() : c.Run("SAVEPOINT write");
    if (!s.ok()) {
      broken = s;
      break;
    }
    savepoint_open = true;
    CountDeltas deltas;
    if (!write.documents.empty()) s = AttachDocuments(c, write.documents);
    for (const CaseWrite& w : write.cases) {
      if (!s.ok()) break;
      s = ApplyCaseWrite(c, w, &deltas);
      if (!s.ok()) break;
    }
    if (s.ok() && !write.ledger.empty()) s = AppendLedger(c, write.ledger, &end);
    const bool last = i + 1 == batch.size();
    if (s.ok() && !last) s = c.Run("RELEASE SAVEPOINT write; SAVEPOINT write");
    if (s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDataLoss) {
      broken = s;  // not this write's fault: the transaction fails
      break;
    }
    if (s.ok()) {
      committed_writes += static_cast<int64_t>(write.cases.size());
      counts.Merge(deltas);
    } else {
      end = before;  // the refused write's entries consume no seq
      Status undone = c.Run("ROLLBACK TO SAVEPOINT write");
      if (!undone.ok()) broken = undone;
    }
    (*results)[i] = s;
  }
  if (broken.ok()) broken = ApplyCounts(c, counts);
  if (broken.ok() && end.seq != start.seq) {
    auto moved = c.Query("UPDATE ledger_head SET seq = $1, hash = $2 WHERE id = 1",
                         {Int(end.seq), end.hash});
    broken = moved.status();
  }
  const bool committing = broken.ok();
  Status commit = committing ? c.Run("COMMIT") : broken;
  if (!commit.ok()) {
    if (PQstatus(c.conn) == CONNECTION_OK && PQtransactionStatus(c.conn) != PQTRANS_IDLE) {
      (void)c.Run("ROLLBACK");
    }
    if (committing && PQstatus(c.conn) != CONNECTION_OK) {
      // The connection broke while COMMIT was under way: the server may have committed before
      // its answer was lost. Still kUnavailable (the caller may try again; a retry with the same
      // idempotency key finds the first outcome), but not "nothing was stored".
      return Status::Unavailable(
          "the connection to PostgreSQL was lost during COMMIT; the write "
          "may or may not be stored: " +
          commit.message());
    }
    return Status::Unavailable("commit failed, nothing was stored: " + commit.message());
  }
  commits_.fetch_add(1);
  writes_.fetch_add(committed_writes);
  int64_t previous = max_batch_.load();
  while (batch_writes > previous && !max_batch_.compare_exchange_weak(previous, batch_writes)) {
  }
  return Status::Ok();
}

Status PostgresStore::ApplyCaseWrite(Connection& c, const CaseWrite& w, CountDeltas* deltas) {
  const CaseRecord& r = w.record;
  const Param yellow = OptionalMillis(r.yellow_at);
  const Param red = OptionalMillis(r.red_at);
  const Param lights_known = r.lights_known ? "true" : "false";
  const Param timer = OptionalMillis(r.next_timer_at);
  if (w.expected_version == 0) {
    // A new case: the primary key decides between two nodes creating it at once (the second waits
    // for the first to commit, then fails here).
    auto inserted = c.Query(
        std::string("INSERT INTO cases (") + kCaseColumns +
            ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17)",
        {r.id, r.number, r.query_code, r.definition_id, Int(r.definition_version), r.status, r.step,
         r.applicant_id, r.organ_id, Int(ToMillis(r.created_at)), Int(ToMillis(r.updated_at)),
         Int(r.version), timer, r.snapshot, yellow, red, lights_known});
    if (!inserted.ok()) {
      if (inserted.status().code() == StatusCode::kAlreadyExists && c.violated == "cases_pkey") {
        return Status::Aborted("case " + r.id + " exists already, not at version 0");
      }
      return inserted.status();
    }
  } else {
    // One round trip: the row is locked (FOR UPDATE) at the expected version and updated, and
    // its old counts' keys come back. The lock makes a concurrent writer of this case wait; when
    // the first commits, the second's FOR UPDATE sees the committed version, no longer the
    // expected one, and updates nothing.
    auto updated = c.Query(
        "UPDATE cases AS c SET status = $2, step = $3, updated_ms = $4, version = $5, "
        "next_timer_ms = $6, snapshot = $7, yellow_ms = $8, red_ms = $9, timer_claim_ms = NULL, "
        "lights_known = $11 "
        "FROM (SELECT id, status, yellow_ms, red_ms, lights_known FROM cases WHERE id = $1 AND "
        "version = $10 FOR UPDATE) AS old WHERE c.id = old.id "
        "RETURNING old.status, old.yellow_ms, old.red_ms, old.lights_known",
        {r.id, r.status, r.step, Int(ToMillis(r.updated_at)), Int(r.version), timer, r.snapshot,
         yellow, red, Int(w.expected_version), lights_known});
    if (!updated.ok()) return updated.status();
    if (updated->size() == 0) {
      // Refused (rare): which version the case is at, for the message.
      auto current = c.Query("SELECT version FROM cases WHERE id = $1", {r.id});
      if (!current.ok()) return current.status();
      const int64_t version = current->size() == 0 ? 0 : current->Int(0, 0);
      return Status::Aborted("case " + r.id + " is at version " + std::to_string(version) +
                             ", not " + std::to_string(w.expected_version));
    }
    deltas->AddCase(updated->Text(0, 0), updated->Bool(0, 3), updated->OptionalInt(0, 1),
                    updated->OptionalInt(0, 2), -1);
  }
  for (const Event& e : w.events) {
    auto inserted = c.Query(
        std::string("INSERT INTO events (") + kEventColumns +
            ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)",
        {e.case_id, Int(e.seq), Int(ToMillis(e.time)), e.actor.id, e.actor.role, e.actor.organ,
         e.action, e.data, e.status, e.step, e.definition_id, Int(e.definition_version),
         e.prev_hash, e.hash, e.idempotency_key.empty() ? Param() : Param(e.idempotency_key)});
    if (inserted.ok()) continue;
    if (inserted.status().code() == StatusCode::kAlreadyExists) {
      if (c.violated == "events_idempotency") {
        return Status::AlreadyExists("idempotency key already used: " + e.idempotency_key);
      }
      if (c.violated == "events_pkey") {
        return Status::Aborted("case " + e.case_id + " already has event " + std::to_string(e.seq));
      }
    }
    return inserted.status();
  }
  deltas->AddCase(r.status, r.lights_known, MillisOf(r.yellow_at), MillisOf(r.red_at), +1);
  if (r.facts) TONGBAN_RETURN_IF_ERROR(WriteFacts(c, r.id, *r.facts, deltas));
  for (const auto& [event_seq, delegation] : w.delegations) {
    // A copy: clang 14 does not let a lambda capture a structured binding.
    const int64_t seq = event_seq;
    const auto event = std::find_if(w.events.begin(), w.events.end(),
                                    [&](const Event& e) { return e.seq == seq; });
    if (event == w.events.end()) continue;
    auto inserted = c.Query(
        "INSERT INTO delegated_events (delegation_id, time_ms, case_id, seq) "
        "VALUES ($1, $2, $3, $4)",
        {delegation, Int(ToMillis(event->time)), r.id, Int(seq)});
    if (!inserted.ok()) return inserted.status();
  }
  return Status::Ok();
}

// Under the case row's lock (or the new case's key), so no other node changes these facts now.
Status PostgresStore::WriteFacts(Connection& c, const std::string& case_id, const CaseFacts& facts,
                                 CountDeltas* deltas) {
  auto old = c.Query(
      "SELECT month, organ, item, zone, applied_ms, decided_ms, late_statutory, late_promised, "
      "counters FROM case_facts WHERE case_id = $1",
      {case_id});
  if (!old.ok()) return old.status();
  if (old->size() > 0) {
    CaseFacts stored;
    stored.month = old->Text(0, 0);
    stored.organ = old->Text(0, 1);
    stored.item = old->Text(0, 2);
    stored.zone = old->Text(0, 3);
    stored.applied_at = FromMillis(old->Int(0, 4));
    if (auto decided = old->OptionalInt(0, 5)) stored.decided_at = FromMillis(*decided);
    stored.late_statutory = old->Int(0, 6) != 0;
    stored.late_promised = old->Int(0, 7) != 0;
    stored.counters = DecodeCounters(old->Text(0, 8));
    // Most transitions (a review step's pass, a delivery) leave the facts as they were: no write,
    // and no round trip to the server for it.
    if (stored == facts) return Status::Ok();
    const std::string key = IndicatorKey(stored.month, stored.organ, stored.item, stored.zone);
    for (const auto& [name, value] : stored.counters)
      deltas->indicators[{key, name}] -= value;
  }
  const std::string key = IndicatorKey(facts.month, facts.organ, facts.item, facts.zone);
  for (const auto& [name, value] : facts.counters)
    deltas->indicators[{key, name}] += value;
  const Params params = {case_id,
                         facts.month,
                         facts.organ,
                         facts.item,
                         facts.zone,
                         Int(ToMillis(facts.applied_at)),
                         OptionalMillis(facts.decided_at),
                         Int(facts.late_statutory ? 1 : 0),
                         Int(facts.late_promised ? 1 : 0),
                         EncodeCounters(facts.counters)};
  if (old->size() > 0) {
    auto updated = c.Query(
        "UPDATE case_facts SET month = $2, organ = $3, item = $4, zone = $5, applied_ms = $6, "
        "decided_ms = $7, late_statutory = $8, late_promised = $9, counters = $10 "
        "WHERE case_id = $1",
        params);
    return updated.status();
  }
  auto inserted = c.Query(
      "INSERT INTO case_facts (case_id, month, organ, item, zone, applied_ms, decided_ms, "
      "late_statutory, late_promised, counters) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
      params);
  return inserted.status();
}

Status PostgresStore::AppendLedger(Connection& c, std::vector<LedgerEntry>& entries,
                                   LedgerEnd* end) {
  for (LedgerEntry& e : entries) {
    e.seq = end->seq + 1;
    e.prev_hash = end->hash;
    e.hash = ComputeLedgerHash(e);
    auto inserted = c.Query(
        "INSERT INTO ledger (seq, time_ms, actor_id, actor_role, actor_organ, actor_name, kind, "
        "subject, data, prev_hash, hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
        {Int(e.seq), Int(ToMillis(e.time)), e.actor.id, e.actor.role, e.actor.organ, e.actor.name,
         e.kind, e.subject, e.data, e.prev_hash, e.hash});
    if (!inserted.ok()) {
      // Under the head's lock no other writer appends: a clash means someone wrote the table
      // around the store.
      return Status(inserted.status().code() == StatusCode::kUnavailable ? StatusCode::kUnavailable
                                                                         : StatusCode::kInternal,
                    "appending ledger entry " + std::to_string(e.seq) +
                        " failed: " + inserted.status().message());
    }
    *end = {e.seq, e.hash};
  }
  return Status::Ok();
}

Status PostgresStore::ApplyCounts(Connection& c, const CountDeltas& deltas) {
  for (const auto& [status, n] : deltas.statuses) {
    if (n == 0) continue;
    TONGBAN_RETURN_IF_ERROR(AddToRow(c, "UPDATE case_counts SET n = n + $2 WHERE status = $1",
                                     "INSERT INTO case_counts (status, n) VALUES ($1, $2)",
                                     {status, Int(n)}));
  }
  for (const auto& [at, change] : deltas.lights.decision) {
    if (change.yellow == 0 && change.red == 0) continue;
    TONGBAN_RETURN_IF_ERROR(AddToRow(
        c, "UPDATE light_changes SET yellow = yellow + $2, red = red + $3 WHERE at_ms = $1",
        "INSERT INTO light_changes (at_ms, yellow, red) VALUES ($1, $2, $3)",
        {Int(at), Int(change.yellow), Int(change.red)}));
  }
  for (const auto& [at, change] : deltas.lights.delivery) {
    if (change.waiting == 0 && change.yellow == 0 && change.red == 0) continue;
    TONGBAN_RETURN_IF_ERROR(
        AddToRow(c,
                 "UPDATE delivery_light_changes SET waiting = waiting + $2, "
                 "yellow = yellow + $3, red = red + $4 WHERE at_ms = $1",
                 "INSERT INTO delivery_light_changes (at_ms, waiting, yellow, "
                 "red) VALUES ($1, $2, $3, $4)",
                 {Int(at), Int(change.waiting), Int(change.yellow), Int(change.red)}));
  }
  for (const auto& [key, n] : deltas.indicators) {
    if (n == 0) continue;
    const auto [month, organ, item, zone] = SplitIndicatorKey(key.first);
    TONGBAN_RETURN_IF_ERROR(AddToRow(
        c,
        "UPDATE indicator_counts SET n = n + $6 WHERE month = $1 AND organ = $2 AND item = $3 "
        "AND zone = $4 AND name = $5",
        "INSERT INTO indicator_counts (month, organ, item, zone, name, n) "
        "VALUES ($1, $2, $3, $4, $5, $6)",
        {month, organ, item, zone, key.second, Int(n)}));
  }
  return Status::Ok();
}

// Adds to a count row: UPDATE, and INSERT when there was no row. Another node inserting the same
// new row at once makes the INSERT wait for it and then fail on the key: then the row exists, and
// the UPDATE runs again (the savepoint keeps the transaction usable).
Status PostgresStore::AddToRow(Connection& c, const std::string& update, const std::string& insert,
                               const std::vector<std::optional<std::string>>& params) {
  auto updated = c.Query(update, params);
  if (!updated.ok()) return updated.status();
  if (updated->Affected() > 0) return Status::Ok();
  TONGBAN_RETURN_IF_ERROR(c.Run("SAVEPOINT add_row"));
  auto inserted = c.Query(insert, params);
  if (inserted.ok()) return c.Run("RELEASE SAVEPOINT add_row");
  if (inserted.status().code() != StatusCode::kAlreadyExists) return inserted.status();
  TONGBAN_RETURN_IF_ERROR(c.Run("ROLLBACK TO SAVEPOINT add_row"));
  TONGBAN_RETURN_IF_ERROR(c.Run("RELEASE SAVEPOINT add_row"));
  auto again = c.Query(update, params);
  if (!again.ok()) return again.status();
  if (again->Affected() != 1) return Status::Unavailable("a count row vanished; try again");
  return Status::Ok();
}

Status PostgresStore::DeployAll(const std::vector<DefinitionRecord>& definitions) {
  if (options_.read_only) return Status::FailedPrecondition("the store is open read-only");
  TONGBAN_PG_LEASE(lease);
  Connection& c = *lease.get();
  // Two nodes starting at once deploy the same records: the one that inserts second fails on the
  // primary key (its transaction is then void), and its next attempt finds them stored.
  Status stored = Status::Ok();
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    TONGBAN_RETURN_IF_ERROR(c.Run("BEGIN"));
    stored = StoreDefinitions(c, definitions);
    if (stored.ok()) stored = c.Run("COMMIT");
    if (stored.ok()) return stored;
    (void)c.Run("ROLLBACK");
    if (stored.code() != StatusCode::kAlreadyExists || c.violated != "definitions_pkey") break;
  }
  return stored;
}

Status PostgresStore::StoreDefinitions(Connection& c,
                                       const std::vector<DefinitionRecord>& definitions) {
  for (const DefinitionRecord& d : definitions) {
    auto existing =
        c.Query("SELECT content_hash FROM definitions WHERE kind = $1 AND id = $2 AND version = $3",
                {d.kind, d.id, Int(d.version)});
    if (!existing.ok()) return existing.status();
    if (existing->size() > 0) {
      if (existing->Text(0, 0) == d.content_hash) continue;
      c.violated.clear();  // not the race above: a real clash
      return Status::AlreadyExists(d.kind + " \"" + d.id + "\" version " +
                                   std::to_string(d.version) +
                                   " is already deployed with other content; deploy a new version");
    }
    auto inserted = c.Query(
        "INSERT INTO definitions (kind, id, version, content_hash, text, deployed_ms) "
        "VALUES ($1,$2,$3,$4,$5,$6)",
        {d.kind, d.id, Int(d.version), d.content_hash, d.text, Int(ToMillis(d.deployed_at))});
    if (!inserted.ok()) return inserted.status();
  }
  return Status::Ok();
}

Status PostgresStore::AttachDocuments(Connection& c, const std::vector<DocumentRecord>& documents) {
  for (const DocumentRecord& d : documents) {
    auto stored = c.Query(
        "INSERT INTO documents (hash, size, content) VALUES ($1, $2, decode($3, 'hex')) "
        "ON CONFLICT (hash) DO NOTHING",
        {d.hash, Int(static_cast<int64_t>(d.content.size())), ToHex(d.content)});
    if (!stored.ok()) return stored.status();
    auto attached = c.Query(
        "INSERT INTO case_documents (case_id, hash, media_type, name, kind, attached_ms, "
        "attached_by) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (case_id, hash) DO NOTHING",
        {d.case_id, d.hash, d.media_type, d.name, d.kind, Int(ToMillis(d.attached_at)),
         d.attached_by});
    if (!attached.ok()) return attached.status();
  }
  return Status::Ok();
}

StoreStats PostgresStore::Stats() const {
  return StoreStats{commits_.load(), writes_.load(), max_batch_.load(), overloaded_.load(),
                    queued_.load()};
}

}  // namespace tongban
