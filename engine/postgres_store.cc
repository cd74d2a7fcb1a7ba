#include "engine/postgres_store.h"

#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <map>
#include <optional>

namespace tongban {

namespace {

// Each entry migrates the schema from version i to i + 1. Version 1 holds what SqliteStore's
// version 3 holds.
const std::string kMigrations[] = {
    std::string(R"sql(
CREATE TABLE definitions (
  kind TEXT COLLATE "C" NOT NULL,
  id TEXT COLLATE "C" NOT NULL,
  version INTEGER NOT NULL,
  content_hash TEXT NOT NULL,
  text TEXT NOT NULL,
  deployed_ms BIGINT NOT NULL,
  PRIMARY KEY (kind, id, version)
);
CREATE TABLE events (
  case_id TEXT COLLATE "C" NOT NULL,
  seq BIGINT NOT NULL,
  time_ms BIGINT NOT NULL,
  actor_id TEXT COLLATE "C" NOT NULL,
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
  idempotency_key TEXT COLLATE "C",
  CONSTRAINT events_pkey PRIMARY KEY (case_id, seq),
  CONSTRAINT events_idempotency UNIQUE (actor_id, idempotency_key)
);
CREATE TABLE cases (
  id TEXT COLLATE "C" NOT NULL,
  number TEXT COLLATE "C" NOT NULL,
  query_code TEXT NOT NULL,
  definition_id TEXT COLLATE "C" NOT NULL,
  definition_version INTEGER NOT NULL,
  status TEXT COLLATE "C" NOT NULL,
  step TEXT NOT NULL,
  applicant_id TEXT COLLATE "C" NOT NULL,
  organ_id TEXT COLLATE "C" NOT NULL,
  created_ms BIGINT NOT NULL,
  updated_ms BIGINT NOT NULL,
  version BIGINT NOT NULL,
  next_timer_ms BIGINT,
  snapshot TEXT NOT NULL,
  yellow_ms BIGINT,
  red_ms BIGINT,
  CONSTRAINT cases_pkey PRIMARY KEY (id),
  CONSTRAINT cases_number UNIQUE (number)
);
CREATE INDEX cases_status ON cases (status, id);
CREATE INDEX cases_applicant ON cases (applicant_id, id);
CREATE INDEX cases_timer ON cases (next_timer_ms) WHERE next_timer_ms IS NOT NULL;
CREATE TABLE ledger (
  seq BIGINT PRIMARY KEY,
  time_ms BIGINT NOT NULL,
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
CREATE TABLE ledger_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq BIGINT NOT NULL,
  hash TEXT NOT NULL
);
CREATE TABLE case_counts (
  status TEXT COLLATE "C" PRIMARY KEY,
  n BIGINT NOT NULL
);
CREATE TABLE light_changes (
  at_ms BIGINT PRIMARY KEY,
  yellow BIGINT NOT NULL,
  red BIGINT NOT NULL
);
CREATE FUNCTION tongban_refuse_rewrite() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'rows of % are append-only', TG_TABLE_NAME;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
  FOR EACH ROW EXECUTE PROCEDURE tongban_refuse_rewrite();
CREATE TRIGGER ledger_append_only BEFORE UPDATE OR DELETE ON ledger
  FOR EACH ROW EXECUTE PROCEDURE tongban_refuse_rewrite();
CREATE TRIGGER definitions_immutable BEFORE UPDATE OR DELETE ON definitions
  FOR EACH ROW EXECUTE PROCEDURE tongban_refuse_rewrite();
)sql") + "INSERT INTO ledger_head (id, seq, hash) VALUES (1, 0, '" +
        kGenesisHash + "');",
    // Version 2: due timers claimed by one node at a time (ClaimDueTimers): the instant, on the
    // database's clock, when a node's claim on the case's timer runs out.
    "ALTER TABLE cases ADD COLUMN timer_claim_ms BIGINT;",
    // Version 3: documents (store.h), content-addressed: the bytes once per SHA-256, attached to
    // cases; append-only like the events.
    R"sql(
CREATE TABLE documents (
  hash TEXT PRIMARY KEY,
  size BIGINT NOT NULL,
  content BYTEA NOT NULL
);
CREATE TABLE case_documents (
  case_id TEXT NOT NULL,
  hash TEXT NOT NULL REFERENCES documents (hash),
  media_type TEXT NOT NULL,
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  attached_ms BIGINT NOT NULL,
  attached_by TEXT NOT NULL,
  PRIMARY KEY (case_id, hash)
);
CREATE TRIGGER documents_append_only BEFORE UPDATE OR DELETE ON documents
  FOR EACH ROW EXECUTE PROCEDURE tongban_refuse_rewrite();
CREATE TRIGGER case_documents_append_only BEFORE UPDATE OR DELETE ON case_documents
  FOR EACH ROW EXECUTE PROCEDURE tongban_refuse_rewrite();
)sql",
    // Version 4: the audit queries' indexes and the indicators (赛马) kept on write, as
    // SqliteStore's version 5. The events taken under a delegation before are found in their
    // stored data, which is canonical JSON (sorted keys, no spaces): data.authority begins with
    // "basis", and its "delegation" follows among its flat members.
    R"sql(
CREATE INDEX events_actor ON events (actor_id, time_ms);
CREATE INDEX events_action ON events (action, time_ms);
CREATE TABLE case_facts (
  case_id TEXT COLLATE "C" PRIMARY KEY,
  month TEXT COLLATE "C" NOT NULL,
  organ TEXT COLLATE "C" NOT NULL,
  item TEXT COLLATE "C" NOT NULL,
  zone TEXT COLLATE "C" NOT NULL,
  applied_ms BIGINT NOT NULL,
  decided_ms BIGINT,
  late_statutory INTEGER NOT NULL,
  late_promised INTEGER NOT NULL,
  counters TEXT NOT NULL
);
CREATE INDEX case_facts_applied ON case_facts (applied_ms, case_id);
CREATE INDEX case_facts_organ ON case_facts (organ, applied_ms, case_id);
CREATE INDEX case_facts_item ON case_facts (item, applied_ms, case_id);
CREATE INDEX case_facts_decided ON case_facts (decided_ms, case_id) WHERE decided_ms IS NOT NULL;
CREATE TABLE indicator_counts (
  month TEXT COLLATE "C" NOT NULL,
  organ TEXT COLLATE "C" NOT NULL,
  item TEXT COLLATE "C" NOT NULL,
  zone TEXT COLLATE "C" NOT NULL,
  name TEXT COLLATE "C" NOT NULL,
  n BIGINT NOT NULL,
  PRIMARY KEY (month, organ, item, zone, name)
);
CREATE TABLE delegated_events (
  delegation_id TEXT COLLATE "C" NOT NULL,
  time_ms BIGINT NOT NULL,
  case_id TEXT COLLATE "C" NOT NULL,
  seq BIGINT NOT NULL,
  PRIMARY KEY (delegation_id, time_ms, case_id, seq)
);
INSERT INTO delegated_events (delegation_id, time_ms, case_id, seq)
  SELECT substring(data from '"authority":\{"basis":"delegation",[^{}]*"delegation":"([^"]*)"'),
         time_ms, case_id, seq FROM events
  WHERE data LIKE '%"authority":{"basis":"delegation",%'
    AND substring(data from '"authority":\{"basis":"delegation",[^{}]*"delegation":"([^"]*)"')
        IS NOT NULL;
)sql",
    // Version 5: the delivery lights kept on write, as SqliteStore's version 6. lights_known is
    // false for the granted cases written before, which have no delivery instants until their
    // next write (the timer loop rewrites them), and for cases `tongban copy` brought from an
    // SQLite file as an older version wrote them.
    R"sql(
CREATE TABLE delivery_light_changes (
  at_ms BIGINT PRIMARY KEY,
  waiting BIGINT NOT NULL,
  yellow BIGINT NOT NULL,
  red BIGINT NOT NULL
);
ALTER TABLE cases ADD COLUMN lights_known BOOLEAN NOT NULL DEFAULT true;
UPDATE cases SET lights_known = false WHERE status = 'approved';
CREATE INDEX cases_delivery_lights_unknown ON cases (id)
  WHERE NOT lights_known AND status = 'approved';
CREATE INDEX cases_lights_unknown ON cases (id)
  WHERE NOT lights_known AND status = 'under_review';
)sql",
};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == PostgresStore::kSchemaVersion);

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

