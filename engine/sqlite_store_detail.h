// SqliteStore's private parts, shared by the files that implement it: sqlite_store.cc (opening,
// the connections, the writer), sqlite_store_reads.cc, sqlite_store_queries.cc (the counts kept on
// write, the indicators, the audit queries) and sqlite_store_schema.cc (the schema). Nothing
// outside those files includes it.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "engine/sqlite.h"
#include "engine/sqlite_store.h"

namespace tongban {

namespace sqlite_store_detail {

// kSqliteMigrations[i] migrates the schema from version i to i + 1.
extern const char* const kSqliteMigrations[SqliteStore::kSchemaVersion];

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

inline Instant FromMillis(int64_t ms) {
  return Instant(std::chrono::milliseconds(ms));
}
inline int64_t ToMillis(Instant t) {
  return t.time_since_epoch().count();
}

// Columns case_id, hash, media_type, size, name, kind, attached_ms, attached_by.
inline DocumentRecord ReadDocument(const sqlite::Statement& s) {
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

// The columns ReadEventInto reads, of `events e`.
constexpr const char* kEventColumns =
    "e.case_id, e.seq, e.time_ms, e.actor_id, e.actor_role, e.actor_organ, e.action, e.data, "
    "e.status, e.step, e.definition_id, e.definition_version, e.prev_hash, e.hash, "
    "e.idempotency_key";

// Reads a row of kEventColumns into `e`, assigning every field: an event reused from row to row
// keeps its strings' buffers.
inline void ReadEventInto(const sqlite::Statement& s, Event& e) {
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
  e.idempotency_key.assign(s.TextView(14));  // NULL reads as ""
}

// Reads the row of CaseColumns() into `r`, assigning every field: a record reused from row to row
// keeps its strings' buffers.
inline void ReadCaseInto(const sqlite::Statement& s, CaseRecord& r) {
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

inline CaseRecord ReadCase(const sqlite::Statement& s) {
  CaseRecord r;
  ReadCaseInto(s, r);
  return r;
}

// A read that stopped on an error: the disk (kUnavailable), a damaged file (kDataLoss), …
inline Status ReadError(int rc) {
  return sqlite::StatusFromSqlite(rc, sqlite3_errstr(rc));
}

// Every row of a bound statement selecting kEventColumns, then resets it.
inline Result<std::vector<Event>> ReadEventRows(sqlite::Statement& s) {
  std::vector<Event> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    ReadEventInto(s, out.emplace_back());
  }
  s.Reset();
  if (rc != SQLITE_DONE) return ReadError(rc);
  return out;
}

// The first column of every row of a bound statement (ids), then resets it.
inline Result<std::vector<std::string>> ReadTextColumn(sqlite::Statement& s) {
  std::vector<std::string> out;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW)
    out.push_back(s.Text(0));
  s.Reset();
  if (rc != SQLITE_DONE) return ReadError(rc);
  return out;
}

inline std::optional<int64_t> OptionalMillis(const std::optional<Instant>& t) {
  if (!t) return std::nullopt;
  return ToMillis(*t);
}

}  // namespace sqlite_store_detail

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

  // The integer the first row of a query without parameters holds (a count).
  Result<int64_t> QueryInt(const std::string& sql) {
    auto s = Prepare(sql);
    if (!s.ok()) return s.status();
    const int rc = (*s)->Step();
    const int64_t n = rc == SQLITE_ROW ? (*s)->Int(0) : 0;
    (*s)->Reset();
    if (rc != SQLITE_ROW) return sqlite_store_detail::ReadError(rc);
    return n;
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

// Borrows a reader connection for the rest of the enclosing function, or returns kUnavailable.
#define TONGBAN_LEASE(lease) \
  Lease lease(this);         \
  if (!lease.ok()) return Status::Unavailable("cannot open a reader connection")

}  // namespace tongban
