// PostgresStore, queries over what the writer keeps: the counts kept on write (cases by status, the
// lights of both clocks), the indicators and the audit queries.
#include "engine/postgres_store.h"

#include <algorithm>
#include <array>

#include "engine/postgres_store_detail.h"

namespace tongban {

using postgres_store_detail::FromMillis;
using postgres_store_detail::Int;
using postgres_store_detail::kEventColumns;
using postgres_store_detail::Params;
using postgres_store_detail::ReadEvent;
using postgres_store_detail::ToMillis;

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

}  // namespace tongban
