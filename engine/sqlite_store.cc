// SqliteStore: opening (and migrating) the file, the connection pool, and the writer thread with
// its group commit (sqlite_store_detail.h lists the other files).
#include "engine/sqlite_store.h"

#include <algorithm>
#include <map>

#include "engine/sqlite_store_detail.h"

namespace tongban {

using sqlite_store_detail::FromMillis;
using sqlite_store_detail::kCaseColumns;
using sqlite_store_detail::kCaseColumnsV2;
using sqlite_store_detail::kCaseColumnsV3;
using sqlite_store_detail::kSqliteMigrations;
using sqlite_store_detail::OptionalMillis;
using sqlite_store_detail::ToMillis;

SqliteStore::SqliteStore(SqliteStoreOptions options) : options_(std::move(options)) {}

const char* SqliteStore::CaseColumns() const {
  return file_schema_version_ >= 6   ? kCaseColumns
         : file_schema_version_ >= 3 ? kCaseColumnsV3
                                     : kCaseColumnsV2;
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const SqliteStoreOptions& options) {
  std::unique_ptr<SqliteStore> store(new SqliteStore(options));
  Status status = store->Initialize();
  if (!status.ok()) return status;
  return store;
}

namespace {

// A store that is to write refuses, before it changes a byte, a file that is not a SQLite database
// and one that holds another application's tables: a mistyped --db must not turn someone's file
// into WAL mode, nor add Tongban's tables beside theirs (schema version 0 with tables is not a
// Tongban file whose first migration is pending: migrations commit with their version).
Status RefuseForeignFile(sqlite::Database& db, const std::string& path) {
  sqlite::Statement probe(db.get(),
                          "SELECT (SELECT user_version FROM pragma_user_version),"
                          " (SELECT count(*) FROM sqlite_schema)");
  int rc = probe.ok() ? probe.Step() : sqlite3_errcode(db.get());
  if (rc == SQLITE_NOTADB) {
    return Status::FailedPrecondition("not a tongban database: " + path + ": " + db.Error());
  }
  if (rc != SQLITE_ROW) {
    return sqlite::StatusFromSqlite(rc, "reading " + path + " failed: " + db.Error());
  }
  if (probe.Int(0) == 0 && probe.Int(1) > 0) {
    return Status::FailedPrecondition("not a tongban database: " + path + " holds " +
                                      std::to_string(probe.Int(1)) +
                                      " tables or indexes of another application "
                                      "(schema version 0); it was left as it is");
  }
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<SqliteStore::Connection>> SqliteStore::Connect(bool writer) {
  auto db = sqlite::Database::Open(options_.path, writer, options_.read_only, options_.vfs);
  if (!db.ok()) return db.status();
  auto connection = std::make_unique<Connection>();
  connection->db = std::move(db).value();
  if (writer) {
    // SQLite opens a file it may not write read-only without a word, and every write would then
    // fail: a store that is to write says so at once.
    if (sqlite3_db_readonly(connection->db.get(), "main") == 1) {
      return Status::FailedPrecondition("the database file " + options_.path +
                                        " is read-only (its permissions, or a read-only file "
                                        "system); serving needs to write it");
    }
    TONGBAN_RETURN_IF_ERROR(RefuseForeignFile(connection->db, options_.path));
    TONGBAN_RETURN_IF_ERROR(connection->db.Exec("PRAGMA journal_mode=WAL"));
    TONGBAN_RETURN_IF_ERROR(connection->db.Exec("PRAGMA synchronous=" + options_.synchronous));
    // While migrating, SQLite checkpoints inside the commit that crosses this many WAL pages
    // (its default: 1,000); once open, the checkpoint thread does (OnWalCommit). Between two
    // checkpoints a page written many times (the counts, the indexes' upper pages) is copied
    // once: 10,000 pages cut the server's CPU per durable transition by about 7 %
    // (docs/benchmarks.md, round 4), for a WAL of up to 40 MB.
    TONGBAN_RETURN_IF_ERROR(connection->db.Exec("PRAGMA wal_autocheckpoint=10000"));
  }
  return connection;
}

Status SqliteStore::Initialize() {
  if (options_.synchronous != "FULL" && options_.synchronous != "NORMAL" &&
      options_.synchronous != "OFF") {
    return Status::InvalidArgument("synchronous must be FULL, NORMAL or OFF");
  }
  if (options_.wal_checkpoint_pages < 1) {
    return Status::InvalidArgument("wal_checkpoint_pages must be at least 1");
  }
  auto first = Connect(!options_.read_only);
  if (!first.ok()) return first.status();
  Connection& c = *first.value();
  auto version_statement = c.Prepare("PRAGMA user_version");
  if (!version_statement.ok()) return version_statement.status();
  // The first read of the file: this is where a file that is not a database at all fails, and
  // where a WAL file whose -shm file cannot be made beside it (a read-only directory holding WAL
  // content, which sqlite::Database::Open cannot open immutable) cannot be read.
  if (int rc = (*version_statement)->Step(); rc != SQLITE_ROW) {
    std::string error = c.db.Error();
    (*version_statement)->Reset();
    if ((rc & 0xFF) == SQLITE_CANTOPEN || (rc & 0xFF) == SQLITE_READONLY) {
      return Status::Unavailable(
          "cannot read " + options_.path + ": " + error +
          " (its -wal file holds commits, which SQLite reads through a -shm file it must create "
          "beside it, and that directory may not be written: copy the database with its -wal "
          "file to a directory that may be, or checkpoint it first)");
    }
    return Status::FailedPrecondition("not a tongban database: " + options_.path + ": " + error);
  }
  int version = static_cast<int>((*version_statement)->Int(0));
  (*version_statement)->Reset();
  if (version > kSchemaVersion) {
    return Status::FailedPrecondition("database schema version " + std::to_string(version) +
                                      " is newer than this tongban understands (" +
                                      std::to_string(kSchemaVersion) + ")");
  }
  if (options_.read_only) {
    // An older file is read as it is, not migrated (it may be a backup being verified).
    if (version == 0) {
      return Status::FailedPrecondition("not a tongban database (schema version 0)");
    }
    file_schema_version_ = version;
    ReleaseReader(std::move(first).value());
    return Status::Ok();
  }
  // One transaction per step. The version is read again under the write lock, so that two
  // processes opening the same old file do not both migrate it.
  while (version < kSchemaVersion) {
    TONGBAN_RETURN_IF_ERROR(c.db.Exec("BEGIN IMMEDIATE"));
    int rc = (*version_statement)->Step();
    version = rc == SQLITE_ROW ? static_cast<int>((*version_statement)->Int(0)) : -1;
    (*version_statement)->Reset();
    Status migrated = Status::Ok();
    if (version < 0) {
      migrated = Status::Internal("reading the schema version failed: " + c.db.Error());
    } else if (version > kSchemaVersion) {
      migrated = Status::FailedPrecondition("database schema version " + std::to_string(version) +
                                            " is newer than this tongban understands (" +
                                            std::to_string(kSchemaVersion) + ")");
    } else if (version < kSchemaVersion) {
      migrated = c.db.Exec(kSqliteMigrations[version]);
      if (migrated.ok()) migrated = c.db.Exec("PRAGMA user_version=" + std::to_string(version + 1));
      if (!migrated.ok()) {
        migrated = Status::Internal("migrating the schema to version " +
                                    std::to_string(version + 1) + " failed: " + migrated.message());
      }
      ++version;
    }
    if (!migrated.ok()) {
      (void)c.db.Exec("ROLLBACK");
      return migrated;
    }
    TONGBAN_RETURN_IF_ERROR(c.db.Exec("COMMIT"));
  }
  file_schema_version_ = kSchemaVersion;
  // Each write of a batch runs in a savepoint (RunTransaction), and SQLite keeps the pages a
  // savepoint changes in a sub-journal, which goes to a temporary file past 64 KB: a pwrite for
  // every page a write touches, a third of the writer thread's time in `bench http`. In memory it
  // holds one write's pages (emptied when its savepoint is released). Set after migrating, whose
  // index builds sort in temporary storage and may need more than memory should hold.
  TONGBAN_RETURN_IF_ERROR(c.db.Exec("PRAGMA temp_store=MEMORY"));
  auto checkpointer = Connect(true);
  if (!checkpointer.ok()) return checkpointer.status();
  checkpoint_thread_ = std::thread([this, connection = std::move(checkpointer).value()]() mutable {
    CheckpointLoop(std::move(connection));
  });
  // Replaces SQLite's automatic checkpoint (wal_autocheckpoint, still in force while migrating).
  sqlite3_wal_hook(c.db.get(), &SqliteStore::OnWalCommit, this);
  writer_ = std::move(first).value();
  writer_thread_ = std::thread([this] { WriterLoop(); });
  return Status::Ok();
}

int SqliteStore::OnWalCommit(void* store, sqlite3* db, const char* schema, int pages) {
  auto* self = static_cast<SqliteStore*>(store);
  const int threshold = self->options_.wal_checkpoint_pages;
  if (pages >= 4 * threshold) {
    self->CountCheckpoint(
        sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr));
  } else if (pages >= threshold) {
    {
      std::lock_guard<std::mutex> lock(self->checkpoint_mutex_);
      self->checkpoint_wanted_ = true;
    }
    self->checkpoint_cv_.notify_one();
  }
  return SQLITE_OK;
}

void SqliteStore::CheckpointLoop(std::unique_ptr<Connection> connection) {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(checkpoint_mutex_);
      checkpoint_cv_.wait(lock, [&] { return checkpoint_wanted_ || checkpoint_stopping_; });
      if (checkpoint_stopping_) return;
      checkpoint_wanted_ = false;
    }
    // PASSIVE copies what no reader still needs and never waits: the WAL starts over from its
    // beginning at the first write after a checkpoint that copied everything.
    CountCheckpoint(sqlite3_wal_checkpoint_v2(connection->db.get(), nullptr,
                                              SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr));
  }
}

