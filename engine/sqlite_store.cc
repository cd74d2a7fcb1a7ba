#include "engine/sqlite_store.h"

#include <algorithm>
#include <map>

namespace tongban {

namespace {

// Each entry migrates the schema from version i to i + 1.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE definitions (
  kind TEXT NOT NULL,
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  content_hash TEXT NOT NULL,
  text TEXT NOT NULL,
  deployed_ms INTEGER NOT NULL,
  PRIMARY KEY (kind, id, version)
) WITHOUT ROWID;
CREATE TRIGGER definitions_immutable_update BEFORE UPDATE ON definitions
BEGIN SELECT RAISE(ABORT, 'deployed definitions are immutable'); END;
CREATE TRIGGER definitions_immutable_delete BEFORE DELETE ON definitions
BEGIN SELECT RAISE(ABORT, 'deployed definitions are immutable'); END;

CREATE TABLE events (
  case_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  time_ms INTEGER NOT NULL,
  actor_id TEXT NOT NULL,
  actor_role TEXT NOT NULL,
  actor_organ TEXT NOT NULL,
  action TEXT NOT NULL,
  data TEXT NOT NULL,
  status TEXT NOT NULL,
  step TEXT NOT NULL,
  definition_id TEXT NOT NULL,
  definition_version INTEGER NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  idempotency_key TEXT,
  PRIMARY KEY (case_id, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX events_idempotency ON events (actor_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

CREATE TABLE cases (
  id TEXT PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,
  query_code TEXT NOT NULL,
  definition_id TEXT NOT NULL,
  definition_version INTEGER NOT NULL,
  status TEXT NOT NULL,
  step TEXT NOT NULL,
  applicant_id TEXT NOT NULL,
  organ_id TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  version INTEGER NOT NULL,
  next_timer_ms INTEGER,
  snapshot TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX cases_status ON cases (status, id);
CREATE INDEX cases_applicant ON cases (applicant_id, id);
CREATE INDEX cases_timer ON cases (next_timer_ms) WHERE next_timer_ms IS NOT NULL;
)sql",
    // 1 -> 2: the ledger (ledger.h), one hash chain over the whole database.
    R"sql(
CREATE TABLE ledger (
  seq INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  actor_id TEXT NOT NULL,
  actor_role TEXT NOT NULL,
  actor_organ TEXT NOT NULL,
  actor_name TEXT NOT NULL,
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,
  data TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX ledger_subject ON ledger (kind, subject);
CREATE TRIGGER ledger_append_only_update BEFORE UPDATE ON ledger
BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
CREATE TRIGGER ledger_append_only_delete BEFORE DELETE ON ledger
BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
)sql",
    // 2 -> 3: counts kept on write (metrics without scanning cases). case_counts holds the number
    // of cases in each status; light_changes, for the cases under review, how many turn yellow and
    // red at each instant (yellow_ms and red_ms of the case, a -1 where a yellow case turns red),
    // so the lights at `now` are two sums over the instants up to it. Cases written before have no
    // light instants (lights_known = 0) until their next write.
    R"sql(
ALTER TABLE cases ADD COLUMN yellow_ms INTEGER;
ALTER TABLE cases ADD COLUMN red_ms INTEGER;
ALTER TABLE cases ADD COLUMN lights_known INTEGER NOT NULL DEFAULT 0;
CREATE INDEX cases_lights_unknown ON cases (id) WHERE lights_known = 0 AND status = 'under_review';
CREATE TABLE case_counts (
  status TEXT PRIMARY KEY,
  n INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO case_counts (status, n) SELECT status, count(*) FROM cases GROUP BY status;
CREATE TABLE light_changes (
  at_ms INTEGER PRIMARY KEY,
  yellow INTEGER NOT NULL,
  red INTEGER NOT NULL
);
)sql",
    // 3 -> 4: documents (store.h), content-addressed: the bytes once per SHA-256, attached to
    // cases.
    R"sql(
CREATE TABLE documents (
  hash TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  content BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE case_documents (
  case_id TEXT NOT NULL,
  hash TEXT NOT NULL REFERENCES documents (hash),
  media_type TEXT NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  attached_ms INTEGER NOT NULL,
  attached_by TEXT NOT NULL,
  PRIMARY KEY (case_id, hash)
);
CREATE TRIGGER documents_append_only_update BEFORE UPDATE ON documents
BEGIN SELECT RAISE(ABORT, 'documents are append-only'); END;
CREATE TRIGGER documents_append_only_delete BEFORE DELETE ON documents
BEGIN SELECT RAISE(ABORT, 'documents are append-only'); END;
CREATE TRIGGER case_documents_append_only_update BEFORE UPDATE ON case_documents
BEGIN SELECT RAISE(ABORT, 'documents are append-only'); END;
CREATE TRIGGER case_documents_append_only_delete BEFORE DELETE ON case_documents
BEGIN SELECT RAISE(ABORT, 'documents are append-only'); END;
)sql",
    // 4 -> 5: the audit queries' indexes and the indicators (赛马) kept on write. case_facts holds
    // each case's facts (case_facts.h) as of its last write; indicator_counts their sums per
    // (month, organ, item, zone, name), changed in the same transaction as the case;
    // delegated_events the events taken under each delegation (filled here from the events'
    // data.authority for the events written before). Cases written before have no facts until
    // their next write.
    R"sql(
CREATE INDEX events_actor ON events (actor_id, time_ms);
CREATE INDEX events_action ON events (action, time_ms);
CREATE TABLE case_facts (
  case_id TEXT PRIMARY KEY,
  month TEXT NOT NULL,
  organ TEXT NOT NULL,
  item TEXT NOT NULL,
  zone TEXT NOT NULL,
  applied_ms INTEGER NOT NULL,
  decided_ms INTEGER,
  late_statutory INTEGER NOT NULL,
  late_promised INTEGER NOT NULL,
  counters TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX case_facts_applied ON case_facts (applied_ms, case_id);
CREATE INDEX case_facts_organ ON case_facts (organ, applied_ms, case_id);
CREATE INDEX case_facts_item ON case_facts (item, applied_ms, case_id);
CREATE INDEX case_facts_decided ON case_facts (decided_ms, case_id) WHERE decided_ms IS NOT NULL;
CREATE TABLE indicator_counts (
  month TEXT NOT NULL,
  organ TEXT NOT NULL,
  item TEXT NOT NULL,
  zone TEXT NOT NULL,
  name TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (month, organ, item, zone, name)
) WITHOUT ROWID;
CREATE TABLE delegated_events (
  delegation_id TEXT NOT NULL,
  time_ms INTEGER NOT NULL,
  case_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY (delegation_id, time_ms, case_id, seq)
) WITHOUT ROWID;
INSERT INTO delegated_events (delegation_id, time_ms, case_id, seq)
  SELECT json_extract(data, '$.authority.delegation'), time_ms, case_id, seq FROM events
  WHERE json_valid(data) AND json_extract(data, '$.authority.basis') = 'delegation'
    AND json_type(data, '$.authority.delegation') = 'text';
)sql",
    // 5 -> 6: the delivery lights kept on write (light_count_deltas.h): for each granted case
    // awaiting delivery, yellow_ms and red_ms now hold its delivery clock's instants, and
    // delivery_light_changes their sums (with `waiting`, the number of such cases, at instant 0).
    // The granted cases written before have none: they count as unknown until their next write
    // (the timer loop rewrites them).
    R"sql(
CREATE TABLE delivery_light_changes (
  at_ms INTEGER PRIMARY KEY,
  waiting INTEGER NOT NULL,
  yellow INTEGER NOT NULL,
  red INTEGER NOT NULL
);
UPDATE cases SET lights_known = 0 WHERE status = 'approved';
CREATE INDEX cases_delivery_lights_unknown ON cases (id)
  WHERE lights_known = 0 AND status = 'approved';
)sql",
    // 6 -> 7: cases becomes a rowid table, its id a unique key. A WITHOUT ROWID row keeps at most
    // about a quarter of a 4 KB page in the b-tree; a case's row with its snapshot (about 1.5 KB)
    // is larger, so every case read went to an overflow page, which SQLite reads from the file
    // each time rather than through its page cache: a read by id took 3 times as long and the
    // file was 1.8 times the size (docs/benchmarks.md, "Issue 9, round 4"). A rowid table keeps
    // rows of up to about 4 KB in the page.
    R"sql(
CREATE TABLE cases_v7 (
  id TEXT NOT NULL PRIMARY KEY,
  number TEXT NOT NULL UNIQUE,
  query_code TEXT NOT NULL,
  definition_id TEXT NOT NULL,
  definition_version INTEGER NOT NULL,
  status TEXT NOT NULL,
  step TEXT NOT NULL,
  applicant_id TEXT NOT NULL,
  organ_id TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL,
  version INTEGER NOT NULL,
  next_timer_ms INTEGER,
  snapshot TEXT NOT NULL,
  yellow_ms INTEGER,
  red_ms INTEGER,
  lights_known INTEGER NOT NULL DEFAULT 0
);
INSERT INTO cases_v7 (id, number, query_code, definition_id, definition_version, status, step,
                      applicant_id, organ_id, created_ms, updated_ms, version, next_timer_ms,
                      snapshot, yellow_ms, red_ms, lights_known)
  SELECT id, number, query_code, definition_id, definition_version, status, step, applicant_id,
         organ_id, created_ms, updated_ms, version, next_timer_ms, snapshot, yellow_ms, red_ms,
         lights_known
  FROM cases ORDER BY id;
DROP TABLE cases;
ALTER TABLE cases_v7 RENAME TO cases;
CREATE INDEX cases_status ON cases (status, id);
CREATE INDEX cases_applicant ON cases (applicant_id, id);
CREATE INDEX cases_timer ON cases (next_timer_ms) WHERE next_timer_ms IS NOT NULL;
CREATE INDEX cases_lights_unknown ON cases (id) WHERE lights_known = 0 AND status = 'under_review';
CREATE INDEX cases_delivery_lights_unknown ON cases (id)
  WHERE lights_known = 0 AND status = 'approved';
)sql",
};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == SqliteStore::kSchemaVersion);

