// AuditQueries: the auditor's questions, answered on the server from the stored snapshots and the
// store's indexes (Store::FindCaseFacts, FindEvents) — never by replaying every case:
// - cases decided after their statutory or promised due date, in a period;
// - actions taken under a delegation that has since been revoked or has expired;
// - everything one actor did in a period;
// - the cases of an organ or an item applied for in a period;
// - the verification results (核查) of commitment-based approvals recorded in a period.
// Who may ask is the caller's question to Permissions (Operation::kAudit); periods are local days
// of the deployed items' calendar (ParsePeriod in indicators.h).
//
// An event shows its actor's name and organ's name as recorded on it when it was written
// (action_provenance.h); an event written before they were recorded shows none (the caller may say
// so; it is never filled in with today's names).
//
// Ownership: holds a pointer to the CaseService, which must outlive it. Thread safety: as
// CaseService (every method may be called concurrently).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/case_service.h"
#include "engine/indicators.h"

namespace tongban {

// A case as the audit queries list it: its stored facts and, from its snapshot, its due dates.
struct AuditCaseRow {
  std::string case_id;
  std::string number;
  std::string status;
  CaseFacts facts;
  std::string decision;  // approve, deny or ""
  std::optional<Day> statutory_due;
  std::optional<Day> promised_due;
  std::optional<Day> decided_on;  // the local day of the decision
  int working_days_used = 0;
  std::string channel;
  int visits = 0;
};

// An event as the audit queries list it.
struct AuditEventRow {
  Event event;
  std::string case_number;
  std::string actor_name;        // as recorded on the event; "" before names were recorded
  std::string actor_organ_name;  // likewise
  std::string delegation;        // data.authority.delegation when taken under one
  // For actions under a delegation that ended: "revoked" or "expired", and when.
  std::string delegation_ended;
  std::optional<Instant> delegation_revoked_at;
  std::optional<Day> delegation_effective_to;
  std::string result;  // verifications: pass, breach, or overdue (the timer's)
  std::string reason;  // data.reason, when there is one
};

template <typename Row>
struct AuditAnswer {
  std::vector<Row> rows;
  bool truncated = false;  // more matched than the limit
};

enum class LateAgainst { kStatutory, kPromised, kEither };

class AuditQueries {
 public:
  static constexpr int kMaxLimit = 10000;

  explicit AuditQueries(CaseService* service) : service_(service) {}

  // The calendar whose local days periods are counted in: the deployed items' (the first in id
  // order when they differ). kFailedPrecondition when no item is deployed.
  Result<std::shared_ptr<const Calendar>> PeriodCalendar() const;

  // Cases decided in `period` after their statutory or promised due date (or either), of `organ`
  // and `item` when not "". Status codes: the store's.
  Result<AuditAnswer<AuditCaseRow>> LateDecisions(const Period& period, LateAgainst against,
                                                  const std::string& organ, const std::string& item,
                                                  int limit);
  // Cases applied for in `period`, of `organ` and `item` when not "".
  Result<AuditAnswer<AuditCaseRow>> Cases(const Period& period, const std::string& organ,
                                          const std::string& item, int limit);
  // Every event `actor_id` recorded in `period`.
  Result<AuditAnswer<AuditEventRow>> ActorActions(const std::string& actor_id, const Period& period,
                                                  int limit);
  // Events in `period` taken under delegations that were revoked, or whose effective period
  // ended, by now.
  Result<AuditAnswer<AuditEventRow>> DelegatedActions(const Period& period, int limit);
  // The verify events (核查: pass, breach) and the verification-overdue timer's, in `period`.
  Result<AuditAnswer<AuditEventRow>> Verifications(const Period& period, int limit);

 private:
  Result<AuditAnswer<AuditCaseRow>> CaseRows(std::vector<FactsRow> facts, size_t limit);
  AuditEventRow EventRow(Event event);
  // The events `q` finds within `period`, one row each, cut at `limit`.
  Result<AuditAnswer<AuditEventRow>> EventRows(EventQuery q, const Period& period, int limit);

  CaseService* service_;
};

}  // namespace tongban
