// PostgresStore's private parts, shared by the files that implement it: postgres_store.cc
// (connecting, migrating, the pool, the writer), postgres_store_reads.cc, postgres_store_queries.cc
// (the counts kept on write, the indicators, the audit queries), postgres_store_schema.cc (the
// schema) and postgres_pipeline.h (the writer's pipelines). Nothing outside those files includes
// it.
#pragma once

#include <libpq-fe.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/postgres_store.h"

namespace tongban {

namespace postgres_store_detail {

// kPostgresMigrations[i] migrates the schema from version i to i + 1.
extern const std::string kPostgresMigrations[PostgresStore::kSchemaVersion];

constexpr const char* kCaseColumns =
    "id, number, query_code, definition_id, definition_version, status, step, applicant_id, "
    "organ_id, created_ms, updated_ms, version, next_timer_ms, snapshot, yellow_ms, red_ms, "
    "lights_known";
constexpr const char* kEventColumns =
    "case_id, seq, time_ms, actor_id, actor_role, actor_organ, action, data, status, step, "
    "definition_id, definition_version, prev_hash, hash, idempotency_key";
// Times a write is tried alone after its transaction failed while the connection stayed sound
// (a deadlock with another node).
constexpr int kAttempts = 3;
// Rows per page of a scan (ForEach*): a scan never holds a connection for long.
constexpr int kPage = 2000;
// The database server's clock in milliseconds since the epoch: timer claims are measured on it, so
// that the nodes' own clocks (a simulated one, even) do not matter to them.
#define TONGBAN_PG_NOW_MS "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"

inline Instant FromMillis(int64_t ms) {
  return Instant(std::chrono::milliseconds(ms));
}
inline int64_t ToMillis(Instant t) {
  return t.time_since_epoch().count();
}

// A statement parameter: text, or SQL NULL.
using Param = std::optional<std::string>;
using Params = std::vector<Param>;

inline Param Int(int64_t v) {
  return std::to_string(v);
}
inline std::optional<int64_t> MillisOf(const std::optional<Instant>& t) {
  if (!t) return std::nullopt;
  return ToMillis(*t);
}
inline Param OptionalMillis(const std::optional<Instant>& t) {
  if (!t) return std::nullopt;
  return std::to_string(ToMillis(*t));
}

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

// Reads the rows of a result.
struct Rows {
  PgResult result;
  int size() const { return PQntuples(result.get()); }
  bool IsNull(int row, int column) const { return PQgetisnull(result.get(), row, column) != 0; }
  std::string Text(int row, int column) const {
    return std::string(PQgetvalue(result.get(), row, column),
                       static_cast<size_t>(PQgetlength(result.get(), row, column)));
  }
  int64_t Int(int row, int column) const {
    return std::strtoll(PQgetvalue(result.get(), row, column), nullptr, 10);
  }
  // A boolean column, sent as text: "t" or "f".
  bool Bool(int row, int column) const { return PQgetvalue(result.get(), row, column)[0] == 't'; }
  std::optional<int64_t> OptionalInt(int row, int column) const {
    if (IsNull(row, column)) return std::nullopt;
    return Int(row, column);
  }
  // The number of rows an UPDATE or INSERT touched.
  int64_t Affected() const { return std::strtoll(PQcmdTuples(result.get()), nullptr, 10); }
};

inline CaseRecord ReadCase(const Rows& rows, int i) {
  CaseRecord r;
  r.id = rows.Text(i, 0);
  r.number = rows.Text(i, 1);
  r.query_code = rows.Text(i, 2);
  r.definition_id = rows.Text(i, 3);
  r.definition_version = static_cast<int>(rows.Int(i, 4));
  r.status = rows.Text(i, 5);
  r.step = rows.Text(i, 6);
  r.applicant_id = rows.Text(i, 7);
  r.organ_id = rows.Text(i, 8);
  r.created_at = FromMillis(rows.Int(i, 9));
  r.updated_at = FromMillis(rows.Int(i, 10));
  r.version = rows.Int(i, 11);
  if (auto t = rows.OptionalInt(i, 12)) r.next_timer_at = FromMillis(*t);
  r.snapshot = rows.Text(i, 13);
  if (auto t = rows.OptionalInt(i, 14)) r.yellow_at = FromMillis(*t);
  if (auto t = rows.OptionalInt(i, 15)) r.red_at = FromMillis(*t);
  r.lights_known = rows.Bool(i, 16);
  return r;
}

// Reads row i of kEventColumns into `e`, assigning every field.
inline void ReadEvent(const Rows& rows, int i, Event& e) {
  e.case_id = rows.Text(i, 0);
  e.seq = rows.Int(i, 1);
  e.time = FromMillis(rows.Int(i, 2));
  e.actor.id = rows.Text(i, 3);
  e.actor.role = rows.Text(i, 4);
  e.actor.organ = rows.Text(i, 5);
  e.actor.name.clear();
  e.action = rows.Text(i, 6);
  e.data = rows.Text(i, 7);
  e.status = rows.Text(i, 8);
  e.step = rows.Text(i, 9);
  e.definition_id = rows.Text(i, 10);
  e.definition_version = static_cast<int>(rows.Int(i, 11));
  e.prev_hash = rows.Text(i, 12);
  e.hash = rows.Text(i, 13);
  e.idempotency_key = rows.IsNull(i, 14) ? "" : rows.Text(i, 14);
}

// Document bytes travel as hex text (decode/encode on the server): every parameter here is text.
inline std::string ToHex(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 15];
  }
  return out;
}
inline std::string FromHex(std::string_view hex) {
  auto value = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<char>(value(hex[2 * i]) * 16 + value(hex[2 * i + 1]));
  return out;
}

