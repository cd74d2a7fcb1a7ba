// PostgresStore: connecting, migrating the schema, the connection pool, and the writer thread with
// its group commit (postgres_store_detail.h lists the other files).
#include "engine/postgres_store.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <map>
#include <optional>

#include "engine/postgres_pipeline.h"
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
using postgres_store_detail::PipelineAnswer;
using postgres_store_detail::PostgresPipeline;
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

// A write whose statements all succeeded, inside the savepoint "write", which is not released yet:
// its case_facts writes (they follow from the facts its pipeline read) go at the head of the next
// pipeline, before the RELEASE, so they cost no round trip of their own. It is counted only once
// they succeeded; if they fail, it is refused alone like any write.
struct PostgresStore::StagedWrite {
  size_t index = 0;  // in the batch
  CountDeltas deltas;
  LedgerEnd before;  // the ledger's end before its entries
  std::vector<std::pair<std::string, Params>> facts;
};

// Where a StoreWrite's statements are in its pipeline (QueueWrite).
struct PostgresStore::WritePlan {
  struct Case {
    size_t row = 0;               // its INSERT or UPDATE
    size_t events = 0;            // its events' INSERTs, in order, from here
    std::optional<size_t> facts;  // the SELECT of its stored facts
    size_t delegations = 0;       // its delegated_events INSERTs, from here
    size_t delegations_end = 0;
  };
  size_t documents = 0;  // the documents' two statements each, from here
  std::vector<Case> cases;
  size_t ledger = 0;  // the ledger entries' INSERTs, one each, from here
};

// One count row to add to: UPDATE, and when no row was there, INSERT (AddToRow).
struct PostgresStore::CountRow {
  std::string key;  // the table and the row's key: known_count_rows_'s entry
  std::string update;
  std::string insert;
  Params params;
};

Status PostgresStore::Begin(bool appends, LedgerEnd* end) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (writer_ == nullptr || PQstatus(writer_->conn) != CONNECTION_OK ||
        PQpipelineStatus(writer_->conn) != PQ_PIPELINE_OFF) {
      // Lost (the server restarted), or left out of step by a pipeline that broke: connect again,
      // or this batch is unavailable.
      auto again = Connect();
      if (!again.ok()) return again.status();
      writer_ = std::move(again).value();
    }
    // Without the head, BEGIN goes with the first write's statements (RunTransaction).
    if (!appends) return Status::Ok();
    Connection& c = *writer_;
    PostgresPipeline p(c.conn, &c.prepared);
    p.Add("BEGIN");
    // Locked first, before any case row: every appending transaction takes its locks in this
    // order, so two nodes never deadlock over the ledger.
    p.Add("SELECT seq, hash FROM ledger_head WHERE id = 1 FOR UPDATE");
    (void)p.Run();
    const Status begun = p.answer(0).status;
    if (!begun.ok()) {
      if (begun.code() != StatusCode::kUnavailable || attempt > 0) return begun;
      // The connection broke while idle (the server restarted since the last write): nothing of
      // the batch was sent, so it begins again on a fresh connection.
      writer_.reset();
      continue;
    }
    PipelineAnswer& head = p.answer(1);
    if (!head.status.ok()) return head.status;
    if (head.rows.size() != 1) return Status::DataLoss("the ledger's head row is missing");
    *end = {head.rows.Int(0, 0), head.rows.Text(0, 1)};
    return Status::Ok();
  }
  return Status::Unavailable("postgresql: cannot begin a transaction");
}

