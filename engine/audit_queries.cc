#include "engine/audit_queries.h"

#include <algorithm>
#include <tuple>

namespace tongban {

namespace {

// One more than asked, to know whether the answer was cut.
int Probe(int limit) {
  return std::clamp(limit, 1, AuditQueries::kMaxLimit) + 1;
}

// A string member of stored data, "" when absent or of another type (stored data is the past's:
// nothing about it may throw).
std::string StringMember(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

template <typename Row>
void Cut(AuditAnswer<Row>* answer, int limit) {
  const size_t keep = static_cast<size_t>(std::clamp(limit, 1, AuditQueries::kMaxLimit));
  if (answer->rows.size() > keep) {
    answer->rows.resize(keep);
    answer->truncated = true;
  }
}

}  // namespace

Result<std::shared_ptr<const Calendar>> AuditQueries::PeriodCalendar() const {
  std::shared_ptr<const Item> first;
  for (const auto& item : service_->registry()->Items()) {
    if (!first || item->id < first->id) first = item;
  }
  if (!first || !first->time_limits.calendar) {
    return Status::FailedPrecondition("no item is deployed: there is no calendar to count in");
  }
  return first->time_limits.calendar;
}

Result<AuditAnswer<AuditCaseRow>> AuditQueries::CaseRows(std::vector<FactsRow> facts,
                                                         size_t limit) {
  AuditAnswer<AuditCaseRow> answer;
  for (FactsRow& f : facts) {
    if (answer.rows.size() == limit) {
      answer.truncated = true;
      break;
    }
    AuditCaseRow row;
    row.case_id = f.case_id;
    row.number = f.number;
    row.status = f.status;
    row.facts = std::move(f.facts);
    // The due dates are the snapshot's (read, not replayed); a case whose snapshot cannot be read
    // is still listed from its facts.
    if (auto view = service_->Get(row.case_id); view.ok()) {
      const CaseState& s = view->state;
      if (s.decision) row.decision = *s.decision == Decision::kApprove ? "approve" : "deny";
      row.channel = s.channel;
      row.visits = s.visits;
      const ClockView clock =
          s.decided_at ? ComputeClock(*view->item, s, *s.decided_at) : view->clock;
      row.statutory_due = clock.statutory_due;
      row.promised_due = clock.promised_due;
      row.working_days_used = clock.working_days_used;
      if (s.decided_at) row.decided_on = view->item->time_limits.calendar->LocalDate(*s.decided_at);
    }
    answer.rows.push_back(std::move(row));
  }
  return answer;
}

Result<AuditAnswer<AuditCaseRow>> AuditQueries::LateDecisions(const Period& period,
                                                              LateAgainst against,
                                                              const std::string& organ,
                                                              const std::string& item, int limit) {
  FactsQuery q;
  q.decided_from = period.from;
  q.decided_to = period.to;
  q.late_only = true;
  q.organ = organ;
  q.item = item;
  q.limit = Probe(limit);
  auto facts = service_->store()->FindCaseFacts(q);
  if (!facts.ok()) return facts.status();
  std::vector<FactsRow> late;
  for (FactsRow& f : *facts) {
    const bool keep = against == LateAgainst::kStatutory  ? f.facts.late_statutory
                      : against == LateAgainst::kPromised ? f.facts.late_promised
                                                          : true;
    if (keep) late.push_back(std::move(f));
  }
  const bool cut = facts->size() == static_cast<size_t>(q.limit);
  auto answer = CaseRows(std::move(late), static_cast<size_t>(q.limit - 1));
  if (answer.ok() && cut) answer->truncated = true;
  return answer;
}

Result<AuditAnswer<AuditCaseRow>> AuditQueries::Cases(const Period& period,
                                                      const std::string& organ,
                                                      const std::string& item, int limit) {
  FactsQuery q;
  q.applied_from = period.from;
  q.applied_to = period.to;
  q.organ = organ;
  q.item = item;
  q.limit = Probe(limit);
  auto facts = service_->store()->FindCaseFacts(q);
  if (!facts.ok()) return facts.status();
  return CaseRows(std::move(facts).value(), static_cast<size_t>(q.limit - 1));
}

AuditEventRow AuditQueries::EventRow(Event event) {
  AuditEventRow row;
  const nlohmann::json data = ParseStoredData(event.data);
  row.actor_name = StringMember(data, "actor_name");
  row.actor_organ_name = StringMember(data, "actor_organ_name");
  if (auto a = data.find("authority");
      a != data.end() && StringMember(*a, "basis") == "delegation") {
    row.delegation = StringMember(*a, "delegation");
  }
  row.reason = StringMember(data, "reason");
  if (event.action == "verify") row.result = StringMember(data, "result");
  if (event.action == "mark_verification_overdue") row.result = "overdue";
  if (auto record = service_->store()->GetCase(event.case_id); record.ok() && *record) {
    row.case_number = (*record)->number;
  }
  row.event = std::move(event);
  return row;
}

Result<AuditAnswer<AuditEventRow>> AuditQueries::EventRows(EventQuery q, const Period& period,
                                                           int limit) {
  q.from = period.from;
  q.to = period.to;
  q.limit = Probe(limit);
  auto events = service_->store()->FindEvents(q);
  if (!events.ok()) return events.status();
  AuditAnswer<AuditEventRow> answer;
  for (Event& e : *events)
    answer.rows.push_back(EventRow(std::move(e)));
  Cut(&answer, limit);
  return answer;
}

Result<AuditAnswer<AuditEventRow>> AuditQueries::ActorActions(const std::string& actor_id,
                                                              const Period& period, int limit) {
  EventQuery q;
  q.actor_id = actor_id;
  return EventRows(std::move(q), period, limit);
}

Result<AuditAnswer<AuditEventRow>> AuditQueries::Verifications(const Period& period, int limit) {
  EventQuery q;
  q.actions = {"verify", "mark_verification_overdue"};
  return EventRows(std::move(q), period, limit);
}

Result<AuditAnswer<AuditEventRow>> AuditQueries::DelegatedActions(const Period& period, int limit) {
  auto calendar = PeriodCalendar();
  if (!calendar.ok()) return calendar.status();
  const Instant now = service_->clock()->Now();
  const Day today = (*calendar)->LocalDate(now);
  AuditAnswer<AuditEventRow> answer;
  auto delegations = service_->registers()->Delegations();
  if (!delegations.ok()) return delegations.status();
  for (const DelegationRecord& record : *delegations) {
    const Delegation& d = record.delegation;
    const bool revoked = record.revoked_at && *record.revoked_at <= now;
    const bool expired = d.effective_to && *d.effective_to < today;
    if (!revoked && !expired) continue;
    EventQuery q;
    q.delegation = d.id;
    q.from = period.from;
    q.to = period.to;
    q.limit = Probe(limit);
    auto events = service_->store()->FindEvents(q);
    if (!events.ok()) return events.status();
    for (Event& e : *events) {
      AuditEventRow row = EventRow(std::move(e));
      row.delegation = d.id;
      row.delegation_ended = revoked ? "revoked" : "expired";
      if (revoked) row.delegation_revoked_at = record.revoked_at;
      row.delegation_effective_to = d.effective_to;
      answer.rows.push_back(std::move(row));
    }
  }
  std::sort(answer.rows.begin(), answer.rows.end(), [](const auto& a, const auto& b) {
    return std::tie(a.event.time, a.event.case_id, a.event.seq) <
           std::tie(b.event.time, b.event.case_id, b.event.seq);
  });
  Cut(&answer, limit);
  return answer;
}

}  // namespace tongban