constexpr const char* kDocumentColumns =
    "a.case_id, a.hash, a.media_type, d.size, a.name, a.kind, a.attached_ms, a.attached_by";
inline DocumentRecord ReadDocument(const Rows& rows, int i) {
  DocumentRecord d;
  d.case_id = rows.Text(i, 0);
  d.hash = rows.Text(i, 1);
  d.media_type = rows.Text(i, 2);
  d.size = rows.Int(i, 3);
  d.name = rows.Text(i, 4);
  d.kind = rows.Text(i, 5);
  d.attached_at = FromMillis(rows.Int(i, 6));
  d.attached_by = rows.Text(i, 7);
  return d;
}

// libpq's message on one line: its messages span lines ("connection to server … failed: …\n\tIs
// the server running …?"), and a node's log and a command's error are one line each.
inline std::string Trimmed(const char* message) {
  std::string s;
  bool space = false;
  for (const char* p = message == nullptr ? "" : message; *p != '\0'; ++p) {
    if (*p == '\n' || *p == '\t' || *p == '\r' || *p == ' ') {
      space = !s.empty();
      continue;
    }
    if (space) s += ' ';
    space = false;
    s += *p;
  }
  return s;
}

// The Status of a failed statement (`r`; null when there is no result, only the connection's
// error), by its SQLSTATE; the constraint it violated, if any, in *violated (when not null).
inline Status FailureOf(PGconn* conn, const PGresult* r, const std::string& what,
                        std::string* violated) {
  const char* state = r == nullptr ? nullptr : PQresultErrorField(r, PG_DIAG_SQLSTATE);
  const char* constraint = r == nullptr ? nullptr : PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
  if (violated != nullptr) *violated = constraint == nullptr ? "" : constraint;
  std::string message = "postgresql: " + what + ": " +
                        Trimmed(r != nullptr ? PQresultErrorMessage(r) : PQerrorMessage(conn));
  const std::string code = state == nullptr ? "" : state;
  // The connection is gone, the server is going away or out of resources, or the transaction
  // lost a race it can retry: nothing was stored, and trying again may succeed.
  if (code.empty() || PQstatus(conn) != CONNECTION_OK || code.starts_with("08") ||
      code.starts_with("53") || code.starts_with("57P") || code == "40001" || code == "40P01") {
    return Status::Unavailable(message);
  }
  if (code == "23505") return Status::AlreadyExists(message);
  return Status::Internal(message);
}

}  // namespace postgres_store_detail