constexpr const char* kCaseColumns =
    "id, number, query_code, definition_id, definition_version, status, step, applicant_id, "
    "organ_id, created_ms, updated_ms, version, next_timer_ms, snapshot, yellow_ms, red_ms, "
    "lights_known";
// Files opened read-only, not migrated: before version 6 no granted case has its delivery
// instants; a file of version 2 has no light instants at all.
constexpr const char* kCaseColumnsV3 =
    "id, number, query_code, definition_id, definition_version, status, step, applicant_id, "
    "organ_id, created_ms, updated_ms, version, next_timer_ms, snapshot, yellow_ms, red_ms, "
    "lights_known AND status <> 'approved'";
constexpr const char* kCaseColumnsV2 =
    "id, number, query_code, definition_id, definition_version, status, step, applicant_id, "
    "organ_id, created_ms, updated_ms, version, next_timer_ms, snapshot, NULL, NULL, "
    "status NOT IN ('under_review', 'approved')";

Instant FromMillis(int64_t ms) {
  return Instant(std::chrono::milliseconds(ms));
}
int64_t ToMillis(Instant t) {
  return t.time_since_epoch().count();
}

// Columns case_id, hash, media_type, size, name, kind, attached_ms, attached_by.
DocumentRecord ReadDocument(const sqlite::Statement& s) {
  DocumentRecord d;
  d.case_id = s.Text(0);
  d.hash = s.Text(1);
  d.media_type = s.Text(2);
  d.size = s.Int(3);
  d.name = s.Text(4);
  d.kind = s.Text(5);
  d.attached_at = FromMillis(s.Int(6));
  d.attached_by = s.Text(7);
  return d;
}