Instant FromMillis(int64_t ms) {
  return Instant(std::chrono::milliseconds(ms));
}
int64_t ToMillis(Instant t) {
  return t.time_since_epoch().count();
}

// A statement parameter: text, or SQL NULL.
using Param = std::optional<std::string>;
using Params = std::vector<Param>;

Param Int(int64_t v) {
  return std::to_string(v);
}
std::optional<int64_t> MillisOf(const std::optional<Instant>& t) {
  if (!t) return std::nullopt;
  return ToMillis(*t);
}
Param OptionalMillis(const std::optional<Instant>& t) {
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

CaseRecord ReadCase(const Rows& rows, int i) {
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
void ReadEvent(const Rows& rows, int i, Event& e) {
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
std::string ToHex(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    const auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 15];
  }
  return out;
}
std::string FromHex(std::string_view hex) {
  auto value = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<char>(value(hex[2 * i]) * 16 + value(hex[2 * i + 1]));
  return out;
}

constexpr const char* kDocumentColumns =
    "a.case_id, a.hash, a.media_type, d.size, a.name, a.kind, a.attached_ms, a.attached_by";
DocumentRecord ReadDocument(const Rows& rows, int i) {
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
std::string Trimmed(const char* message) {
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

}  // namespace

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
    const char* state = r == nullptr ? nullptr : PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char* constraint =
        r == nullptr ? nullptr : PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
    violated = constraint == nullptr ? "" : constraint;
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

  // Runs `sql` with `params` ($1, $2, … in it) as a prepared statement.
  Result<Rows> Query(const std::string& sql, const Params& params = {}) {
    auto it = prepared.find(sql);
    if (it == prepared.end()) {
      const std::string name = "s" + std::to_string(prepared.size());
      PgResult made(PQprepare(conn, name.c_str(), sql.c_str(), 0, nullptr));
      if (PQresultStatus(made.get()) != PGRES_COMMAND_OK) {
        return Failure(made.get(), "preparing " + sql);
      }
      it = prepared.emplace(sql, name).first;
    }
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const Param& p : params)
      values.push_back(p ? p->c_str() : nullptr);
    PgResult result(PQexecPrepared(conn, it->second.c_str(), static_cast<int>(values.size()),
                                   values.data(), nullptr, nullptr, 0));
    const ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      return Failure(result.get(), sql.substr(0, 60));
    }
    return Rows{std::move(result)};
  }

  // Runs statements without parameters (BEGIN, SAVEPOINT, a migration).
  Status Run(const std::string& sql) {
    PgResult result(PQexec(conn, sql.c_str()));
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
  Result<Rows> Query(const std::string& sql, const Params& params = {}) {
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

#define TONGBAN_PG_LEASE(lease) \
  Lease lease(this);            \
  if (lease.get() == nullptr) return lease.error()

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
        step = c.Run(kMigrations[version]);
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
  auto old = c.Query("SELECT month, organ, item, zone, counters FROM case_facts WHERE case_id = $1",
                     {case_id});
  if (!old.ok()) return old.status();
  if (old->size() > 0) {
    const std::string key =
        IndicatorKey(old->Text(0, 0), old->Text(0, 1), old->Text(0, 2), old->Text(0, 3));
    for (const auto& [name, value] : DecodeCounters(old->Text(0, 4)))
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

Status PostgresStore::Deploy(const DefinitionRecord& d) {
  if (options_.read_only) return Status::FailedPrecondition("the store is open read-only");
  TONGBAN_PG_LEASE(lease);
  auto same = [&]() -> Status {
    auto existing = lease.Query(
        "SELECT content_hash FROM definitions WHERE kind = $1 AND id = $2 AND version = $3",
        {d.kind, d.id, Int(d.version)});
    if (!existing.ok()) return existing.status();
    if (existing->size() == 0) return Status::NotFound("");
    if (existing->Text(0, 0) == d.content_hash) return Status::Ok();
    return Status::AlreadyExists(d.kind + " \"" + d.id + "\" version " + std::to_string(d.version) +
                                 " is already deployed with other content; deploy a new version");
  };
  Status found = same();
  if (found.code() != StatusCode::kNotFound) return found;
  auto inserted = lease.Query(
      "INSERT INTO definitions (kind, id, version, content_hash, text, deployed_ms) "
      "VALUES ($1,$2,$3,$4,$5,$6)",
      {d.kind, d.id, Int(d.version), d.content_hash, d.text, Int(ToMillis(d.deployed_at))});
  // Another node deployed it in between: the same content is fine.
  if (!inserted.ok() && inserted.status().code() == StatusCode::kAlreadyExists) return same();
  return inserted.status();
}

// ---- Reads --------------------------------------------------------------------------------------

Result<std::vector<DefinitionRecord>> PostgresStore::Definitions() {
  TONGBAN_PG_LEASE(lease);
  auto rows = lease.Query(
      "SELECT kind, id, version, content_hash, text, deployed_ms FROM definitions "
      "ORDER BY kind, id, version");  // calendars before items: items refer to them
  if (!rows.ok()) return rows.status();
  std::vector<DefinitionRecord> out;
  for (int i = 0; i < rows->size(); ++i) {
    out.push_back({rows->Text(i, 0), rows->Text(i, 1), static_cast<int>(rows->Int(i, 2)),
                   rows->Text(i, 3), rows->Text(i, 4), FromMillis(rows->Int(i, 5))});
  }
  return out;
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

Result<std::optional<DocumentRecord>> PostgresStore::GetDocument(const std::string& case_id,
                                                                 const std::string& hash) {
  TONGBAN_PG_LEASE(lease);
  auto rows = lease.Query(std::string("SELECT ") + kDocumentColumns +
                              ", encode(d.content, 'hex') FROM case_documents a JOIN documents d "
                              "ON d.hash = a.hash WHERE a.case_id = $1 AND a.hash = $2",
                          {case_id, hash});
  if (!rows.ok()) return rows.status();
  if (rows->size() == 0) return std::optional<DocumentRecord>();
  DocumentRecord d = ReadDocument(*rows, 0);
  d.content = FromHex(rows->Text(0, 8));
  return std::optional<DocumentRecord>(std::move(d));
}

Result<std::vector<DocumentRecord>> PostgresStore::CaseDocuments(const std::string& case_id) {
  TONGBAN_PG_LEASE(lease);
  auto rows = lease.Query(std::string("SELECT ") + kDocumentColumns +
                              " FROM case_documents a JOIN documents d ON d.hash = a.hash "
                              "WHERE a.case_id = $1 ORDER BY a.attached_ms, a.hash",
                          {case_id});
  if (!rows.ok()) return rows.status();
  std::vector<DocumentRecord> out;
  for (int i = 0; i < rows->size(); ++i)
    out.push_back(ReadDocument(*rows, i));
  return out;
}

Result<std::optional<CaseRecord>> PostgresStore::GetCase(const std::string& id) {
  TONGBAN_PG_LEASE(lease);
  auto rows =
      lease.Query(std::string("SELECT ") + kCaseColumns + " FROM cases WHERE id = $1", {id});
  if (!rows.ok()) return rows.status();
  if (rows->size() == 0) return std::optional<CaseRecord>();
  return std::optional<CaseRecord>(ReadCase(*rows, 0));
}

Result<std::optional<CaseRecord>> PostgresStore::GetCaseByNumber(const std::string& number) {
  TONGBAN_PG_LEASE(lease);
  auto rows = lease.Query(std::string("SELECT ") + kCaseColumns + " FROM cases WHERE number = $1",
                          {number});
  if (!rows.ok()) return rows.status();
  if (rows->size() == 0) return std::optional<CaseRecord>();
  return std::optional<CaseRecord>(ReadCase(*rows, 0));
}

Result<std::vector<Event>> PostgresStore::GetEvents(const std::string& case_id, int64_t up_to_seq) {
  TONGBAN_PG_LEASE(lease);
  auto rows = lease.Query(std::string("SELECT ") + kEventColumns +
                              " FROM events WHERE case_id = $1 AND seq <= $2 ORDER BY seq",
                          {case_id, Int(up_to_seq)});
  if (!rows.ok()) return rows.status();
  std::vector<Event> out(static_cast<size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i)
    ReadEvent(*rows, i, out[static_cast<size_t>(i)]);
  return out;
}

Result<std::vector<LedgerEntry>> PostgresStore::Ledger(int64_t after_seq) {
  TONGBAN_PG_LEASE(lease);
  auto rows = lease.Query(
      "SELECT seq, time_ms, actor_id, actor_role, actor_organ, actor_name, kind, subject, data, "
      "prev_hash, hash FROM ledger WHERE seq > $1 ORDER BY seq",
      {Int(after_seq)});
  if (!rows.ok()) return rows.status();
  std::vector<LedgerEntry> out;
  for (int i = 0; i < rows->size(); ++i) {
    LedgerEntry e;
    e.seq = rows->Int(i, 0);
    e.time = FromMillis(rows->Int(i, 1));
    e.actor = {rows->Text(i, 2), rows->Text(i, 3), rows->Text(i, 4), rows->Text(i, 5)};
    e.kind = rows->Text(i, 6);
    e.subject = rows->Text(i, 7);
    e.data = rows->Text(i, 8);
    e.prev_hash = rows->Text(i, 9);
    e.hash = rows->Text(i, 10);
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::optional<IdempotencyHit>> PostgresStore::FindIdempotencyKey(const std::string& actor_id,
                                                                        const std::string& key) {
  TONGBAN_PG_LEASE(lease);
  auto rows =
      lease.Query("SELECT case_id, seq FROM events WHERE actor_id = $1 AND idempotency_key = $2",
                  {actor_id, key});
  if (!rows.ok()) return rows.status();
  if (rows->size() == 0) return std::optional<IdempotencyHit>();
  return std::optional<IdempotencyHit>(IdempotencyHit{rows->Text(0, 0), rows->Int(0, 1)});
}

Result<std::vector<CaseRecord>> PostgresStore::ListCases(const CaseFilter& f) {
  TONGBAN_PG_LEASE(lease);
  std::string sql = std::string("SELECT ") + kCaseColumns + " FROM cases WHERE id > $1";
  Params params = {f.after_id};
  auto add = [&](const char* clause, Param value) {
    params.push_back(std::move(value));
    sql += std::string(" AND ") + clause + " $" + std::to_string(params.size());
  };
  if (!f.status.empty()) add("status =", f.status);
  if (!f.definition_id.empty()) add("definition_id =", f.definition_id);
  if (!f.applicant_id.empty()) add("applicant_id =", f.applicant_id);
  if (!f.organ_id.empty()) add("organ_id =", f.organ_id);
  if (f.created_from) add("created_ms >=", Int(ToMillis(*f.created_from)));
  if (f.created_to) add("created_ms <", Int(ToMillis(*f.created_to)));
  params.push_back(Int(f.limit));
  sql += " ORDER BY id LIMIT $" + std::to_string(params.size());
  auto rows = lease.Query(sql, params);
  if (!rows.ok()) return rows.status();
  std::vector<CaseRecord> out;
  for (int i = 0; i < rows->size(); ++i)
    out.push_back(ReadCase(*rows, i));
  return out;
}

Result<std::vector<std::string>> PostgresStore::DueTimers(Instant now, int limit) {
  TONGBAN_PG_LEASE(lease);
  auto rows = lease.Query(
      "SELECT id FROM cases WHERE next_timer_ms IS NOT NULL AND next_timer_ms <= $1 "
      "ORDER BY next_timer_ms LIMIT $2",
      {Int(ToMillis(now)), Int(limit)});
  if (!rows.ok()) return rows.status();
  std::vector<std::string> out;
  for (int i = 0; i < rows->size(); ++i)
    out.push_back(rows->Text(i, 0));
  return out;
}

Result<std::vector<std::string>> PostgresStore::ClaimDueTimers(Instant now, int limit) {
  if (options_.read_only) return Status::FailedPrecondition("the store is open read-only");
  TONGBAN_PG_LEASE(lease);
  // One statement, so one short transaction: the due rows no live claim holds, locked and stamped
  // with this node's lease. SKIP LOCKED passes over rows that another node is claiming or writing
  // at this moment, so two nodes claiming at once get disjoint sets and never wait for each other.
  auto rows = lease.Query(
      "UPDATE cases SET timer_claim_ms = " TONGBAN_PG_NOW_MS
      " + $3 WHERE id IN ("
      "SELECT id FROM cases WHERE next_timer_ms IS NOT NULL AND next_timer_ms <= $1 "
      "AND (timer_claim_ms IS NULL OR timer_claim_ms <= " TONGBAN_PG_NOW_MS
      ") "
      "ORDER BY next_timer_ms LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING id, next_timer_ms",
      {Int(ToMillis(now)), Int(limit), Int(std::max(1, options_.timer_lease_ms))});
  if (!rows.ok()) return rows.status();
  std::vector<std::pair<int64_t, std::string>> due;
  for (int i = 0; i < rows->size(); ++i)
    due.emplace_back(rows->Int(i, 1), rows->Text(i, 0));
  std::sort(due.begin(), due.end());  // RETURNING keeps no order: earliest first again
  std::vector<std::string> out;
  for (auto& [at, id] : due)
    out.push_back(std::move(id));
  return out;
}

Status PostgresStore::ForEachCaseId(const std::function<bool(const std::string&)>& visit) {
  std::string after;
  while (true) {
    auto page = [&]() -> Result<Rows> {
      TONGBAN_PG_LEASE(lease);
      return lease.Query("SELECT id FROM cases WHERE id > $1 ORDER BY id LIMIT $2",
                         {after, Int(kPage)});
    };
    auto rows = page();
    if (!rows.ok()) return rows.status();
    if (rows->size() == 0) return Status::Ok();
    for (int i = 0; i < rows->size(); ++i) {
      if (!visit(rows->Text(i, 0))) return Status::Ok();
    }
    after = rows->Text(rows->size() - 1, 0);
  }
}

Status PostgresStore::ForEachEvent(const CaseIdRange& range,
                                   const std::function<bool(Event&)>& visit) {
  // Pages in (case_id, seq) order: events are append-only, so a page boundary cannot skip one.
  std::string sql = std::string("SELECT ") + kEventColumns +
                    " FROM events WHERE case_id >= $1 AND (case_id > $2 OR (case_id = $2 AND "
                    "seq > $3))";
  if (!range.to.empty()) sql += " AND case_id < $5";
  sql += " ORDER BY case_id, seq LIMIT $4";
  std::string after_case = range.from;
  int64_t after_seq = 0;
  Event e;
  while (true) {
    Params params = {range.from, after_case, Int(after_seq), Int(kPage)};
    if (!range.to.empty()) params.push_back(range.to);
    auto page = [&]() -> Result<Rows> {
      TONGBAN_PG_LEASE(lease);
      return lease.Query(sql, params);
    };
    auto rows = page();
    if (!rows.ok()) return rows.status();
    for (int i = 0; i < rows->size(); ++i) {
      ReadEvent(*rows, i, e);
      after_case = e.case_id;
      after_seq = e.seq;
      if (!visit(e)) return Status::Ok();
    }
    if (rows->size() < kPage) return Status::Ok();
  }
}

Status PostgresStore::ForEachCase(const CaseIdRange& range,
                                  const std::function<bool(CaseRecord&)>& visit) {
  std::string sql =
      std::string("SELECT ") + kCaseColumns + " FROM cases WHERE id >= $1 AND id > $2";
  if (!range.to.empty()) sql += " AND id < $4";
  sql += " ORDER BY id LIMIT $3";
  std::string after;
  while (true) {
    Params params = {range.from, after, Int(kPage)};
    if (!range.to.empty()) params.push_back(range.to);
    auto page = [&]() -> Result<Rows> {
      TONGBAN_PG_LEASE(lease);
      return lease.Query(sql, params);
    };
    auto rows = page();
    if (!rows.ok()) return rows.status();
    for (int i = 0; i < rows->size(); ++i) {
      CaseRecord r = ReadCase(*rows, i);
      after = r.id;
      if (!visit(r)) return Status::Ok();
    }
    if (rows->size() < kPage) return Status::Ok();
  }
}

Result<std::optional<std::string>> PostgresStore::CaseIdAt(int64_t index) {
  TONGBAN_PG_LEASE(lease);
  auto rows = lease.Query("SELECT id FROM cases ORDER BY id LIMIT 1 OFFSET $1", {Int(index)});
  if (!rows.ok()) return rows.status();
  if (rows->size() == 0) return std::optional<std::string>();
  return std::optional<std::string>(rows->Text(0, 0));
}

Result<int64_t> PostgresStore::CountCases() {
  TONGBAN_PG_LEASE(lease);
  // The counts kept on write: count(*) reads every row in PostgreSQL.
  auto rows = lease.Query("SELECT coalesce(sum(n), 0) FROM case_counts");
  if (!rows.ok()) return rows.status();
  return rows->Int(0, 0);
}

Result<int64_t> PostgresStore::CountEvents() {
  TONGBAN_PG_LEASE(lease);
  auto rows = lease.Query("SELECT count(*) FROM events");
  if (!rows.ok()) return rows.status();
  return rows->Int(0, 0);
}

Result<std::vector<std::pair<std::string, int64_t>>> PostgresStore::CountByStatus() {
  TONGBAN_PG_LEASE(lease);
  auto rows = lease.Query("SELECT status, n FROM case_counts WHERE n <> 0 ORDER BY status");
  if (!rows.ok()) return rows.status();
  std::vector<std::pair<std::string, int64_t>> out;
  for (int i = 0; i < rows->size(); ++i)
    out.push_back({rows->Text(i, 0), rows->Int(i, 1)});
  return out;
}

Result<LightCounts> PostgresStore::CountLights(Instant now, LightClock clock) {
  TONGBAN_PG_LEASE(lease);
  // One statement, so all figures come from one snapshot. Cases under review are counted by
  // status, deliveries awaited by `waiting`; the cases of unknown lights (granted before version
  // 5, or copied as an older SQLite file had them) apart, through their partial indexes.
  auto rows = clock == LightClock::kDelivery
                  ? lease.Query(
                        "SELECT coalesce(sum(waiting), 0), coalesce(sum(yellow), 0), "
                        "coalesce(sum(red), 0), (SELECT count(*) FROM cases WHERE NOT "
                        "lights_known AND status = 'approved') "
                        "FROM delivery_light_changes WHERE at_ms <= $1",
                        {Int(ToMillis(now))})
                  : lease.Query(
                        "SELECT (SELECT coalesce(sum(n), 0) FROM case_counts WHERE status = "
                        "'under_review'), coalesce(sum(yellow), 0), coalesce(sum(red), 0), "
                        "(SELECT count(*) FROM cases WHERE NOT lights_known AND status = "
                        "'under_review') FROM light_changes WHERE at_ms <= $1",
                        {Int(ToMillis(now))});
  if (!rows.ok()) return rows.status();
  LightCounts counts;
  counts.yellow = rows->Int(0, 1);
  counts.red = rows->Int(0, 2);
  counts.unknown = rows->Int(0, 3);
  // Under review, an unknown case is in the count by status; awaiting delivery, it never was.
  counts.green = rows->Int(0, 0) - counts.yellow - counts.red -
                 (clock == LightClock::kDecision ? counts.unknown : 0);
  return counts;
}

Result<std::vector<std::string>> PostgresStore::CasesWithUnknownLights(int limit,
                                                                       LightClock clock) {
  TONGBAN_PG_LEASE(lease);
  auto rows = lease.Query(std::string("SELECT id FROM cases WHERE NOT lights_known AND status = ") +
                              (clock == LightClock::kDelivery ? "'approved'" : "'under_review'") +
                              " ORDER BY id LIMIT $1",
                          {Int(limit)});
  if (!rows.ok()) return rows.status();
  std::vector<std::string> out;
  for (int i = 0; i < rows->size(); ++i)
    out.push_back(rows->Text(i, 0));
  return out;
}

Result<std::vector<IndicatorCount>> PostgresStore::Indicators(const std::string& from_month,
                                                              const std::string& to_month) {
  TONGBAN_PG_LEASE(lease);
  auto rows = lease.Query(
      "SELECT month, organ, item, zone, name, n FROM indicator_counts "
      "WHERE month >= $1 AND month <= $2 AND n <> 0 ORDER BY month, organ, item, zone, name",
      {from_month, to_month});
  if (!rows.ok()) return rows.status();
  std::vector<IndicatorCount> out;
  for (int i = 0; i < rows->size(); ++i) {
    out.push_back({rows->Text(i, 0), rows->Text(i, 1), rows->Text(i, 2), rows->Text(i, 3),
                   rows->Text(i, 4), rows->Int(i, 5)});
  }
  return out;
}

Result<std::vector<FactsRow>> PostgresStore::FindCaseFacts(const FactsQuery& q) {
  TONGBAN_PG_LEASE(lease);
  const bool by_decision = q.decided_from || q.decided_to || q.late_only;
  // Every parameter is sent; a filter that is not asked for is written true for it.
  std::string sql =
      "SELECT f.case_id, c.number, c.status, f.month, f.organ, f.item, f.zone, f.applied_ms, "
      "f.decided_ms, f.late_statutory, f.late_promised, f.counters FROM case_facts f "
      "JOIN cases c ON c.id = f.case_id WHERE f.applied_ms >= $1 AND f.applied_ms < $2";
  sql += by_decision ? " AND f.decided_ms >= $3 AND f.decided_ms < $4" : " AND $3::BIGINT <= $4";
  sql += q.organ.empty() ? " AND $5::TEXT IS NOT NULL" : " AND f.organ = $5";
  sql += q.item.empty() ? " AND $6::TEXT IS NOT NULL" : " AND f.item = $6";
  if (q.late_only) sql += " AND (f.late_statutory = 1 OR f.late_promised = 1)";
  sql += by_decision ? " ORDER BY f.decided_ms, f.case_id" : " ORDER BY f.applied_ms, f.case_id";
  sql += " LIMIT $7";
  auto bound = [](const std::optional<Instant>& t, int64_t open) {
    return Int(t ? ToMillis(*t) : open);
  };
  auto rows = lease.Query(sql, {bound(q.applied_from, INT64_MIN), bound(q.applied_to, INT64_MAX),
                                bound(q.decided_from, INT64_MIN), bound(q.decided_to, INT64_MAX),
                                q.organ, q.item, Int(q.limit)});
  if (!rows.ok()) return rows.status();
  std::vector<FactsRow> out;
  for (int i = 0; i < rows->size(); ++i) {
    FactsRow row;
    row.case_id = rows->Text(i, 0);
    row.number = rows->Text(i, 1);
    row.status = rows->Text(i, 2);
    row.facts.month = rows->Text(i, 3);
    row.facts.organ = rows->Text(i, 4);
    row.facts.item = rows->Text(i, 5);
    row.facts.zone = rows->Text(i, 6);
    row.facts.applied_at = FromMillis(rows->Int(i, 7));
    if (auto t = rows->OptionalInt(i, 8)) row.facts.decided_at = FromMillis(*t);
    row.facts.late_statutory = rows->Int(i, 9) != 0;
    row.facts.late_promised = rows->Int(i, 10) != 0;
    row.facts.counters = DecodeCounters(rows->Text(i, 11));
    out.push_back(std::move(row));
  }
  return out;
}

Result<std::vector<Event>> PostgresStore::FindEvents(const EventQuery& q) {
  const int keys = !q.actor_id.empty() + !q.actions.empty() + !q.delegation.empty();
  if (keys != 1) {
    return Status::InvalidArgument(
        "an event query names exactly one of actor, actions, delegation");
  }
  TONGBAN_PG_LEASE(lease);
  const std::string columns =
      "e.case_id, e.seq, e.time_ms, e.actor_id, e.actor_role, e.actor_organ, e.action, e.data, "
      "e.status, e.step, e.definition_id, e.definition_version, e.prev_hash, e.hash, "
      "e.idempotency_key";  // kEventColumns, for ReadEvent
  Params params = {Int(q.from ? ToMillis(*q.from) : INT64_MIN),
                   Int(q.to ? ToMillis(*q.to) : INT64_MAX), Int(q.limit)};
  std::string sql;
  if (!q.delegation.empty()) {
    params.push_back(q.delegation);
    sql = "SELECT " + columns +
          " FROM delegated_events d JOIN events e ON e.case_id = d.case_id AND e.seq = d.seq "
          "WHERE d.delegation_id = $4 AND d.time_ms >= $1 AND d.time_ms < $2 "
          "ORDER BY d.time_ms, d.case_id, d.seq LIMIT $3";
  } else if (!q.actor_id.empty()) {
    params.push_back(q.actor_id);
    sql = "SELECT " + columns +
          " FROM events e WHERE e.actor_id = $4 AND e.time_ms >= $1 AND e.time_ms < $2 "
          "ORDER BY e.time_ms, e.case_id, e.seq LIMIT $3";
  } else {
    std::string in;
    for (const std::string& action : q.actions) {
      params.push_back(action);
      in += (in.empty() ? "$" : ", $") + std::to_string(params.size());
    }
    sql = "SELECT " + columns + " FROM events e WHERE e.action IN (" + in +
          ") AND e.time_ms >= $1 AND e.time_ms < $2 ORDER BY e.time_ms, e.case_id, e.seq LIMIT $3";
  }
  auto rows = lease.Query(sql, params);
  if (!rows.ok()) return rows.status();
  std::vector<Event> out(static_cast<size_t>(rows->size()));
  for (int i = 0; i < rows->size(); ++i)
    ReadEvent(*rows, i, out[static_cast<size_t>(i)]);
  return out;
}

StoreStats PostgresStore::Stats() const {
  return StoreStats{commits_.load(), writes_.load(), max_batch_.load(), overloaded_.load(),
                    queued_.load()};
}

}  // namespace tongban
