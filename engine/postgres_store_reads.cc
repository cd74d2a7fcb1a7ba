// PostgresStore, reads: definitions, documents, cases, events, the ledger, idempotency keys, lists,
// due timers and their claims, and the scans of a whole database.
#include "engine/postgres_store.h"
#include "engine/postgres_store_detail.h"

namespace tongban {

using postgres_store_detail::FromHex;
using postgres_store_detail::FromMillis;
using postgres_store_detail::Int;
using postgres_store_detail::kCaseColumns;
using postgres_store_detail::kDocumentColumns;
using postgres_store_detail::kEventColumns;
using postgres_store_detail::kPage;
using postgres_store_detail::Param;
using postgres_store_detail::Params;
using postgres_store_detail::ReadCase;
using postgres_store_detail::ReadDocument;
using postgres_store_detail::ReadEvent;
using postgres_store_detail::Rows;
using postgres_store_detail::ToMillis;

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

Result<Rows> PostgresStore::QueryPage(const std::string& sql, const Params& params) {
  TONGBAN_PG_LEASE(lease);
  return lease.Query(sql, params);
}

Status PostgresStore::ForEachCaseId(const std::function<bool(const std::string&)>& visit) {
  std::string after;
  while (true) {
    auto rows =
        QueryPage("SELECT id FROM cases WHERE id > $1 ORDER BY id LIMIT $2", {after, Int(kPage)});
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
    auto rows = QueryPage(sql, params);
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
    auto rows = QueryPage(sql, params);
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

}  // namespace tongban
