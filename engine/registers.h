// Registers: the records outside any one case that decide who may do what to a case.
//
// - Delegations (赋权事项清单): which organ may exercise which power (accept, review, decide) over
//   which item, in whose name. They come from deployed delegation lists and from the API; either
//   kind can be revoked through the API. A revocation or the end of the effective period stops
//   future actions under a delegation; past events keep the delegation they were taken under.
// - Handling agreements (收受分离 / 跨区通办): which window may receive for which handling organ.
//   From deployed definitions only.
// - Credit records (信用记录): a false commitment found by verification blocks the applicant from
//   commitment-based approval until an admin records a repair (信用修复).
// - Mandates (帮办代办): an agent may act for an applicant while a mandate is in force.
//
// Everything written here is an entry of the ledger (ledger.h), so the registers are rebuilt from
// the deployed definitions plus the ledger alone and nothing is ever overwritten.
//
// Jurisdiction (Authorize) is decided at the moment of each staff action: the actor's organ
// implements the item, or holds a delegation effective that day covering every power the action
// needs. The answer is recorded in the event (data.authority), so replay never asks again.
//
// Thread safety: all methods are thread-safe. Reads see every entry committed before the call
// (each read first picks up entries appended since the last one).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/case_state.h"
#include "engine/definition_registry.h"
#include "engine/ledger.h"
#include "engine/store.h"
#include "workflows/agreement.h"
#include "workflows/delegation.h"

namespace tongban {

struct DelegationRecord {
  Delegation delegation;
  std::string source;  // "delegation_list/<id>@<version>" or "api"
  std::optional<Instant> added_at;
  std::string added_by;
  std::optional<Instant> revoked_at;
  std::string revoked_by;
  std::string revocation_reason;

  // In force at `at`: within the effective period (days in `calendar`'s zone) and not revoked.
  bool InForce(Instant at, const Calendar& calendar) const;
};
nlohmann::json DelegationRecordToJson(const DelegationRecord& record);

struct CreditRecord {
  std::string id;
  std::string credit_code;
  std::string applicant_id;
  std::string applicant_name;
  std::string case_id;
  std::string case_number;
  std::string item_id;
  std::string reason;
  Instant recorded_at{};
  std::string recorded_by;
  std::optional<Instant> repaired_at;
  std::string repaired_by;
  std::string repair_reason;

  bool blocking() const { return !repaired_at.has_value(); }
};
nlohmann::json CreditRecordToJson(const CreditRecord& record);

struct Mandate {
  std::string id;
  std::string applicant_id;
  std::string applicant_name;
  std::string agent_id;
  std::string agent_name;
  std::vector<std::string> definitions;  // empty: every item and bundle
  Instant granted_at{};
  std::optional<Instant> valid_until;
  std::optional<Instant> revoked_at;
  std::string revoked_by;
  std::string note;

  bool InForce(Instant at) const;
  bool Covers(const std::string& definition_id) const;
};
nlohmann::json MandateToJson(const Mandate& mandate);

class Registers {
 public:
  Registers(Store* store, const DefinitionRegistry* registry);

  // Picks up ledger entries appended since the last call. Definitions are read on every call, so
  // newly deployed delegation lists and agreements take effect at once.
  Status Refresh();

  // --- Jurisdiction
  // The authority under which `organ` may exercise `powers` over the item of `state` at `at`, as
  // the JSON recorded in the event's data.authority. kPermissionDenied naming the competent organ
  // (and any delegation that would have covered the action but is revoked or expired) otherwise.
  // An organ "*" (auditors and admins configured for every organ) acts as the implementing organ.
  // `state` is the case acted on; a delegation's territory is not checked against it yet (cases do
  // not record a location).
  Result<nlohmann::json> Authorize(const Item& item, const CaseState& state,
                                   const std::string& organ, const std::vector<Power>& powers,
                                   Instant at);
  // Whether staff of `organ` may see a case: the implementing organ, the receiving window, or an
  // organ that holds (or held) a delegation for the item. A delegation once held keeps counting
  // and the ledger only grows, so when the ledger cannot be read the answer comes from the entries
  // read before: it may miss a delegation added since, and never shows a case it should not.
  bool Concerns(const std::string& organ, const CaseState& state);
  // The agreement under which `receiving_organ` may receive applications for `item` at `at`.
  std::optional<HandlingAgreement> AgreementFor(const Item& item,
                                                const std::string& receiving_organ, Instant at);