void SqliteStore::CountCheckpoint(int rc) {
  if (rc == SQLITE_OK) {
    wal_checkpoints_.fetch_add(1);
  } else if (rc != SQLITE_BUSY) {
    wal_checkpoint_failures_.fetch_add(1);
  }
}

SqliteStore::~SqliteStore() {
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_thread_.joinable()) writer_thread_.join();
  {
    std::lock_guard<std::mutex> lock(checkpoint_mutex_);
    checkpoint_stopping_ = true;
  }
  checkpoint_cv_.notify_all();
  if (checkpoint_thread_.joinable()) checkpoint_thread_.join();
}

std::unique_ptr<SqliteStore::Connection> SqliteStore::AcquireReader() {
  {
    std::lock_guard<std::mutex> lock(readers_mutex_);
    if (!idle_readers_.empty()) {
      auto c = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return c;
    }
  }
  auto c = Connect(false);
  if (!c.ok()) return nullptr;
  return std::move(c).value();
}

void SqliteStore::ReleaseReader(std::unique_ptr<Connection> connection) {
  std::lock_guard<std::mutex> lock(readers_mutex_);
  if (idle_readers_.size() < 64) idle_readers_.push_back(std::move(connection));
}

// ---- Writes -------------------------------------------------------------------------------------

Status SqliteStore::Commit(StoreWrite write) {
  if (options_.read_only) return Status::FailedPrecondition("the store is open read-only");
  if (write.cases.empty() && write.ledger.empty() && write.documents.empty()) return Status::Ok();
  auto pending = std::make_unique<PendingWrite>();
  pending->write = std::move(write);
  std::future<Status> done = pending->done.get_future();
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    if (stopping_) return Status::Unavailable("the store is shutting down");
    // Bounded: past the bound a caller is told at once to come back later, rather than waiting
    // behind a queue that the disk cannot drain in time.
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

namespace {
// How much of a transaction's max_batch a StoreWrite takes: its case writes, and at least 1.
size_t BatchWeight(const StoreWrite& w) {
  return std::max<size_t>(1, w.cases.size());
}
}  // namespace

void SqliteStore::WriterLoop() {
  while (true) {
    std::vector<std::unique_ptr<PendingWrite>> batch;
    {
      std::unique_lock<std::mutex> lock(queue_mutex_);
      queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) return;
      // Whole StoreWrites, up to max_batch case writes (always at least one StoreWrite).
      size_t weight = 0;
      const size_t limit = static_cast<size_t>(std::max(1, options_.max_batch));
      while (!queue_.empty()) {
        size_t next = BatchWeight(queue_.front()->write);
        if (!batch.empty() && (!options_.group_commit || weight + next > limit)) break;
        weight += next;
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      queued_.store(static_cast<int64_t>(queue_.size()));
    }
    std::vector<Status> results;
    Status failed = RunTransaction(batch, &results);
    if (!failed.ok() && batch.size() > 1) {
      // The transaction failed as a whole — the disk or the file, not a write's content — and
      // nothing of it was stored. Each write again alone, so that a fault met by one write does
      // not fail the others' requests: each gets its own outcome.
      results.assign(batch.size(), Status::Ok());
      for (size_t i = 0; i < batch.size(); ++i) {
        std::vector<std::unique_ptr<PendingWrite>> one;
        one.push_back(std::move(batch[i]));
        std::vector<Status> result;
        Status alone = RunTransaction(one, &result);
        results[i] = alone.ok() ? result[0] : alone;
        batch[i] = std::move(one[0]);
      }
    } else if (!failed.ok()) {
      results.assign(1, failed);
    }
    for (size_t i = 0; i < batch.size(); ++i)
      batch[i]->done.set_value(results[i]);
  }
}

Status SqliteStore::RunTransaction(std::vector<std::unique_ptr<PendingWrite>>& batch,
                                   std::vector<Status>* results) {
  Connection& c = *writer_;
  results->assign(batch.size(), Status::Ok());
  Status begin = c.Run("BEGIN IMMEDIATE");
  if (!begin.ok()) return Status::Unavailable(begin.message());
  // The ledger's end as the transaction goes; it becomes ledger_end_ only once committed.
  std::optional<LedgerEnd> end = ledger_end_;
  int64_t committed_writes = 0;
  int64_t batch_writes = 0;
  Status broken = Status::Ok();  // the transaction itself failed: nothing of the batch is stored
  CountChanges counts;           // of the writes committed so far
  for (size_t i = 0; i < batch.size(); ++i) {
    StoreWrite& write = batch[i]->write;
    batch_writes += static_cast<int64_t>(write.cases.size());
    const std::optional<LedgerEnd> before = end;
    Status s = c.Run("SAVEPOINT write");
    if (!s.ok()) {
      broken = s;
      break;
    }
    CountChanges write_counts;
    s = ApplyWrite(c, write, &end, &write_counts);
    if (s.ok()) s = c.Run("RELEASE write");
    if (s.code() == StatusCode::kUnavailable) {
      // The disk or the file failed (an I/O error, a full disk): SQLite may have rolled back the
      // whole transaction already, and what it holds is not to be trusted. Not this write's fault,
      // so not a refusal of it: the transaction fails.
      broken = s;
      break;
    }
    if (s.ok()) {
      committed_writes += static_cast<int64_t>(write.cases.size());
      counts.Add(write_counts);
    } else {
      // Refused: undo this StoreWrite alone, and its entries consume no seq. (An end that a
      // failed ledger insert unset stays unset: it is read from the file again.)
      if (end.has_value()) end = before;
      Status undone = c.Run("ROLLBACK TO write");
      if (undone.ok()) undone = c.Run("RELEASE write");
      if (!undone.ok()) {
        broken = undone;
        break;
      }
    }
    (*results)[i] = s;
  }
  // The counts change in the same transaction as the cases.
  if (broken.ok()) broken = WriteCounts(c, counts);
  Status commit = broken.ok() ? c.Run("COMMIT") : broken;
  if (!commit.ok()) {
    // Leaves no transaction open whatever failed (a failed COMMIT may leave it open; after an I/O
    // error SQLite may have rolled it back already, and then this fails harmlessly).
    if (!sqlite3_get_autocommit(c.db.get())) (void)c.Run("ROLLBACK");
    // Whatever the file holds now, read the ledger's end from it again.
    ledger_end_.reset();
    return Status::Unavailable("commit failed, nothing was stored: " + commit.message());
  }
  ledger_end_ = end;
  commits_.fetch_add(1);
  writes_.fetch_add(committed_writes);
  int64_t previous = max_batch_.load();
  while (batch_writes > previous && !max_batch_.compare_exchange_weak(previous, batch_writes)) {
  }
  return Status::Ok();
}

Status SqliteStore::ApplyWrite(Connection& c, StoreWrite& write, std::optional<LedgerEnd>* end,
                               CountChanges* counts) {
  if (!write.documents.empty()) TONGBAN_RETURN_IF_ERROR(AttachDocuments(c, write.documents));
  for (const CaseWrite& w : write.cases) {
    TONGBAN_RETURN_IF_ERROR(ApplyCaseWrite(c, w, counts));
  }
  if (write.ledger.empty()) return Status::Ok();
  return AppendLedger(c, write.ledger, end);
}

Status SqliteStore::AttachDocuments(Connection& c, const std::vector<DocumentRecord>& documents) {
  if (file_schema_version_ < 4) return Status::FailedPrecondition("no documents before schema 4");
  auto content = c.Prepare("INSERT OR IGNORE INTO documents (hash, size, content) VALUES (?,?,?)");
  if (!content.ok()) return content.status();
  auto attach = c.Prepare(
      "INSERT OR IGNORE INTO case_documents (case_id, hash, media_type, name, kind, attached_ms, "
      "attached_by) VALUES (?,?,?,?,?,?,?)");
  if (!attach.ok()) return attach.status();
  for (const DocumentRecord& d : documents) {
    sqlite::Statement& s = **content;
    s.Reset();
    s.Bind(1, d.hash).Bind(2, static_cast<int64_t>(d.content.size())).BindBlob(3, d.content);
    TONGBAN_RETURN_IF_ERROR(s.Run());
    sqlite::Statement& a = **attach;
    a.Reset();
    a.Bind(1, d.case_id).Bind(2, d.hash).Bind(3, d.media_type).Bind(4, d.name).Bind(5, d.kind);
    a.Bind(6, ToMillis(d.attached_at)).Bind(7, d.attached_by);
    TONGBAN_RETURN_IF_ERROR(a.Run());
  }
  return Status::Ok();
}

Status SqliteStore::AppendLedger(Connection& c, std::vector<LedgerEntry>& entries,
                                 std::optional<LedgerEnd>* end) {
  if (!end->has_value()) {
    auto last = c.Prepare("SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1");
    if (!last.ok()) return last.status();
    int rc = (*last)->Step();
    LedgerEnd read{0, kGenesisHash};
    if (rc == SQLITE_ROW) read = {(*last)->Int(0), (*last)->Text(1)};
    (*last)->Reset();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sqlite::StatusFromSqlite(rc, c.db.Error());
    *end = read;
  }
  auto insert = c.Prepare(
      "INSERT INTO ledger (seq, time_ms, actor_id, actor_role, actor_organ, actor_name, kind, "
      "subject, data, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?,?)");
  if (!insert.ok()) return insert.status();
  LedgerEnd next = **end;
  for (LedgerEntry& e : entries) {
    e.seq = next.seq + 1;
    e.prev_hash = next.hash;
    e.hash = ComputeLedgerHash(e);
    sqlite::Statement& s = **insert;
    s.Bind(1, e.seq).Bind(2, ToMillis(e.time)).Bind(3, e.actor.id).Bind(4, e.actor.role);
    s.Bind(5, e.actor.organ).Bind(6, e.actor.name).Bind(7, e.kind).Bind(8, e.subject);
    s.Bind(9, e.data).Bind(10, e.prev_hash).Bind(11, e.hash);
    Status inserted = s.Run();
    if (!inserted.ok()) {
      // Most likely another writer appended to the file (or the disk failed): read the end again
      // next time. A failure of the disk keeps its code (kUnavailable).
      end->reset();
      return Status(
          inserted.code() == StatusCode::kUnavailable ? StatusCode::kUnavailable
                                                      : StatusCode::kInternal,
          "appending ledger entry " + std::to_string(e.seq) + " failed: " + inserted.message());
    }
    next = {e.seq, e.hash};
  }
  *end = next;
  return Status::Ok();
}

Status SqliteStore::ApplyCaseWrite(Connection& c, const CaseWrite& w, CountChanges* counts) {
  const CaseRecord& r = w.record;
  // Optimistic concurrency: the events were decided against expected_version.
  auto current =
      c.Prepare("SELECT version, status, yellow_ms, red_ms, lights_known FROM cases WHERE id = ?");
  if (!current.ok()) return current.status();
  (*current)->Bind(1, r.id);
  int rc = (*current)->Step();
  int64_t version = rc == SQLITE_ROW ? (*current)->Int(0) : 0;
  bool exists = rc == SQLITE_ROW;
  // What the case counted for until now, to take it out of the counts.
  std::string old_status;
  std::optional<int64_t> old_yellow, old_red;
  bool old_lights_known = false;
  if (exists) {
    old_status = (*current)->Text(1);
    if (!(*current)->IsNull(2)) old_yellow = (*current)->Int(2);
    if (!(*current)->IsNull(3)) old_red = (*current)->Int(3);
    old_lights_known = (*current)->Int(4) != 0;
  }
  (*current)->Reset();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sqlite::StatusFromSqlite(rc, c.db.Error());
  if (version != w.expected_version || (w.expected_version == 0 && exists)) {
    return Status::Aborted("case " + r.id + " is at version " + std::to_string(version) + ", not " +
                           std::to_string(w.expected_version));
  }
  auto insert_event = c.Prepare(
      "INSERT INTO events (case_id, seq, time_ms, actor_id, actor_role, actor_organ, action, data, "
      "status, step, definition_id, definition_version, prev_hash, hash, idempotency_key) "
      "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  if (!insert_event.ok()) return insert_event.status();
  auto idempotency = c.Prepare("SELECT 1 FROM events WHERE actor_id = ? AND idempotency_key = ?");
  if (!idempotency.ok()) return idempotency.status();
  for (const Event& e : w.events) {
    if (!e.idempotency_key.empty()) {
      (*idempotency)->Bind(1, e.actor.id).Bind(2, e.idempotency_key);
      const int found = (*idempotency)->Step();
      (*idempotency)->Reset();
      if (found != SQLITE_ROW && found != SQLITE_DONE) {
        return sqlite::StatusFromSqlite(found, c.db.Error());
      }
      if (found == SQLITE_ROW)
        return Status::AlreadyExists("idempotency key already used: " + e.idempotency_key);
    }
    sqlite::Statement& s = **insert_event;
    s.Bind(1, e.case_id).Bind(2, e.seq).Bind(3, ToMillis(e.time)).Bind(4, e.actor.id);
    s.Bind(5, e.actor.role).Bind(6, e.actor.organ).Bind(7, e.action).Bind(8, e.data);
    s.Bind(9, e.status).Bind(10, e.step).Bind(11, e.definition_id);
    s.Bind(12, static_cast<int64_t>(e.definition_version)).Bind(13, e.prev_hash).Bind(14, e.hash);
    if (e.idempotency_key.empty()) {
      s.BindNull(15);
    } else {
      s.Bind(15, e.idempotency_key);
    }
    Status inserted = s.Run();
    if (!inserted.ok() && sqlite3_extended_errcode(c.db.get()) == SQLITE_CONSTRAINT_PRIMARYKEY) {
      // The case moved on past this write: the same answer as the PostgreSQL store's.
      return Status::Aborted("case " + e.case_id + " already has event " + std::to_string(e.seq));
    }
    TONGBAN_RETURN_IF_ERROR(inserted);
  }
  const std::optional<int64_t> next_timer = OptionalMillis(r.next_timer_at);
  const std::optional<int64_t> yellow = OptionalMillis(r.yellow_at);
  const std::optional<int64_t> red = OptionalMillis(r.red_at);
  auto bind_optional = [](sqlite::Statement& s, int index, const std::optional<int64_t>& value) {
    if (value) {
      s.Bind(index, *value);
    } else {
      s.BindNull(index);
    }
  };
  if (exists) {
    // Only what a write changes, found by its key once (an upsert first tries an insert).
    auto update = c.Prepare(
        "UPDATE cases SET status = ?2, step = ?3, updated_ms = ?4, version = ?5, "
        "next_timer_ms = ?6, snapshot = ?7, yellow_ms = ?8, red_ms = ?9, lights_known = ?10 "
        "WHERE id = ?1");
    if (!update.ok()) return update.status();
    sqlite::Statement& s = **update;
    s.Bind(1, r.id).Bind(2, r.status).Bind(3, r.step).Bind(4, ToMillis(r.updated_at));
    s.Bind(5, r.version);
    bind_optional(s, 6, next_timer);
    s.Bind(7, r.snapshot);
    bind_optional(s, 8, yellow);
    bind_optional(s, 9, red);
    s.Bind(10, static_cast<int64_t>(r.lights_known));
    TONGBAN_RETURN_IF_ERROR(s.Run());
  } else {
    auto insert = c.Prepare(
        "INSERT INTO cases (id, number, query_code, definition_id, definition_version, status, "
        "step, applicant_id, organ_id, created_ms, updated_ms, version, next_timer_ms, snapshot, "
        "yellow_ms, red_ms, lights_known) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!insert.ok()) return insert.status();
    sqlite::Statement& s = **insert;
    s.Bind(1, r.id).Bind(2, r.number).Bind(3, r.query_code).Bind(4, r.definition_id);
    s.Bind(5, static_cast<int64_t>(r.definition_version)).Bind(6, r.status).Bind(7, r.step);
    s.Bind(8, r.applicant_id).Bind(9, r.organ_id).Bind(10, ToMillis(r.created_at));
    s.Bind(11, ToMillis(r.updated_at)).Bind(12, r.version);
    bind_optional(s, 13, next_timer);
    s.Bind(14, r.snapshot);
    bind_optional(s, 15, yellow);
    bind_optional(s, 16, red);
    s.Bind(17, static_cast<int64_t>(r.lights_known));
    TONGBAN_RETURN_IF_ERROR(s.Run());
  }
  if (exists) counts->AddCase(old_status, old_lights_known, old_yellow, old_red, -1);
  counts->AddCase(r.status, r.lights_known, yellow, red, +1);
  if (r.facts) TONGBAN_RETURN_IF_ERROR(WriteFacts(c, r.id, *r.facts, counts));
  if (!w.delegations.empty()) {
    auto insert = c.Prepare(
        "INSERT OR IGNORE INTO delegated_events (delegation_id, time_ms, case_id, seq) "
        "VALUES (?,?,?,?)");
    if (!insert.ok()) return insert.status();
    for (const auto& [event_seq, delegation] : w.delegations) {
      // A copy: clang 14 does not let a lambda capture a structured binding.
      const int64_t seq = event_seq;
      const auto event = std::find_if(w.events.begin(), w.events.end(),
                                      [&](const Event& e) { return e.seq == seq; });
      if (event == w.events.end()) continue;
      (*insert)->Reset();
      (*insert)->Bind(1, delegation).Bind(2, ToMillis(event->time)).Bind(3, r.id).Bind(4, seq);
      TONGBAN_RETURN_IF_ERROR((*insert)->Run());
    }
  }
  return Status::Ok();
}

Status SqliteStore::WriteFacts(Connection& c, const std::string& case_id, const CaseFacts& facts,
                               CountChanges* counts) {
  // What the case counted for until now comes out of the counters; what it counts for now goes in.
  auto old = c.Prepare(
      "SELECT month, organ, item, zone, applied_ms, decided_ms, late_statutory, late_promised, "
      "counters FROM case_facts WHERE case_id = ?");
  if (!old.ok()) return old.status();
  (*old)->Bind(1, case_id);
  const int rc = (*old)->Step();
  std::optional<CaseFacts> stored;
  if (rc == SQLITE_ROW) {
    const sqlite::Statement& s = **old;
    stored.emplace();
    stored->month = s.Text(0);
    stored->organ = s.Text(1);
    stored->item = s.Text(2);
    stored->zone = s.Text(3);
    stored->applied_at = FromMillis(s.Int(4));
    if (!s.IsNull(5)) stored->decided_at = FromMillis(s.Int(5));
    stored->late_statutory = s.Int(6) != 0;
    stored->late_promised = s.Int(7) != 0;
    stored->counters = DecodeCounters(s.Text(8));
  }
  (*old)->Reset();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sqlite::StatusFromSqlite(rc, c.db.Error());
  // Most transitions (a review step's pass, a delivery) leave the facts as they were: rewriting the
  // row would rewrite its four indexes too, for nothing.
  if (stored == facts) return Status::Ok();
  if (stored) {
    const IndicatorKey key{stored->month, stored->organ, stored->item, stored->zone};
    for (const auto& [name, value] : stored->counters)
      counts->indicators[{key, name}] -= value;
  }
  const IndicatorKey key{facts.month, facts.organ, facts.item, facts.zone};
  for (const auto& [name, value] : facts.counters)
    counts->indicators[{key, name}] += value;
  auto upsert = c.Prepare(
      "INSERT OR REPLACE INTO case_facts (case_id, month, organ, item, zone, applied_ms, "
      "decided_ms, late_statutory, late_promised, counters) VALUES (?,?,?,?,?,?,?,?,?,?)");
  if (!upsert.ok()) return upsert.status();
  sqlite::Statement& s = **upsert;
  s.Bind(1, case_id).Bind(2, facts.month).Bind(3, facts.organ).Bind(4, facts.item);
  s.Bind(5, facts.zone).Bind(6, ToMillis(facts.applied_at));
  if (facts.decided_at) {
    s.Bind(7, ToMillis(*facts.decided_at));
  } else {
    s.BindNull(7);
  }
  s.Bind(8, int64_t{facts.late_statutory}).Bind(9, int64_t{facts.late_promised});
  s.Bind(10, EncodeCounters(facts.counters));
  return s.Run();
}

void SqliteStore::CountChanges::AddCase(const std::string& status, bool lights_known,
                                        std::optional<int64_t> yellow_ms,
                                        std::optional<int64_t> red_ms, int64_t delta) {
  by_status[status] += delta;
  lights.AddCase(status, lights_known, yellow_ms, red_ms, delta);
}

void SqliteStore::CountChanges::Add(const CountChanges& other) {
  for (const auto& [status, delta] : other.by_status)
    by_status[status] += delta;
  for (const auto& [key, delta] : other.indicators)
    indicators[key] += delta;
  lights.Merge(other.lights);
}

Status SqliteStore::WriteCounts(Connection& c, const CountChanges& counts) {
  if (!counts.by_status.empty()) {
    auto add = c.Prepare(
        "INSERT INTO case_counts (status, n) VALUES (?1, ?2) "
        "ON CONFLICT (status) DO UPDATE SET n = n + ?2");
    if (!add.ok()) return add.status();
    for (const auto& [status, delta] : counts.by_status) {
      (*add)->Reset();
      (*add)->Bind(1, status).Bind(2, delta);
      TONGBAN_RETURN_IF_ERROR((*add)->Run());
    }
  }
  if (!counts.lights.decision.empty()) {
    auto add = c.Prepare(
        "INSERT INTO light_changes (at_ms, yellow, red) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (at_ms) DO UPDATE SET yellow = yellow + ?2, red = red + ?3");
    if (!add.ok()) return add.status();
    for (const auto& [at, change] : counts.lights.decision) {
      (*add)->Reset();
      (*add)->Bind(1, at).Bind(2, change.yellow).Bind(3, change.red);
      TONGBAN_RETURN_IF_ERROR((*add)->Run());
    }
  }
  if (!counts.lights.delivery.empty()) {
    auto add = c.Prepare(
        "INSERT INTO delivery_light_changes (at_ms, waiting, yellow, red) VALUES (?1, ?2, ?3, ?4) "
        "ON CONFLICT (at_ms) DO UPDATE SET waiting = waiting + ?2, yellow = yellow + ?3, "
        "red = red + ?4");
    if (!add.ok()) return add.status();
    for (const auto& [at, change] : counts.lights.delivery) {
      (*add)->Reset();
      (*add)->Bind(1, at).Bind(2, change.waiting).Bind(3, change.yellow).Bind(4, change.red);
      TONGBAN_RETURN_IF_ERROR((*add)->Run());
    }
  }
  if (!counts.indicators.empty()) {
    auto add = c.Prepare(
        "INSERT INTO indicator_counts (month, organ, item, zone, name, n) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
        "ON CONFLICT (month, organ, item, zone, name) DO UPDATE SET n = n + ?6");
    if (!add.ok()) return add.status();
    for (const auto& [key, delta] : counts.indicators) {
      if (delta == 0) continue;
      const auto& [month, organ, item, zone] = key.first;
      (*add)->Reset();
      (*add)->Bind(1, month).Bind(2, organ).Bind(3, item).Bind(4, zone).Bind(5, key.second);
      (*add)->Bind(6, delta);
      TONGBAN_RETURN_IF_ERROR((*add)->Run());
    }
  }
  return Status::Ok();
}

Status SqliteStore::DeployAll(const std::vector<DefinitionRecord>& definitions) {
  if (options_.read_only) return Status::FailedPrecondition("the store is open read-only");
  // Deployments are rare: a short-lived connection of their own, serialized with the writer
  // thread's transactions by SQLite's write lock (BEGIN IMMEDIATE waits on the busy timeout).
  auto c = Connect(true);
  if (!c.ok()) return c.status();
  Connection& conn = *c.value();
  TONGBAN_RETURN_IF_ERROR(conn.db.Exec("BEGIN IMMEDIATE"));
  Status stored = StoreDefinitions(conn, definitions);
  if (!stored.ok()) {
    (void)conn.db.Exec("ROLLBACK");
    return stored;
  }
  return conn.db.Exec("COMMIT");
}

Status SqliteStore::StoreDefinitions(Connection& conn,
                                     const std::vector<DefinitionRecord>& definitions) {
  auto existing = conn.Prepare(
      "SELECT content_hash FROM definitions WHERE kind = ? AND id = ? AND version = ?");
  if (!existing.ok()) return existing.status();
  auto insert = conn.Prepare(
      "INSERT INTO definitions (kind, id, version, content_hash, text, deployed_ms) "
      "VALUES (?,?,?,?,?,?)");
  if (!insert.ok()) return insert.status();
  for (const DefinitionRecord& d : definitions) {
    (*existing)->Bind(1, d.kind).Bind(2, d.id).Bind(3, static_cast<int64_t>(d.version));
    const int rc = (*existing)->Step();
    const std::string hash = rc == SQLITE_ROW ? (*existing)->Text(0) : "";
    (*existing)->Reset();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sqlite::StatusFromSqlite(rc, conn.db.Error());
    if (rc == SQLITE_ROW) {
      if (hash == d.content_hash) continue;
      return Status::AlreadyExists(d.kind + " \"" + d.id + "\" version " +
                                   std::to_string(d.version) +
                                   " is already deployed with other content; deploy a new version");
    }
    (*insert)->Reset();
    (*insert)->Bind(1, d.kind).Bind(2, d.id).Bind(3, static_cast<int64_t>(d.version));
    (*insert)->Bind(4, d.content_hash).Bind(5, d.text).Bind(6, ToMillis(d.deployed_at));
    TONGBAN_RETURN_IF_ERROR((*insert)->Run());
  }
  return Status::Ok();
}

StoreStats SqliteStore::Stats() const {
  return StoreStats{commits_.load(),
                    writes_.load(),
                    max_batch_.load(),
                    overloaded_.load(),
                    queued_.load(),
                    wal_checkpoints_.load(),
                    wal_checkpoint_failures_.load()};
}

}  // namespace tongban