// One libpq connection, used by one thread at a time. Statements with parameters are prepared once
// per connection.
struct PostgresStore::Connection {
  PGconn* conn = nullptr;
  std::map<std::string, std::string> prepared;  // SQL -> statement name
  // The constraint the last failed statement violated, if any.
  std::string violated;

  ~Connection() {
    if (conn != nullptr) PQfinish(conn);
  }
  bool healthy() const {
    return PQstatus(conn) == CONNECTION_OK && PQtransactionStatus(conn) == PQTRANS_IDLE;
  }

  // The Status of a failed statement, by its SQLSTATE.
  Status Failure(const PGresult* r, const std::string& what) {
    return postgres_store_detail::FailureOf(conn, r, what, &violated);
  }

  // Runs `sql` with `params` ($1, $2, … in it) as a prepared statement.
  Result<postgres_store_detail::Rows> Query(const std::string& sql,
                                            const postgres_store_detail::Params& params = {}) {
    auto it = prepared.find(sql);
    if (it == prepared.end()) {
      const std::string name = "s" + std::to_string(prepared.size());
      postgres_store_detail::PgResult made(PQprepare(conn, name.c_str(), sql.c_str(), 0, nullptr));
      if (PQresultStatus(made.get()) != PGRES_COMMAND_OK) {
        return Failure(made.get(), "preparing " + sql);
      }
      it = prepared.emplace(sql, name).first;
    }
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const postgres_store_detail::Param& p : params)
      values.push_back(p ? p->c_str() : nullptr);
    postgres_store_detail::PgResult result(PQexecPrepared(conn, it->second.c_str(),
                                                          static_cast<int>(values.size()),
                                                          values.data(), nullptr, nullptr, 0));
    const ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      return Failure(result.get(), sql.substr(0, 60));
    }
    return postgres_store_detail::Rows{std::move(result)};
  }

  // Runs statements without parameters (BEGIN, SAVEPOINT, a migration).
  Status Run(const std::string& sql) {
    postgres_store_detail::PgResult result(PQexec(conn, sql.c_str()));
    const ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      return Failure(result.get(), sql.substr(0, 60));
    }
    return Status::Ok();
  }
};

// Borrows a reader connection for the scope of one read; a connection that failed is dropped.
class PostgresStore::Lease {
 public:
  explicit Lease(PostgresStore* store) : store_(store) {
    auto c = store->AcquireReader();
    if (c.ok()) {
      connection_ = std::move(c).value();
    } else {
      error_ = c.status();
    }
  }
  ~Lease() {
    if (connection_) store_->ReleaseReader(std::move(connection_));
  }
  Connection* get() { return connection_.get(); }
  const Status& error() const { return error_; }

  // Runs one statement on the leased connection. When the connection turns out to be broken (the
  // server restarted since it was last used, or went away), the pool's idle connections are all
  // from before and are dropped, and the statement runs once more on a fresh connection: a read
  // (and a timer claim) may be repeated. kUnavailable when no connection can be made.
  Result<postgres_store_detail::Rows> Query(const std::string& sql,
                                            const postgres_store_detail::Params& params = {}) {
    auto rows = connection_->Query(sql, params);
    if (rows.ok() || PQstatus(connection_->conn) == CONNECTION_OK) return rows;
    store_->DropIdleReaders();
    auto fresh = store_->Connect();
    if (!fresh.ok()) return fresh.status();
    connection_ = std::move(fresh).value();
    return connection_->Query(sql, params);
  }

 private:
  PostgresStore* store_;
  std::unique_ptr<Connection> connection_;
  Status error_;
};

// Borrows a reader connection for the rest of the enclosing function, or returns its error.
#define TONGBAN_PG_LEASE(lease) \
  Lease lease(this);            \
  if (lease.get() == nullptr) return lease.error()

}  // namespace tongban
