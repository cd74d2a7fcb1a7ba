// SqliteStore, reads: definitions, cases, events, the ledger, idempotency keys, lists, due timers,
// the scans of a whole database, and documents.
#include "engine/sqlite_store.h"
#include "engine/sqlite_store_detail.h"

namespace tongban {

using sqlite_store_detail::FromMillis;
using sqlite_store_detail::kEventColumns;
using sqlite_store_detail::ReadCase;
using sqlite_store_detail::ReadCaseInto;
using sqlite_store_detail::ReadDocument;
using sqlite_store_detail::ReadError;
using sqlite_store_detail::ReadEventInto;
using sqlite_store_detail::ReadEventRows;
using sqlite_store_detail::ReadTextColumn;
using sqlite_store_detail::ToMillis;

// ---- Reads --------------------------------------------------------------------------------------

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
  return GetCaseWhere("id", id);
}

Result<std::optional<CaseRecord>> SqliteStore::GetCaseByNumber(const std::string& number) {
  return GetCaseWhere("number", number);
}

Result<std::optional<CaseRecord>> SqliteStore::GetCaseWhere(const char* unique_column,
                                                            const std::string& value) {
  TONGBAN_LEASE(lease);
  auto s = lease.get()->Prepare(std::string("SELECT ") + CaseColumns() + " FROM cases WHERE " +
                                unique_column + " = ?");
  if (!s.ok()) return s.status();
  (*s)->Bind(1, value);
  std::optional<CaseRecord> out;
  const int rc = (*s)->Step();
  if (rc == SQLITE_ROW) out = ReadCase(**s);
  (*s)->Reset();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return ReadError(rc);
  return out;
}

Result<std::vector<Event>> SqliteStore::GetEvents(const std::string& case_id, int64_t up_to_seq) {
  // Built once, by appending: GCC 12 misreads `std::string(...) + ... + ...` here as an
  // out-of-bounds copy (-Warray-bounds).
  static const std::string kSql = [] {
    std::string sql = "SELECT ";
    sql += kEventColumns;
    sql += " FROM events e WHERE e.case_id = ? AND e.seq <= ? ORDER BY e.seq";
    return sql;
  }();
  TONGBAN_LEASE(lease);
  auto s = lease.get()->Prepare(kSql);
  if (!s.ok()) return s.status();
  (*s)->Bind(1, case_id).Bind(2, up_to_seq);
  return ReadEventRows(**s);
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
  return ReadTextColumn(**s);
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
  // A statement of its own: this scan may run for minutes and must not share a cached one. (Built
  // by appending: GCC 12 reports a false -Warray-bounds on the chain of `+`.)
  std::string sql = "SELECT ";
  sql += kEventColumns;
  sql += " FROM events e";
  sql += RangeClause("e.case_id", range);
  sql += " ORDER BY e.case_id, e.seq";
  sqlite::Statement s(lease.get()->db.get(), sql);
  if (!s.ok()) return Status::Internal("sqlite: " + s.error());
  BindRange(&s, range);
  // One Event for the whole scan: assigning into its strings reuses their buffers.
  Event e;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    ReadEventInto(s, e);
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
  return lease.get()->QueryInt("SELECT count(*) FROM events");
}

Result<int64_t> SqliteStore::CountCases() {
  TONGBAN_LEASE(lease);
  return lease.get()->QueryInt("SELECT count(*) FROM cases");
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