  // --- Delegations
  // Every delegation record, deployed and added, with its revocation. kUnavailable when the
  // ledger cannot be read: a register listed on entries read before could show a revoked
  // delegation as in force. (So do FindDelegation, CreditRecords, FindCreditRecord and Mandates.)
  Result<std::vector<DelegationRecord>> Delegations();
  Result<std::optional<DelegationRecord>> FindDelegation(const std::string& id);
  // Adds a delegation record (from POST /v1/delegations). kAlreadyExists when the id is taken.
  Result<DelegationRecord> AddDelegation(const Delegation& delegation, const Actor& actor,
                                         Instant now);
  // kNotFound, or kFailedPrecondition when already revoked; needs a reason.
  Result<DelegationRecord> RevokeDelegation(const std::string& id, const std::string& reason,
                                            const Actor& actor, Instant now);

  // --- Credit
  // The unrepaired records against an applicant: those recorded against its credit code, and
  // those against its id (whatever code a window or an agent gives for it now).
  // kUnavailable when the ledger cannot be read: a record appended since the last read could be
  // missing, and commitment mode is not granted on what was read before.
  Result<std::vector<CreditRecord>> BlockingCreditRecords(const std::string& credit_code,
                                                          const std::string& applicant_id);
  Result<std::vector<CreditRecord>> CreditRecords(const std::string& credit_code = "");
  Result<std::optional<CreditRecord>> FindCreditRecord(const std::string& id);
  // The ledger entry recording a breach of `state`'s commitment; committed with the breach event.
  static LedgerEntry CreditRecordEntry(const CaseState& state, const std::string& reason,
                                       const Actor& actor, Instant at);
  Result<CreditRecord> RepairCredit(const std::string& id, const std::string& reason,
                                    const Actor& actor, Instant now);

  // --- Mandates
  Result<Mandate> GrantMandate(Mandate mandate, const Actor& actor, Instant now);
  Result<Mandate> RevokeMandate(const std::string& id, const Actor& actor, Instant now);
  // The mandates `principal_id` gave or holds (every one when empty), revoked ones included.
  Result<std::vector<Mandate>> Mandates(const std::string& principal_id = "");
  Result<std::optional<Mandate>> FindMandate(const std::string& id);
  // As Mandates, but when the ledger cannot be read, those read before: seeing a case counts
  // mandates ever held, as Concerns counts delegations, so a stale answer never shows a case it
  // should not.
  std::vector<Mandate> KnownMandates(const std::string& principal_id);
  // The mandate in force under which `agent_id` may act for `applicant_id` on `definition_id`;
  // nullopt when there is none. kUnavailable when the ledger cannot be read: a revocation appended
  // since the last read could be missing, and nobody acts on a mandate that may be revoked.
  Result<std::optional<Mandate>> MandateFor(const std::string& applicant_id,
                                            const std::string& agent_id,
                                            const std::string& definition_id, Instant at);

  // Every ledger entry, for verification and export.
  Result<std::vector<LedgerEntry>> Entries() { return store_->Ledger(0); }

 private:
  Status RefreshLocked();
  std::vector<Mandate> MandatesLocked(const std::string& principal_id) const;
  void ApplyEntry(const LedgerEntry& entry);
  Status Append(LedgerEntry entry);
  // Every delegation record, deployed and added, with its revocation. Rebuilt only when the
  // deployed lists or the ledger have changed since the last call: it is read on every staff
  // action and for every case a staff member lists.
  const std::map<std::string, DelegationRecord>& AllDelegationsLocked();

  Store* store_;
  const DefinitionRegistry* registry_;
  std::mutex mutex_;
  int64_t applied_seq_ = 0;
  // From the ledger:
  std::map<std::string, DelegationRecord> api_delegations_;
  std::map<std::string, std::pair<Instant, std::pair<std::string, std::string>>> revocations_;
  std::map<std::string, CreditRecord> credit_;
  std::map<std::string, Mandate> mandates_;
  // The cache behind AllDelegationsLocked(), and what it was built from.
  std::map<std::string, DelegationRecord> delegations_;
  std::vector<std::shared_ptr<const DelegationList>> delegations_lists_;
  int64_t delegations_seq_ = -1;
};

}  // namespace tongban