Status PostgresStore::RunTransaction(std::vector<std::unique_ptr<PendingWrite>>& batch,
                                     std::vector<Status>* results) {
  results->assign(batch.size(), Status::Ok());
  const bool appends = std::any_of(batch.begin(), batch.end(),
                                   [](const auto& p) { return !p->write.ledger.empty(); });
  LedgerEnd end;
  Status broken = Begin(appends, &end);
  if (!broken.ok() && (writer_ == nullptr || PQtransactionStatus(writer_->conn) == PQTRANS_IDLE)) {
    return broken;  // not begun: nothing to roll back
  }
  // Unless the ledger's head had to be read first, BEGIN goes with the first write's statements:
  // one round trip less per batch, and on a busy machine each costs about a millisecond.
  bool beginning = !appends;
  bool reconnected = false;
  Connection* c = writer_.get();
  const LedgerEnd start = end;
  CountDeltas counts;
  int64_t committed_writes = 0;
  int64_t batch_writes = 0;
  for (const auto& pending : batch)
    batch_writes += static_cast<int64_t>(pending->write.cases.size());
  // Each StoreWrite runs inside the savepoint "write", so that a refused one rolls back alone. The
  // writer is the one serial stage, so each write costs one round trip: its statements go in one
  // pipeline (they do not depend on each other's answers), headed by what the write before still
  // needs — its case_facts writes, its RELEASE and this write's SAVEPOINT. A savepoint rolled back
  // to is kept for the next write, and the last one is left for COMMIT to release.
  std::optional<StagedWrite> staged;
  bool savepoint_open = false;
  // Settles the staged write by the answers [0, to) of `p`: counted when they all succeeded;
  // else refused and rolled back alone (or the transaction broke), and false: then nothing after
  // them in `p` ran.
  auto settle = [&](PostgresPipeline& p, size_t to) {
    if (!staged) return true;
    const Status s = p.FirstFailure(0, to);
    if (s.ok()) {
      committed_writes += static_cast<int64_t>(batch[staged->index]->write.cases.size());
      counts.Merge(staged->deltas);
      staged.reset();
      return true;
    }
    if (s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDataLoss) {
      broken = s;
      return false;
    }
    end = staged->before;  // the refused write's entries consume no seq
    (*results)[staged->index] = s;
    staged.reset();
    const Status undone = c->Run("ROLLBACK TO SAVEPOINT write");
    if (!undone.ok()) broken = undone;
    return false;
  };
  for (size_t i = 0; i < batch.size() && broken.ok();) {
    StoreWrite& write = batch[i]->write;
    PostgresPipeline p(c->conn, &c->prepared);
    if (beginning) p.Add("BEGIN");
    if (staged) {
      for (const auto& [sql, params] : staged->facts)
        p.Add(sql, params);
      p.Add("RELEASE SAVEPOINT write");
      p.Add("SAVEPOINT write");
    } else if (!savepoint_open) {
      p.Add("SAVEPOINT write");
    }
    const size_t head = p.size();
    const LedgerEnd before = end;
    const WritePlan plan = QueueWrite(p, write, &end);
    (void)p.Run();
    if (beginning) {
      const Status begun = p.answer(0).status;
      if (!begun.ok()) {
        // Not begun, so nothing to roll back. A connection that broke while idle (the server
        // restarted since the last batch) is replaced once, and the batch begins again.
        if (begun.code() != StatusCode::kUnavailable || reconnected) return begun;
        reconnected = true;
        writer_.reset();
        TONGBAN_RETURN_IF_ERROR(Begin(false, &end));
        c = writer_.get();
        end = before;
        continue;
      }
      beginning = false;
    }
    if (staged) {
      // The staged write refused: this one's statements did not run, and go again.
      if (!settle(p, head)) continue;
    } else {
      const Status opened = p.FirstFailure(0, head);
      if (!opened.ok()) {
        broken = opened;
        break;
      }
    }
    savepoint_open = true;
    StagedWrite next;
    next.index = i;
    next.before = before;
    const CaseWrite* stale = nullptr;
    Status s = ReadWrite(p, plan, write, &next, &stale);
    if (s.ok()) {
      staged = std::move(next);
      ++i;
      continue;
    }
    if (s.code() == StatusCode::kUnavailable || s.code() == StatusCode::kDataLoss) {
      broken = s;  // not this write's fault: the transaction fails
      break;
    }
    end = before;  // the refused write's entries consume no seq
    PostgresPipeline undo(c->conn, &c->prepared);
    undo.Add("ROLLBACK TO SAVEPOINT write");
    // Refused (rare): which version the case is at, for the message.
    if (stale != nullptr) undo.Add("SELECT version FROM cases WHERE id = $1", {stale->record.id});
    (void)undo.Run();
    broken = undo.answer(0).status;
    if (!broken.ok()) break;
    if (stale != nullptr) {
      PipelineAnswer& current = undo.answer(1);
      if (current.status.ok()) {
        const int64_t version = current.rows.size() == 0 ? 0 : current.rows.Int(0, 0);
        s = Status::Aborted("case " + stale->record.id + " is at version " +
                            std::to_string(version) + ", not " +
                            std::to_string(stale->expected_version));
      } else if (current.status.code() == StatusCode::kUnavailable) {
        broken = current.status;
        break;
      } else {
        s = current.status;
        broken = c->Run("ROLLBACK TO SAVEPOINT write");
        if (!broken.ok()) break;
      }
    }
    (*results)[i] = s;
    ++i;
  }
  // The counts and the ledger's head, once for the batch, in one round trip with the last write's
  // case_facts writes (its deltas and entries are in them; if those writes fail, it is refused
  // and this goes again without it). Count rows known to exist are updated in key order; from
  // the first one not known, the rest go one by one (AddToRow), so that every transaction still
  // locks count rows in key order.
  while (broken.ok()) {
    PostgresPipeline p(c->conn, &c->prepared);
    if (staged) {
      for (const auto& [sql, params] : staged->facts)
        p.Add(sql, params);
    }
    const size_t head = p.size();
    CountDeltas total = counts;
    if (staged) total.Merge(staged->deltas);
    const std::vector<CountRow> rows = CountRows(total);
    size_t known = 0;
    while (known < rows.size() && known_count_rows_.count(rows[known].key) > 0)
      ++known;
    for (size_t k = 0; k < known; ++k)
      p.Add(rows[k].update, rows[k].params);
    const bool moves = end.seq != start.seq;
    if (moves)
      p.Add("UPDATE ledger_head SET seq = $1, hash = $2 WHERE id = 1", {Int(end.seq), end.hash});
    (void)p.Run();
    if (!settle(p, head)) continue;
    for (size_t k = 0; k < known && broken.ok(); ++k) {
      PipelineAnswer& a = p.answer(head + k);
      if (!a.status.ok()) {
        broken = a.status;
      } else if (a.rows.Affected() == 0) {
        // Gone behind the store's back (rows are never deleted): added again as a new row.
        known_count_rows_.erase(rows[k].key);
        broken = AddToRow(*c, rows[k].update, rows[k].insert, rows[k].params);
      }
    }
    if (broken.ok() && moves) broken = p.answer(head + known).status;
    for (size_t k = known; k < rows.size() && broken.ok(); ++k) {
      broken = AddToRow(*c, rows[k].update, rows[k].insert, rows[k].params);
      // A bound on the memory: forgetting a row costs one round trip when it is next counted.
      if (known_count_rows_.size() >= 100000) known_count_rows_.clear();
      if (broken.ok()) known_count_rows_.insert(rows[k].key);
    }
    break;
  }
  const bool committing = broken.ok();
  Status commit = committing ? c->Run("COMMIT") : broken;
  if (!commit.ok()) {
    if (PQstatus(c->conn) == CONNECTION_OK && PQtransactionStatus(c->conn) != PQTRANS_IDLE) {
      (void)c->Run("ROLLBACK");
    }
    if (committing && PQstatus(c->conn) != CONNECTION_OK) {
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

PostgresStore::WritePlan PostgresStore::QueueWrite(PostgresPipeline& p, StoreWrite& write,
                                                   LedgerEnd* end) {
  WritePlan plan;
  plan.documents = p.size();
  for (const DocumentRecord& d : write.documents) {
    p.Add(
        "INSERT INTO documents (hash, size, content) VALUES ($1, $2, decode($3, 'hex')) "
        "ON CONFLICT (hash) DO NOTHING",
        {d.hash, Int(static_cast<int64_t>(d.content.size())), ToHex(d.content)});
    p.Add(
        "INSERT INTO case_documents (case_id, hash, media_type, name, kind, attached_ms, "
        "attached_by) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (case_id, hash) DO NOTHING",
        {d.case_id, d.hash, d.media_type, d.name, d.kind, Int(ToMillis(d.attached_at)),
         d.attached_by});
  }
  for (const CaseWrite& w : write.cases) {
    const CaseRecord& r = w.record;
    WritePlan::Case planned;
    const Param yellow = OptionalMillis(r.yellow_at);
    const Param red = OptionalMillis(r.red_at);
    const Param lights_known = r.lights_known ? "true" : "false";
    const Param timer = OptionalMillis(r.next_timer_at);
    if (w.expected_version == 0) {
      // A new case: the primary key decides between two nodes creating it at once (the second
      // waits for the first to commit, then fails here).
      planned.row =
          p.Add(std::string("INSERT INTO cases (") + kCaseColumns +
                    ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17)",
                {r.id, r.number, r.query_code, r.definition_id, Int(r.definition_version), r.status,
                 r.step, r.applicant_id, r.organ_id, Int(ToMillis(r.created_at)),
                 Int(ToMillis(r.updated_at)), Int(r.version), timer, r.snapshot, yellow, red,
                 lights_known});
    } else {
      // The row is locked (FOR UPDATE) at the expected version and updated, and its old counts'
      // keys come back. The lock makes a concurrent writer of this case wait; when the first
      // commits, the second's FOR UPDATE sees the committed version, no longer the expected one,
      // and updates nothing. The statements after it run either way: when it updated nothing, the
      // write is refused and all of them are rolled back.
      planned.row = p.Add(
          "UPDATE cases AS c SET status = $2, step = $3, updated_ms = $4, version = $5, "
          "next_timer_ms = $6, snapshot = $7, yellow_ms = $8, red_ms = $9, timer_claim_ms = NULL, "
          "lights_known = $11 "
          "FROM (SELECT id, status, yellow_ms, red_ms, lights_known FROM cases WHERE id = $1 AND "
          "version = $10 FOR UPDATE) AS old WHERE c.id = old.id "
          "RETURNING old.status, old.yellow_ms, old.red_ms, old.lights_known",
          {r.id, r.status, r.step, Int(ToMillis(r.updated_at)), Int(r.version), timer, r.snapshot,
           yellow, red, Int(w.expected_version), lights_known});
    }
    planned.events = p.size();
    for (const Event& e : w.events) {
      p.Add(std::string("INSERT INTO events (") + kEventColumns +
                ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)",
            {e.case_id, Int(e.seq), Int(ToMillis(e.time)), e.actor.id, e.actor.role, e.actor.organ,
             e.action, e.data, e.status, e.step, e.definition_id, Int(e.definition_version),
             e.prev_hash, e.hash, e.idempotency_key.empty() ? Param() : Param(e.idempotency_key)});
    }
    if (r.facts) {
      // After the row's statement, so under its lock (or the new case's key): no other node
      // changes these facts until this transaction ends.
      planned.facts = p.Add(
          "SELECT month, organ, item, zone, applied_ms, decided_ms, late_statutory, "
          "late_promised, counters FROM case_facts WHERE case_id = $1",
          {r.id});
    }
    planned.delegations = p.size();
    for (const auto& [event_seq, delegation] : w.delegations) {
      // A copy: clang 14 does not let a lambda capture a structured binding.
      const int64_t seq = event_seq;
      const auto event = std::find_if(w.events.begin(), w.events.end(),
                                      [&](const Event& e) { return e.seq == seq; });
      if (event == w.events.end()) continue;
      p.Add(
          "INSERT INTO delegated_events (delegation_id, time_ms, case_id, seq) "
          "VALUES ($1, $2, $3, $4)",
          {delegation, Int(ToMillis(event->time)), r.id, Int(seq)});
    }
    planned.delegations_end = p.size();
    plan.cases.push_back(planned);
  }
  plan.ledger = p.size();
  for (LedgerEntry& e : write.ledger) {
    e.seq = end->seq + 1;
    e.prev_hash = end->hash;
    e.hash = ComputeLedgerHash(e);
    p.Add(
        "INSERT INTO ledger (seq, time_ms, actor_id, actor_role, actor_organ, actor_name, kind, "
        "subject, data, prev_hash, hash) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)",
        {Int(e.seq), Int(ToMillis(e.time)), e.actor.id, e.actor.role, e.actor.organ, e.actor.name,
         e.kind, e.subject, e.data, e.prev_hash, e.hash});
    *end = {e.seq, e.hash};
  }
  return plan;
}

Status PostgresStore::ReadWrite(PostgresPipeline& p, const WritePlan& plan, const StoreWrite& write,
                                StagedWrite* staged, const CaseWrite** stale) {
  TONGBAN_RETURN_IF_ERROR(
      p.FirstFailure(plan.documents, plan.documents + 2 * write.documents.size()));
  CountDeltas& deltas = staged->deltas;
  for (size_t k = 0; k < write.cases.size(); ++k) {
    const CaseWrite& w = write.cases[k];
    const CaseRecord& r = w.record;
    const WritePlan::Case& planned = plan.cases[k];
    PipelineAnswer& row = p.answer(planned.row);
    if (!row.status.ok()) {
      if (w.expected_version == 0 && row.status.code() == StatusCode::kAlreadyExists &&
          row.violated == "cases_pkey") {
        return Status::Aborted("case " + r.id + " exists already, not at version 0");
      }
      return row.status;
    }
    if (w.expected_version != 0) {
      if (row.rows.size() == 0) {
        *stale = &w;
        return Status::Aborted("case " + r.id + " is not at version " +
                               std::to_string(w.expected_version));
      }
      deltas.AddCase(row.rows.Text(0, 0), row.rows.Bool(0, 3), row.rows.OptionalInt(0, 1),
                     row.rows.OptionalInt(0, 2), -1);
    }
    for (size_t j = 0; j < w.events.size(); ++j) {
      const Event& e = w.events[j];
      PipelineAnswer& inserted = p.answer(planned.events + j);
      if (inserted.status.ok()) continue;
      if (inserted.status.code() == StatusCode::kAlreadyExists) {
        if (inserted.violated == "events_idempotency") {
          return Status::AlreadyExists("idempotency key already used: " + e.idempotency_key);
        }
        if (inserted.violated == "events_pkey") {
          return Status::Aborted("case " + e.case_id + " already has event " +
                                 std::to_string(e.seq));
        }
      }
      return inserted.status;
    }
    deltas.AddCase(r.status, r.lights_known, MillisOf(r.yellow_at), MillisOf(r.red_at), +1);
    if (planned.facts) {
      PipelineAnswer& old = p.answer(*planned.facts);
      if (!old.status.ok()) return old.status;
      const CaseFacts& facts = *r.facts;
      bool same = false;
      if (old.rows.size() > 0) {
        CaseFacts stored;
        stored.month = old.rows.Text(0, 0);
        stored.organ = old.rows.Text(0, 1);
        stored.item = old.rows.Text(0, 2);
        stored.zone = old.rows.Text(0, 3);
        stored.applied_at = FromMillis(old.rows.Int(0, 4));
        if (auto decided = old.rows.OptionalInt(0, 5)) stored.decided_at = FromMillis(*decided);
        stored.late_statutory = old.rows.Int(0, 6) != 0;
        stored.late_promised = old.rows.Int(0, 7) != 0;
        stored.counters = DecodeCounters(old.rows.Text(0, 8));
        // Most transitions (a review step's pass, a delivery) leave the facts as they were: no
        // write.
        same = stored == facts;
        if (!same) {
          const std::string key =
              IndicatorKey(stored.month, stored.organ, stored.item, stored.zone);
          for (const auto& [name, value] : stored.counters)
            deltas.indicators[{key, name}] -= value;
        }
      }
      if (!same) {
        const std::string key = IndicatorKey(facts.month, facts.organ, facts.item, facts.zone);
        for (const auto& [name, value] : facts.counters)
          deltas.indicators[{key, name}] += value;
        Params params = {r.id,
                         facts.month,
                         facts.organ,
                         facts.item,
                         facts.zone,
                         Int(ToMillis(facts.applied_at)),
                         OptionalMillis(facts.decided_at),
                         Int(facts.late_statutory ? 1 : 0),
                         Int(facts.late_promised ? 1 : 0),
                         EncodeCounters(facts.counters)};
        staged->facts.emplace_back(
            old.rows.size() > 0
                ? "UPDATE case_facts SET month = $2, organ = $3, item = $4, zone = $5, "
                  "applied_ms = $6, decided_ms = $7, late_statutory = $8, late_promised = $9, "
                  "counters = $10 WHERE case_id = $1"
                : "INSERT INTO case_facts (case_id, month, organ, item, zone, applied_ms, "
                  "decided_ms, late_statutory, late_promised, counters) "
                  "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
            std::move(params));
      }
    }
    TONGBAN_RETURN_IF_ERROR(p.FirstFailure(planned.delegations, planned.delegations_end));
  }
  for (size_t j = 0; j < write.ledger.size(); ++j) {
    const Status& inserted = p.answer(plan.ledger + j).status;
    if (inserted.ok()) continue;
    // Under the head's lock no other writer appends: a clash means someone wrote the table around
    // the store.
    return Status(inserted.code() == StatusCode::kUnavailable ? StatusCode::kUnavailable
                                                              : StatusCode::kInternal,
                  "appending ledger entry " + std::to_string(write.ledger[j].seq) +
                      " failed: " + inserted.message());
  }
  return Status::Ok();
}

std::vector<PostgresStore::CountRow> PostgresStore::CountRows(const CountDeltas& deltas) {
  std::vector<CountRow> rows;
  for (const auto& [status, n] : deltas.statuses) {
    if (n == 0) continue;
    rows.push_back({"case_counts\x1f" + status,
                    "UPDATE case_counts SET n = n + $2 WHERE status = $1",
                    "INSERT INTO case_counts (status, n) VALUES ($1, $2)",
                    {status, Int(n)}});
  }
  for (const auto& [at, change] : deltas.lights.decision) {
    if (change.yellow == 0 && change.red == 0) continue;
    rows.push_back(
        {"light_changes\x1f" + std::to_string(at),
         "UPDATE light_changes SET yellow = yellow + $2, red = red + $3 WHERE at_ms = $1",
         "INSERT INTO light_changes (at_ms, yellow, red) VALUES ($1, $2, $3)",
         {Int(at), Int(change.yellow), Int(change.red)}});
  }
  for (const auto& [at, change] : deltas.lights.delivery) {
    if (change.waiting == 0 && change.yellow == 0 && change.red == 0) continue;
    rows.push_back({"delivery_light_changes\x1f" + std::to_string(at),
                    "UPDATE delivery_light_changes SET waiting = waiting + $2, "
                    "yellow = yellow + $3, red = red + $4 WHERE at_ms = $1",
                    "INSERT INTO delivery_light_changes (at_ms, waiting, yellow, "
                    "red) VALUES ($1, $2, $3, $4)",
                    {Int(at), Int(change.waiting), Int(change.yellow), Int(change.red)}});
  }
  for (const auto& [key, n] : deltas.indicators) {
    if (n == 0) continue;
    const auto [month, organ, item, zone] = SplitIndicatorKey(key.first);
    rows.push_back({"indicator_counts\x1f" + key.first + '\x1f' + key.second,
                    "UPDATE indicator_counts SET n = n + $6 WHERE month = $1 AND organ = $2 AND "
                    "item = $3 AND zone = $4 AND name = $5",
                    "INSERT INTO indicator_counts (month, organ, item, zone, name, n) "
                    "VALUES ($1, $2, $3, $4, $5, $6)",
                    {month, organ, item, zone, key.second, Int(n)}});
  }
  return rows;
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

StoreStats PostgresStore::Stats() const {
  return StoreStats{commits_.load(), writes_.load(), max_batch_.load(), overloaded_.load(),
                    queued_.load()};
}

}  // namespace tongban