// Reads the row of CaseColumns() into `r`, assigning every field: a record reused from row to row
// keeps its strings' buffers.
void ReadCaseInto(const sqlite::Statement& s, CaseRecord& r) {
  r.id.assign(s.TextView(0));
  r.number.assign(s.TextView(1));
  r.query_code.assign(s.TextView(2));
  r.definition_id.assign(s.TextView(3));
  r.definition_version = static_cast<int>(s.Int(4));
  r.status.assign(s.TextView(5));
  r.step.assign(s.TextView(6));
  r.applicant_id.assign(s.TextView(7));
  r.organ_id.assign(s.TextView(8));
  r.created_at = FromMillis(s.Int(9));
  r.updated_at = FromMillis(s.Int(10));
  r.version = s.Int(11);
  r.next_timer_at.reset();
  if (!s.IsNull(12)) r.next_timer_at = FromMillis(s.Int(12));
  r.snapshot.assign(s.TextView(13));
  r.yellow_at.reset();
  if (!s.IsNull(14)) r.yellow_at = FromMillis(s.Int(14));
  r.red_at.reset();
  if (!s.IsNull(15)) r.red_at = FromMillis(s.Int(15));
  r.lights_known = s.Int(16) != 0;
  r.facts.reset();
}

CaseRecord ReadCase(const sqlite::Statement& s) {
  CaseRecord r;
  ReadCaseInto(s, r);
  return r;
}

// A read that stopped on an error: the disk (kUnavailable), a damaged file (kDataLoss), …
Status ReadError(int rc) {
  return sqlite::StatusFromSqlite(rc, sqlite3_errstr(rc));
}

std::optional<int64_t> OptionalMillis(const std::optional<Instant>& t) {
  if (!t) return std::nullopt;
  return ToMillis(*t);
}

}  // namespace

struct SqliteStore::Connection {
  sqlite::Database db;
  std::map<std::string, sqlite::Statement> statements;

  // A prepared statement, cached for the life of the connection.
  Result<sqlite::Statement*> Prepare(const std::string& sql) {
    auto it = statements.find(sql);
    if (it == statements.end()) {
      sqlite::Statement statement(db.get(), sql);
      if (!statement.ok()) {
        // Preparing reads the schema: a failing disk is kUnavailable here too.
        Status failed = sqlite::StatusFromSqlite(sqlite3_extended_errcode(db.get()),
                                                 statement.error() + " in: " + sql);
        return failed.code() == StatusCode::kAlreadyExists ? Status::Internal(failed.message())
                                                           : failed;
      }
      it = statements.emplace(sql, std::move(statement)).first;
    }
    it->second.Reset();
    return &it->second;
  }

  // Runs a statement without parameters (BEGIN, SAVEPOINT, COMMIT...) prepared once: the writer
  // runs four of them per batch and two per write, and parsing them each time showed in profiles.
  Status Run(const std::string& sql) {
    auto statement = Prepare(sql);
    if (!statement.ok()) return statement.status();
    return (*statement)->Run();
  }
};

// Borrows a reader connection for the scope of one read.
class SqliteStore::Lease {
 public:
  explicit Lease(SqliteStore* store) : store_(store), connection_(store->AcquireReader()) {}
  ~Lease() {
    if (connection_) store_->ReleaseReader(std::move(connection_));
  }
  Connection* get() { return connection_.get(); }
  bool ok() const { return connection_ != nullptr; }

 private:
  SqliteStore* store_;
  std::unique_ptr<Connection> connection_;
};

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
    TONGBAN_RETURN_IF_ERROR(connection->db.Exec("PRAGMA journal_mode=WAL"));
    TONGBAN_RETURN_IF_ERROR(connection->db.Exec("PRAGMA synchronous=" + options_.synchronous));
  }
  return connection;
}

