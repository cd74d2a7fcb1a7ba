// SqliteStore, queries over what the writer keeps: the counts kept on write (cases by status, the
// lights of both clocks), the indicators and the audit queries.
#include "engine/sqlite_store.h"

#include <algorithm>

#include "engine/sqlite_store_detail.h"

namespace tongban {

using sqlite_store_detail::FromMillis;
using sqlite_store_detail::kEventColumns;
using sqlite_store_detail::ReadError;
using sqlite_store_detail::ReadEventRows;
using sqlite_store_detail::ReadTextColumn;
using sqlite_store_detail::ToMillis;

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
  return ReadTextColumn(**s);
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
  const std::string columns = kEventColumns;
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
  return ReadEventRows(**s);
}

}  // namespace tongban