Status SqliteStore::Initialize() {
  if (options_.synchronous != "FULL" && options_.synchronous != "NORMAL" &&
      options_.synchronous != "OFF") {
    return Status::InvalidArgument("synchronous must be FULL, NORMAL or OFF");
  }
  auto first = Connect(!options_.read_only);
  if (!first.ok()) return first.status();
  Connection& c = *first.value();
  auto version_statement = c.Prepare("PRAGMA user_version");
  if (!version_statement.ok()) return version_statement.status();
  // The first read of the file: this is where a file that is not a database at all fails.
  if ((*version_statement)->Step() != SQLITE_ROW) {
    std::string error = c.db.Error();
    (*version_statement)->Reset();
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
      migrated = c.db.Exec(kMigrations[version]);
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
  writer_ = std::move(first).value();
  writer_thread_ = std::thread([this] { WriterLoop(); });
  return Status::Ok();
}

SqliteStore::~SqliteStore() {
  {
    std::lock_guard<std::mutex> lock(queue_mutex_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_thread_.joinable()) writer_thread_.join();
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
    TONGBAN_RETURN_IF_ERROR(s.Run());
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
  auto old =
      c.Prepare("SELECT month, organ, item, zone, counters FROM case_facts WHERE case_id = ?");
  if (!old.ok()) return old.status();
  (*old)->Bind(1, case_id);
  const int rc = (*old)->Step();
  if (rc == SQLITE_ROW) {
    IndicatorKey key{(*old)->Text(0), (*old)->Text(1), (*old)->Text(2), (*old)->Text(3)};
    for (const auto& [name, value] : DecodeCounters((*old)->Text(4)))
      counts->indicators[{key, name}] -= value;
  }
  (*old)->Reset();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sqlite::StatusFromSqlite(rc, c.db.Error());
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

Status SqliteStore::Deploy(const DefinitionRecord& d) {
  if (options_.read_only) return Status::FailedPrecondition("the store is open read-only");
  // Deployments are rare: a short-lived connection of their own, serialized with the writer
  // thread's transactions by SQLite's write lock (BEGIN IMMEDIATE waits on the busy timeout).
  auto c = Connect(true);
  if (!c.ok()) return c.status();
  Connection& conn = *c.value();
  TONGBAN_RETURN_IF_ERROR(conn.db.Exec("BEGIN IMMEDIATE"));
  auto existing = conn.Prepare(
      "SELECT content_hash FROM definitions WHERE kind = ? AND id = ? AND version = ?");
  if (!existing.ok()) {
    (void)conn.db.Exec("ROLLBACK");
    return existing.status();
  }
  (*existing)->Bind(1, d.kind).Bind(2, d.id).Bind(3, static_cast<int64_t>(d.version));
  if ((*existing)->Step() == SQLITE_ROW) {
    std::string hash = (*existing)->Text(0);
    (*existing)->Reset();
    (void)conn.db.Exec("ROLLBACK");
    if (hash == d.content_hash) return Status::Ok();
    return Status::AlreadyExists(d.kind + " \"" + d.id + "\" version " + std::to_string(d.version) +
                                 " is already deployed with other content; deploy a new version");
  }
  (*existing)->Reset();
  auto insert = conn.Prepare(
      "INSERT INTO definitions (kind, id, version, content_hash, text, deployed_ms) "
      "VALUES (?,?,?,?,?,?)");
  if (!insert.ok()) {
    (void)conn.db.Exec("ROLLBACK");
    return insert.status();
  }
  (*insert)->Bind(1, d.kind).Bind(2, d.id).Bind(3, static_cast<int64_t>(d.version));
  (*insert)->Bind(4, d.content_hash).Bind(5, d.text).Bind(6, ToMillis(d.deployed_at));
  Status s = (*insert)->Run();
  if (!s.ok()) {
    (void)conn.db.Exec("ROLLBACK");
    return s;
  }
  return conn.db.Exec("COMMIT");
}

// ---- Reads --------------------------------------------------------------------------------------

#define TONGBAN_LEASE(lease) \
  Lease lease(this);         \
  if (!lease.ok()) return Status::Unavailable("cannot open a reader connection")

Result<std::vector<DefinitionRecord>> SqliteStore::Definitions() {
  TONGBAN_LEASE(lease);
  auto s = lease.get()->Prepare(
      "SELECT kind, id, version, content_hash, text, deployed_ms FROM definitions "
      "ORDER BY kind, id, version");  // calendars before items: items refer to them
  if (!s.ok()) return s.status();
  std::vector<DefinitionRecord> out;
  int rc;
  while ((rc = (*s)->Step()) == SQLITE_ROW) {
    out.push_back({(*s)->Text(0), (*s)->Text(1), static_cast<int>((*s)->Int(2)), (*s)->Text(3),
                   (*s)->Text(4), FromMillis((*s)->Int(5))});
  }
  (*s)->Reset();
  if (rc != SQLITE_DONE) return ReadError(rc);
  return out;
}

Result<std::optional<CaseRecord>> SqliteStore::GetCase(const std::string& id) {
  TONGBAN_LEASE(lease);
  auto s =
      lease.get()->Prepare(std::string("SELECT ") + CaseColumns() + " FROM cases WHERE id = ?");
  if (!s.ok()) return s.status();
  (*s)->Bind(1, id);
  std::optional<CaseRecord> out;
  const int rc = (*s)->Step();
  if (rc == SQLITE_ROW) out = ReadCase(**s);
  (*s)->Reset();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return ReadError(rc);
  return out;
}

Result<std::optional<CaseRecord>> SqliteStore::GetCaseByNumber(const std::string& number) {
  TONGBAN_LEASE(lease);
  auto s =
      lease.get()->Prepare(std::string("SELECT ") + CaseColumns() + " FROM cases WHERE number = ?");
  if (!s.ok()) return s.status();
  (*s)->Bind(1, number);
  std::optional<CaseRecord> out;
  const int rc = (*s)->Step();
  if (rc == SQLITE_ROW) out = ReadCase(**s);
  (*s)->Reset();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return ReadError(rc);
  return out;
}

Result<std::vector<Event>> SqliteStore::GetEvents(const std::string& case_id, int64_t up_to_seq) {
  TONGBAN_LEASE(lease);
  auto s = lease.get()->Prepare(
      "SELECT seq, time_ms, actor_id, actor_role, actor_organ, action, data, status, step, "
      "definition_id, definition_version, prev_hash, hash, idempotency_key FROM events "
      "WHERE case_id = ? AND seq <= ? ORDER BY seq");
  if (!s.ok()) return s.status();
  (*s)->Bind(1, case_id).Bind(2, up_to_seq);
  std::vector<Event> out;
  int rc;
  while ((rc = (*s)->Step()) == SQLITE_ROW) {
    Event e;
    e.case_id = case_id;
    e.seq = (*s)->Int(0);
    e.time = FromMillis((*s)->Int(1));
    e.actor.id = (*s)->Text(2);
    e.actor.role = (*s)->Text(3);
    e.actor.organ = (*s)->Text(4);
    e.action = (*s)->Text(5);
    e.data = (*s)->Text(6);
    e.status = (*s)->Text(7);
    e.step = (*s)->Text(8);
    e.definition_id = (*s)->Text(9);
    e.definition_version = static_cast<int>((*s)->Int(10));
    e.prev_hash = (*s)->Text(11);
    e.hash = (*s)->Text(12);
    e.idempotency_key = (*s)->Text(13);
    out.push_back(std::move(e));
  }
  (*s)->Reset();
  if (rc != SQLITE_DONE) return ReadError(rc);
  return out;
}

Result<std::vector<LedgerEntry>> SqliteStore::Ledger(int64_t after_seq) {
  if (file_schema_version_ < 2) return std::vector<LedgerEntry>{};  // no ledger before version 2
  TONGBAN_LEASE(lease);
  auto s = lease.get()->Prepare(
      "SELECT seq, time_ms, actor_id, actor_role, actor_organ, actor_name, kind, subject, data, "
      "prev_hash, hash FROM ledger WHERE seq > ? ORDER BY seq");
  if (!s.ok()) return s.status();
  (*s)->Bind(1, after_seq);
  std::vector<LedgerEntry> out;
  int rc;
  while ((rc = (*s)->Step()) == SQLITE_ROW) {
    LedgerEntry e;
    e.seq = (*s)->Int(0);
    e.time = FromMillis((*s)->Int(1));
    e.actor.id = (*s)->Text(2);
    e.actor.role = (*s)->Text(3);
    e.actor.organ = (*s)->Text(4);
    e.actor.name = (*s)->Text(5);
    e.kind = (*s)->Text(6);
    e.subject = (*s)->Text(7);
    e.data = (*s)->Text(8);
    e.prev_hash = (*s)->Text(9);
    e.hash = (*s)->Text(10);
    out.push_back(std::move(e));
  }
  (*s)->Reset();
  if (rc != SQLITE_DONE) return ReadError(rc);
  return out;
}

Result<std::optional<IdempotencyHit>> SqliteStore::FindIdempotencyKey(const std::string& actor_id,
                                                                      const std::string& key) {
  TONGBAN_LEASE(lease);
  auto s = lease.get()->Prepare(
      "SELECT case_id, seq FROM events WHERE actor_id = ? AND idempotency_key = ?");
  if (!s.ok()) return s.status();
  (*s)->Bind(1, actor_id).Bind(2, key);
  std::optional<IdempotencyHit> out;
  const int rc = (*s)->Step();
  if (rc == SQLITE_ROW) out = IdempotencyHit{(*s)->Text(0), (*s)->Int(1)};
  (*s)->Reset();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return ReadError(rc);
  return out;
}

Result<std::vector<CaseRecord>> SqliteStore::ListCases(const CaseFilter& f) {
  TONGBAN_LEASE(lease);
  std::string sql = std::string("SELECT ") + CaseColumns() + " FROM cases WHERE id > ?1";
  if (!f.status.empty()) sql += " AND status = ?2";
  if (!f.definition_id.empty()) sql += " AND definition_id = ?3";
  if (!f.applicant_id.empty()) sql += " AND applicant_id = ?4";
  if (!f.organ_id.empty()) sql += " AND organ_id = ?5";
  if (f.created_from) sql += " AND created_ms >= ?6";
  if (f.created_to) sql += " AND created_ms < ?7";
  sql += " ORDER BY id LIMIT ?8";
  auto s = lease.get()->Prepare(sql);
  if (!s.ok()) return s.status();
  (*s)->Bind(1, f.after_id);
  if (!f.status.empty()) (*s)->Bind(2, f.status);
  if (!f.definition_id.empty()) (*s)->Bind(3, f.definition_id);
  if (!f.applicant_id.empty()) (*s)->Bind(4, f.applicant_id);
  if (!f.organ_id.empty()) (*s)->Bind(5, f.organ_id);
  if (f.created_from) (*s)->Bind(6, ToMillis(*f.created_from));
  if (f.created_to) (*s)->Bind(7, ToMillis(*f.created_to));
  (*s)->Bind(8, static_cast<int64_t>(f.limit));
  std::vector<CaseRecord> out;
  int rc;
  while ((rc = (*s)->Step()) == SQLITE_ROW)
    out.push_back(ReadCase(**s));
  (*s)->Reset();
  if (rc != SQLITE_DONE) return ReadError(rc);
  return out;
}

Result<std::vector<std::string>> SqliteStore::DueTimers(Instant now, int limit) {
  TONGBAN_LEASE(lease);
  auto s = lease.get()->Prepare(
      "SELECT id FROM cases WHERE next_timer_ms IS NOT NULL AND next_timer_ms <= ? "
      "ORDER BY next_timer_ms LIMIT ?");
  if (!s.ok()) return s.status();
  (*s)->Bind(1, ToMillis(now)).Bind(2, static_cast<int64_t>(limit));
  std::vector<std::string> out;
  int rc;
  while ((rc = (*s)->Step()) == SQLITE_ROW)
    out.push_back((*s)->Text(0));
  (*s)->Reset();
  if (rc != SQLITE_DONE) return ReadError(rc);
  return out;
}

Status SqliteStore::ForEachCaseId(const std::function<bool(const std::string&)>& visit) {
  std::string after;
  while (true) {
    std::vector<std::string> ids;
    {
      TONGBAN_LEASE(lease);
      auto s = lease.get()->Prepare("SELECT id FROM cases WHERE id > ? ORDER BY id LIMIT 1000");
      if (!s.ok()) return s.status();
      (*s)->Bind(1, after);
      int rc;
      while ((rc = (*s)->Step()) == SQLITE_ROW)
        ids.push_back((*s)->Text(0));
      (*s)->Reset();
      if (rc != SQLITE_DONE) return ReadError(rc);
    }
    if (ids.empty()) return Status::Ok();
    for (const std::string& id : ids) {
      if (!visit(id)) return Status::Ok();
    }
    after = ids.back();
  }
}

namespace {
// " WHERE <column> >= ?1 [AND <column> < ?2]" for a range of case ids.
std::string RangeClause(const char* column, const CaseIdRange& range) {
  std::string clause = std::string(" WHERE ") + column + " >= ?1";
  if (!range.to.empty()) clause += std::string(" AND ") + column + " < ?2";
  return clause;
}
void BindRange(sqlite::Statement* s, const CaseIdRange& range) {
  s->Bind(1, range.from);
  if (!range.to.empty()) s->Bind(2, range.to);
}
}  // namespace

Status SqliteStore::ForEachEvent(const CaseIdRange& range,
                                 const std::function<bool(Event&)>& visit) {
  TONGBAN_LEASE(lease);
  // A statement of its own: this scan may run for minutes and must not share a cached one.
  sqlite::Statement s(lease.get()->db.get(),
                      "SELECT case_id, seq, time_ms, actor_id, actor_role, actor_organ, action, "
                      "data, status, step, definition_id, definition_version, prev_hash, hash "
                      "FROM events" +
                          RangeClause("case_id", range) + " ORDER BY case_id, seq");
  if (!s.ok()) return Status::Internal("sqlite: " + s.error());
  BindRange(&s, range);
  // One Event for the whole scan: assigning into its strings reuses their buffers.
  Event e;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    e.case_id.assign(s.TextView(0));
    e.seq = s.Int(1);
    e.time = FromMillis(s.Int(2));
    e.actor.id.assign(s.TextView(3));
    e.actor.role.assign(s.TextView(4));
    e.actor.organ.assign(s.TextView(5));
    e.actor.name.clear();
    e.action.assign(s.TextView(6));
    e.data.assign(s.TextView(7));
    e.status.assign(s.TextView(8));
    e.step.assign(s.TextView(9));
    e.definition_id.assign(s.TextView(10));
    e.definition_version = static_cast<int>(s.Int(11));
    e.prev_hash.assign(s.TextView(12));
    e.hash.assign(s.TextView(13));
    e.idempotency_key.clear();
    if (!visit(e)) return Status::Ok();
  }
  if (rc != SQLITE_DONE) return ReadError(rc);
  return Status::Ok();
}

Status SqliteStore::ForEachCase(const CaseIdRange& range,
                                const std::function<bool(CaseRecord&)>& visit) {
  TONGBAN_LEASE(lease);
  sqlite::Statement s(lease.get()->db.get(), std::string("SELECT ") + CaseColumns() +
                                                 " FROM cases" + RangeClause("id", range) +
                                                 " ORDER BY id");
  if (!s.ok()) return Status::Internal("sqlite: " + s.error());
  BindRange(&s, range);
  // One record for the whole scan, as ForEachEvent does with its event.
  CaseRecord r;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    ReadCaseInto(s, r);
    if (!visit(r)) return Status::Ok();
  }
  if (rc != SQLITE_DONE) return ReadError(rc);
  return Status::Ok();
}

Result<std::optional<std::string>> SqliteStore::CaseIdAt(int64_t index) {
  TONGBAN_LEASE(lease);
  auto s = lease.get()->Prepare("SELECT id FROM cases ORDER BY id LIMIT 1 OFFSET ?");
  if (!s.ok()) return s.status();
  (*s)->Bind(1, index);
  std::optional<std::string> id;
  int rc = (*s)->Step();
  if (rc == SQLITE_ROW) id = (*s)->Text(0);
  (*s)->Reset();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return Status::Internal("sqlite: reading a case id");
  return id;
}

Result<int64_t> SqliteStore::CountEvents() {
  TONGBAN_LEASE(lease);
  auto s = lease.get()->Prepare("SELECT count(*) FROM events");
  if (!s.ok()) return s.status();
  const int rc = (*s)->Step();
  int64_t n = rc == SQLITE_ROW ? (*s)->Int(0) : 0;
  (*s)->Reset();
  if (rc != SQLITE_ROW) return ReadError(rc);
  return n;
}

Result<int64_t> SqliteStore::CountCases() {
  TONGBAN_LEASE(lease);
  auto s = lease.get()->Prepare("SELECT count(*) FROM cases");
  if (!s.ok()) return s.status();
  const int rc = (*s)->Step();
  int64_t n = rc == SQLITE_ROW ? (*s)->Int(0) : 0;
  (*s)->Reset();
  if (rc != SQLITE_ROW) return ReadError(rc);
  return n;
}

Result<std::vector<std::pair<std::string, int64_t>>> SqliteStore::CountByStatus() {
  TONGBAN_LEASE(lease);
  // Before schema version 3 (a file opened read-only) there are no counts kept: count.
  auto s = lease.get()->Prepare(
      file_schema_version_ >= 3 ? "SELECT status, n FROM case_counts WHERE n != 0 ORDER BY status"
                                : "SELECT status, count(*) FROM cases GROUP BY status");
  if (!s.ok()) return s.status();
  std::vector<std::pair<std::string, int64_t>> out;
  int rc;
  while ((rc = (*s)->Step()) == SQLITE_ROW)
    out.push_back({(*s)->Text(0), (*s)->Int(1)});
  (*s)->Reset();
  if (rc != SQLITE_DONE) return ReadError(rc);
  return out;
}

Result<LightCounts> SqliteStore::CountLights(Instant now, LightClock clock) {
  const bool delivery = clock == LightClock::kDelivery;
  if (file_schema_version_ < (delivery ? 6 : 3)) {
    return Status::FailedPrecondition(delivery
                                          ? "delivery lights are recorded from schema version 6 on"
                                          : "lights are recorded from schema version 3 on");
  }
  TONGBAN_LEASE(lease);
  LightCounts counts;
  // One row per instant at which some case's light changes (local midnights), not per case; the
  // cases under review are counted by status, the deliveries awaited by `waiting`.
  auto sums = lease.get()->Prepare(
      delivery ? "SELECT coalesce(sum(waiting), 0), coalesce(sum(yellow), 0), "
                 "coalesce(sum(red), 0) FROM delivery_light_changes WHERE at_ms <= ?1"
               : "SELECT (SELECT coalesce(sum(n), 0) FROM case_counts WHERE status = "
                 "'under_review'), coalesce(sum(yellow), 0), coalesce(sum(red), 0) "
                 "FROM light_changes WHERE at_ms <= ?1");
  if (!sums.ok()) return sums.status();
  (*sums)->Bind(1, ToMillis(now));
  int64_t counted = 0;
  int rc = (*sums)->Step();
  if (rc == SQLITE_ROW) {
    counted = (*sums)->Int(0);
    counts.yellow = (*sums)->Int(1);
    counts.red = (*sums)->Int(2);
  }
  (*sums)->Reset();
  if (rc != SQLITE_ROW) return ReadError(rc);
  // The partial indexes hold only the cases of an older version (the planner would rather walk
  // cases_status, every case of the status).
  auto unknown = lease.get()->Prepare(
      delivery ? "SELECT count(*) FROM cases INDEXED BY cases_delivery_lights_unknown "
                 "WHERE lights_known = 0 AND status = 'approved'"
               : "SELECT count(*) FROM cases INDEXED BY cases_lights_unknown "
                 "WHERE lights_known = 0 AND status = 'under_review'");
  if (!unknown.ok()) return unknown.status();
  rc = (*unknown)->Step();
  if (rc == SQLITE_ROW) counts.unknown = (*unknown)->Int(0);
  (*unknown)->Reset();
  if (rc != SQLITE_ROW) return ReadError(rc);
  // Under review, an unknown case is in the count by status; awaiting delivery, it never was.
  counts.green = counted - counts.yellow - counts.red - (delivery ? 0 : counts.unknown);
  return counts;
}

Result<std::vector<std::string>> SqliteStore::CasesWithUnknownLights(int limit, LightClock clock) {
  const bool delivery = clock == LightClock::kDelivery;
  if (file_schema_version_ < (delivery ? 6 : 3)) return std::vector<std::string>{};
  TONGBAN_LEASE(lease);
  auto s = lease.get()->Prepare(
      delivery ? "SELECT id FROM cases INDEXED BY cases_delivery_lights_unknown "
                 "WHERE lights_known = 0 AND status = 'approved' ORDER BY id LIMIT ?"
               : "SELECT id FROM cases INDEXED BY cases_lights_unknown "
                 "WHERE lights_known = 0 AND status = 'under_review' ORDER BY id LIMIT ?");
  if (!s.ok()) return s.status();
  (*s)->Bind(1, static_cast<int64_t>(limit));
  std::vector<std::string> out;
  int rc;
  while ((rc = (*s)->Step()) == SQLITE_ROW)
    out.push_back((*s)->Text(0));
  (*s)->Reset();
  if (rc != SQLITE_DONE) return ReadError(rc);
  return out;
}

Result<std::vector<IndicatorCount>> SqliteStore::Indicators(const std::string& from_month,
                                                            const std::string& to_month) {
  if (file_schema_version_ < 5) return std::vector<IndicatorCount>{};
  TONGBAN_LEASE(lease);
  auto s = lease.get()->Prepare(
      "SELECT month, organ, item, zone, name, n FROM indicator_counts "
      "WHERE month >= ? AND month <= ? AND n != 0 ORDER BY month, organ, item, zone, name");
  if (!s.ok()) return s.status();
  (*s)->Bind(1, from_month).Bind(2, to_month);
  std::vector<IndicatorCount> out;
  int rc;
  while ((rc = (*s)->Step()) == SQLITE_ROW) {
    out.push_back(
        {(*s)->Text(0), (*s)->Text(1), (*s)->Text(2), (*s)->Text(3), (*s)->Text(4), (*s)->Int(5)});
  }
  (*s)->Reset();
  if (rc != SQLITE_DONE) return ReadError(rc);
  return out;
}

Result<std::vector<FactsRow>> SqliteStore::FindCaseFacts(const FactsQuery& q) {
  if (file_schema_version_ < 5) return std::vector<FactsRow>{};
  TONGBAN_LEASE(lease);
  const bool by_decision = q.decided_from || q.decided_to || q.late_only;
  std::string sql =
      "SELECT f.case_id, c.number, c.status, f.month, f.organ, f.item, f.zone, f.applied_ms, "
      "f.decided_ms, f.late_statutory, f.late_promised, f.counters FROM case_facts f "
      "JOIN cases c ON c.id = f.case_id WHERE f.applied_ms >= ?1 AND f.applied_ms < ?2";
  if (by_decision) sql += " AND f.decided_ms >= ?3 AND f.decided_ms < ?4";
  if (!q.organ.empty()) sql += " AND f.organ = ?5";
  if (!q.item.empty()) sql += " AND f.item = ?6";
  if (q.late_only) sql += " AND (f.late_statutory = 1 OR f.late_promised = 1)";
  sql += by_decision ? " ORDER BY f.decided_ms, f.case_id" : " ORDER BY f.applied_ms, f.case_id";
  sql += " LIMIT ?7";
  auto s = lease.get()->Prepare(sql);
  if (!s.ok()) return s.status();
  auto bound = [](const std::optional<Instant>& t, int64_t open) {
    return t ? ToMillis(*t) : open;
  };
  (*s)->Bind(1, bound(q.applied_from, INT64_MIN)).Bind(2, bound(q.applied_to, INT64_MAX));
  if (by_decision) {
    (*s)->Bind(3, bound(q.decided_from, INT64_MIN)).Bind(4, bound(q.decided_to, INT64_MAX));
  }
  if (!q.organ.empty()) (*s)->Bind(5, q.organ);
  if (!q.item.empty()) (*s)->Bind(6, q.item);
  (*s)->Bind(7, static_cast<int64_t>(q.limit));
  std::vector<FactsRow> out;
  int rc;
  while ((rc = (*s)->Step()) == SQLITE_ROW) {
    FactsRow row;
    row.case_id = (*s)->Text(0);
    row.number = (*s)->Text(1);
    row.status = (*s)->Text(2);
    row.facts.month = (*s)->Text(3);
    row.facts.organ = (*s)->Text(4);
    row.facts.item = (*s)->Text(5);
    row.facts.zone = (*s)->Text(6);
    row.facts.applied_at = FromMillis((*s)->Int(7));
    if (!(*s)->IsNull(8)) row.facts.decided_at = FromMillis((*s)->Int(8));
    row.facts.late_statutory = (*s)->Int(9) != 0;
    row.facts.late_promised = (*s)->Int(10) != 0;
    row.facts.counters = DecodeCounters((*s)->Text(11));
    out.push_back(std::move(row));
  }
  (*s)->Reset();
  if (rc != SQLITE_DONE) return ReadError(rc);
  return out;
}

Result<std::vector<Event>> SqliteStore::FindEvents(const EventQuery& q) {
  const int keys = !q.actor_id.empty() + !q.actions.empty() + !q.delegation.empty();
  if (keys != 1) {
    return Status::InvalidArgument(
        "an event query names exactly one of actor, actions, delegation");
  }
  if (file_schema_version_ < 5) return std::vector<Event>{};
  TONGBAN_LEASE(lease);
  const std::string columns =
      "e.case_id, e.seq, e.time_ms, e.actor_id, e.actor_role, e.actor_organ, e.action, e.data, "
      "e.status, e.step, e.definition_id, e.definition_version, e.prev_hash, e.hash, "
      "e.idempotency_key";
  std::string sql;
  if (!q.delegation.empty()) {
    sql = "SELECT " + columns +
          " FROM delegated_events d JOIN events e ON e.case_id = d.case_id AND e.seq = d.seq "
          "WHERE d.delegation_id = ?3 AND d.time_ms >= ?1 AND d.time_ms < ?2 "
          "ORDER BY d.time_ms, d.case_id, d.seq LIMIT ?4";
  } else if (!q.actor_id.empty()) {
    sql = "SELECT " + columns +
          " FROM events e WHERE e.actor_id = ?3 AND e.time_ms >= ?1 AND e.time_ms < ?2 "
          "ORDER BY e.time_ms, e.case_id, e.seq LIMIT ?4";
  } else {
    std::string in;
    for (size_t i = 0; i < q.actions.size(); ++i)
      in += (i == 0 ? "?" : ", ?") + std::to_string(5 + i);
    sql = "SELECT " + columns + " FROM events e WHERE e.action IN (" + in +
          ") AND e.time_ms >= ?1 AND e.time_ms < ?2 ORDER BY e.time_ms, e.case_id, e.seq LIMIT ?4";
  }
  auto s = lease.get()->Prepare(sql);
  if (!s.ok()) return s.status();
  (*s)->Bind(1, q.from ? ToMillis(*q.from) : INT64_MIN);
  (*s)->Bind(2, q.to ? ToMillis(*q.to) : INT64_MAX);
  if (!q.delegation.empty()) (*s)->Bind(3, q.delegation);
  if (!q.actor_id.empty()) (*s)->Bind(3, q.actor_id);
  (*s)->Bind(4, static_cast<int64_t>(q.limit));
  for (size_t i = 0; i < q.actions.size(); ++i)
    (*s)->Bind(static_cast<int>(5 + i), q.actions[i]);
  std::vector<Event> out;
  int rc;
  while ((rc = (*s)->Step()) == SQLITE_ROW) {
    Event e;
    e.case_id = (*s)->Text(0);
    e.seq = (*s)->Int(1);
    e.time = FromMillis((*s)->Int(2));
    e.actor.id = (*s)->Text(3);
    e.actor.role = (*s)->Text(4);
    e.actor.organ = (*s)->Text(5);
    e.action = (*s)->Text(6);
    e.data = (*s)->Text(7);
    e.status = (*s)->Text(8);
    e.step = (*s)->Text(9);
    e.definition_id = (*s)->Text(10);
    e.definition_version = static_cast<int>((*s)->Int(11));
    e.prev_hash = (*s)->Text(12);
    e.hash = (*s)->Text(13);
    e.idempotency_key = (*s)->Text(14);
    out.push_back(std::move(e));
  }
  (*s)->Reset();
  if (rc != SQLITE_DONE) return ReadError(rc);
  return out;
}

StoreStats SqliteStore::Stats() const {
  return StoreStats{commits_.load(), writes_.load(), max_batch_.load(), overloaded_.load(),
                    queued_.load()};
}

Result<std::optional<DocumentRecord>> SqliteStore::GetDocument(const std::string& case_id,
                                                               const std::string& hash) {
  if (file_schema_version_ < 4) return std::optional<DocumentRecord>{};
  TONGBAN_LEASE(lease);
  auto q = lease.get()->Prepare(
      "SELECT a.case_id, a.hash, a.media_type, d.size, a.name, a.kind, a.attached_ms, "
      "a.attached_by, d.content FROM case_documents a JOIN documents d ON d.hash = a.hash "
      "WHERE a.case_id = ? AND a.hash = ?");
  if (!q.ok()) return q.status();
  sqlite::Statement& s = **q;
  s.Bind(1, case_id).Bind(2, hash);
  int rc = s.Step();
  std::optional<DocumentRecord> out;
  if (rc == SQLITE_ROW) {
    DocumentRecord d = ReadDocument(s);
    d.content = s.Blob(8);
    out = std::move(d);
  }
  s.Reset();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return ReadError(rc);
  return out;
}

Result<std::vector<DocumentRecord>> SqliteStore::CaseDocuments(const std::string& case_id) {
  std::vector<DocumentRecord> out;
  if (file_schema_version_ < 4) return out;
  TONGBAN_LEASE(lease);
  auto q = lease.get()->Prepare(
      "SELECT a.case_id, a.hash, a.media_type, d.size, a.name, a.kind, a.attached_ms, "
      "a.attached_by FROM case_documents a JOIN documents d ON d.hash = a.hash "
      "WHERE a.case_id = ? ORDER BY a.attached_ms, a.hash");
  if (!q.ok()) return q.status();
  sqlite::Statement& s = **q;
  s.Bind(1, case_id);
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW)
    out.push_back(ReadDocument(s));
  s.Reset();
  if (rc != SQLITE_DONE) return ReadError(rc);
  return out;
}

}  // namespace tongban
