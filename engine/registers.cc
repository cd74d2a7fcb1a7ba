#include "engine/registers.h"

#include <algorithm>

#include "engine/clock.h"

namespace tongban {

namespace {

nlohmann::json OptionalTime(const std::optional<Instant>& t) {
  return t ? nlohmann::json(FormatTimestamp(*t)) : nlohmann::json(nullptr);
}

LedgerEntry NewEntry(const char* kind, const std::string& subject, std::string data,
                     const Actor& actor, Instant time) {
  LedgerEntry e;
  e.time = time;
  e.actor = actor;
  e.kind = kind;
  e.subject = subject;
  e.data = std::move(data);
  return e;
}

std::string PowerList(const std::vector<Power>& powers) {
  std::string list;
  for (Power p : powers)
    list += (list.empty() ? "" : "+") + std::string(PowerName(p));
  return list;
}

}  // namespace

bool DelegationRecord::InForce(Instant at, const Calendar& calendar) const {
  if (revoked_at && *revoked_at <= at) return false;
  return delegation.EffectiveOn(calendar.LocalDate(at));
}

nlohmann::json DelegationRecordToJson(const DelegationRecord& r) {
  nlohmann::json j = DelegationToJson(r.delegation);
  j["list"] = r.delegation.list_id;
  j["source"] = r.source;
  j["added_at"] = OptionalTime(r.added_at);
  j["added_by"] = r.added_by;
  j["revoked"] = r.revoked_at.has_value();
  j["revoked_at"] = OptionalTime(r.revoked_at);
  j["revoked_by"] = r.revoked_by;
  j["revocation_reason"] = r.revocation_reason;
  j["issued_in_name"] = r.delegation.IssuedInName();
  j["issued_in_seal"] = r.delegation.IssuedInSeal();
  return j;
}

nlohmann::json CreditRecordToJson(const CreditRecord& r) {
  return {{"id", r.id},
          {"credit_code", r.credit_code},
          {"applicant", {{"id", r.applicant_id}, {"name", r.applicant_name}}},
          {"case", {{"id", r.case_id}, {"number", r.case_number}}},
          {"item", r.item_id},
          {"reason", r.reason},
          {"recorded_at", FormatTimestamp(r.recorded_at)},
          {"recorded_by", r.recorded_by},
          {"blocking", r.blocking()},
          {"repaired_at", OptionalTime(r.repaired_at)},
          {"repaired_by", r.repaired_by},
          {"repair_reason", r.repair_reason}};
}

bool Mandate::InForce(Instant at) const {
  if (revoked_at && *revoked_at <= at) return false;
  if (valid_until && at > *valid_until) return false;
  return granted_at <= at;
}

bool Mandate::Covers(const std::string& definition_id) const {
  return definitions.empty() ||
         std::find(definitions.begin(), definitions.end(), definition_id) != definitions.end();
}

nlohmann::json MandateToJson(const Mandate& m) {
  return {{"id", m.id},
          {"applicant", {{"id", m.applicant_id}, {"name", m.applicant_name}}},
          {"agent", {{"id", m.agent_id}, {"name", m.agent_name}}},
          {"definitions", m.definitions},
          {"granted_at", FormatTimestamp(m.granted_at)},
          {"valid_until", OptionalTime(m.valid_until)},
          {"revoked", m.revoked_at.has_value()},
          {"revoked_at", OptionalTime(m.revoked_at)},
          {"revoked_by", m.revoked_by},
          {"note", m.note}};
}

Registers::Registers(Store* store, const DefinitionRegistry* registry)
    : store_(store), registry_(registry) {}

Status Registers::Refresh() {
  std::lock_guard<std::mutex> lock(mutex_);
  return RefreshLocked();
}

Status Registers::RefreshLocked() {
  auto entries = store_->Ledger(applied_seq_);
  if (!entries.ok()) return entries.status();
  for (const LedgerEntry& e : *entries) {
    ApplyEntry(e);
    applied_seq_ = e.seq;
  }
  return Status::Ok();
}

void Registers::ApplyEntry(const LedgerEntry& e) {
  nlohmann::json d = e.DataJson();
  if (e.kind == kLedgerDelegationAdded) {
    DiagnosticSink sink("ledger", nullptr);
    auto delegation = ReadDelegation(d.value("delegation", nlohmann::json()), "", nullptr, &sink);
    if (!delegation) return;  // a malformed entry is left out; verification reports the ledger
    DelegationRecord r;
    r.delegation = std::move(*delegation);
    r.delegation.list_id = "api";
    r.source = "api";
    r.added_at = e.time;
    r.added_by = e.actor.id;
    api_delegations_[e.subject] = std::move(r);
  } else if (e.kind == kLedgerDelegationRevoked) {
    if (revocations_.count(e.subject) == 0) {
      revocations_[e.subject] = {e.time, {e.actor.id, d.value("reason", "")}};
    }
  } else if (e.kind == kLedgerCreditRecorded) {
    CreditRecord r;
    r.id = e.subject;
    r.credit_code = d.value("credit_code", "");
    r.applicant_id = d.value("applicant_id", "");
    r.applicant_name = d.value("applicant_name", "");
    r.case_id = d.value("case_id", "");
    r.case_number = d.value("case_number", "");
    r.item_id = d.value("item", "");
    r.reason = d.value("reason", "");
    r.recorded_at = e.time;
    r.recorded_by = e.actor.id;
    credit_.emplace(r.id, std::move(r));
  } else if (e.kind == kLedgerCreditRepaired) {
    auto it = credit_.find(e.subject);
    if (it != credit_.end() && !it->second.repaired_at) {
      it->second.repaired_at = e.time;
      it->second.repaired_by = e.actor.id;
      it->second.repair_reason = d.value("reason", "");
    }
  } else if (e.kind == kLedgerMandateGranted) {
    Mandate m;
    m.id = e.subject;
    m.applicant_id = d.value("applicant_id", "");
    m.applicant_name = d.value("applicant_name", "");
    m.agent_id = d.value("agent_id", "");
    m.agent_name = d.value("agent_name", "");
    m.definitions = d.value("definitions", std::vector<std::string>());
    m.granted_at = e.time;
    if (d.contains("valid_until") && d["valid_until"].is_string()) {
      m.valid_until = ParseTimestamp(d["valid_until"].get<std::string>());
    }
    m.note = d.value("note", "");
    mandates_.emplace(m.id, std::move(m));
  } else if (e.kind == kLedgerMandateRevoked) {
    auto it = mandates_.find(e.subject);
    if (it != mandates_.end() && !it->second.revoked_at) {
      it->second.revoked_at = e.time;
      it->second.revoked_by = e.actor.id;
    }
  }
}

const std::map<std::string, DelegationRecord>& Registers::AllDelegationsLocked() {
  auto lists = registry_->DelegationLists();
  if (delegations_seq_ == applied_seq_ && lists == delegations_lists_) return delegations_;
  std::map<std::string, DelegationRecord> all;
  // The latest version of each list is the list in force.
  std::map<std::string, std::shared_ptr<const DelegationList>> latest;
  for (const auto& list : lists) {
    auto& slot = latest[list->id];
    if (!slot || slot->version < list->version) slot = list;
  }
  for (const auto& [id, list] : latest) {
    for (const Delegation& d : list->delegations) {
      DelegationRecord r;
      r.delegation = d;
      r.source = "delegation_list/" + list->id + "@" + std::to_string(list->version);
      all.emplace(d.id, std::move(r));
    }
  }
  for (const auto& [id, r] : api_delegations_)
    all.emplace(id, r);
  for (auto& [id, r] : all) {
    auto it = revocations_.find(id);
    if (it != revocations_.end()) {
      r.revoked_at = it->second.first;
      r.revoked_by = it->second.second.first;
      r.revocation_reason = it->second.second.second;
    }
  }
  delegations_ = std::move(all);
  delegations_lists_ = std::move(lists);
  delegations_seq_ = applied_seq_;
  return delegations_;
}

Result<nlohmann::json> Registers::Authorize(const Item& item, const CaseState& state,
                                            const std::string& organ,
                                            const std::vector<Power>& powers, Instant at) {
  (void)state;
  nlohmann::json authority = {{"organ", organ}, {"powers", PowerList(powers)}};
  const bool decides = std::find(powers.begin(), powers.end(), Power::kDecide) != powers.end();
  if (organ == item.organ.id || organ == "*") {
    authority["basis"] = organ == "*" ? "all_organs" : "implementing_organ";
    if (decides) {
      authority["issued_in_name"] = item.organ.name;
      authority["issued_in_seal"] = "";
    }
    return authority;
  }
  std::lock_guard<std::mutex> lock(mutex_);
  TONGBAN_RETURN_IF_ERROR(RefreshLocked());
  const Calendar& calendar = *item.time_limits.calendar;
  const auto& all = AllDelegationsLocked();
  std::optional<DelegationRecord> used;
  for (Power power : powers) {
    const DelegationRecord* found = nullptr;
    std::string why_not;
    for (const auto& [id, r] : all) {
      const Delegation& d = r.delegation;
      if (d.item_id != item.id || d.to.id != organ || !d.Grants(power)) continue;
      if (r.InForce(at, calendar)) {
        found = &r;
        break;
      }
      if (r.revoked_at && *r.revoked_at <= at) {
        why_not += "; delegation " + id + " was revoked on " + FormatTimestamp(*r.revoked_at) +
                   (r.revocation_reason.empty() ? "" : " (" + r.revocation_reason + ")");
      } else if (d.effective_to && calendar.LocalDate(at) > *d.effective_to) {
        why_not += "; delegation " + id + " expired on " + FormatIsoDay(*d.effective_to);
      } else {
        why_not += "; delegation " + id + " takes effect on " + FormatIsoDay(d.effective_from);
      }
    }
    if (found == nullptr) {
      return Status::PermissionDenied("organ " + (organ.empty() ? std::string("(none)") : organ) +
                                      " has no power to " + PowerName(power) + " item " + item.id +
                                      " (" + item.title + "): the competent organ is " +
                                      item.organ.name + " (" + item.organ.id + ")" + why_not);
    }
    if (!used || power == Power::kDecide) used = *found;
  }
  const Delegation& d = used->delegation;
  authority["basis"] = "delegation";
  authority["delegation"] = d.id;
  authority["form"] = DelegationFormName(d.form);
  authority["delegated_by"] = d.from.id;
  if (decides) {
    authority["issued_in_name"] = d.IssuedInName();
    authority["issued_in_seal"] = d.IssuedInSeal();
  }
  return authority;
}

bool Registers::Concerns(const std::string& organ, const CaseState& state) {
  if (organ.empty()) return false;
  if (organ == "*" || organ == state.organ_id || organ == state.received_by) return true;
  std::lock_guard<std::mutex> lock(mutex_);
  (void)RefreshLocked();  // on failure, the entries read before still hold (see the header)
  for (const auto& [id, r] : AllDelegationsLocked()) {
    if (r.delegation.item_id == state.definition_id && r.delegation.to.id == organ) return true;
  }
  return false;
}

std::optional<HandlingAgreement> Registers::AgreementFor(const Item& item,
                                                         const std::string& receiving_organ,
                                                         Instant at) {
  std::map<std::string, std::shared_ptr<const HandlingAgreementList>> latest;
  for (const auto& list : registry_->AgreementLists()) {
    auto& slot = latest[list->id];
    if (!slot || slot->version < list->version) slot = list;
  }
  Day day = item.time_limits.calendar->LocalDate(at);
  for (const auto& [id, list] : latest) {
    for (const HandlingAgreement& a : list->agreements) {
      if (a.receiving.id == receiving_organ && a.Covers(item.id) && a.EffectiveOn(day)) return a;
    }
  }
  return std::nullopt;
}

Result<std::vector<DelegationRecord>> Registers::Delegations() {
  std::lock_guard<std::mutex> lock(mutex_);
  TONGBAN_RETURN_IF_ERROR(RefreshLocked());
  std::vector<DelegationRecord> out;
  for (const auto& [id, r] : AllDelegationsLocked())
    out.push_back(r);
  return out;
}

Result<std::optional<DelegationRecord>> Registers::FindDelegation(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  TONGBAN_RETURN_IF_ERROR(RefreshLocked());
  const auto& all = AllDelegationsLocked();
  auto it = all.find(id);
  if (it == all.end()) return std::optional<DelegationRecord>();
  return std::optional<DelegationRecord>(it->second);
}

Status Registers::Append(LedgerEntry entry) {
  StoreWrite write;
  write.ledger.push_back(entry);
  TONGBAN_RETURN_IF_ERROR(store_->Commit(std::move(write)));
  // Committed: the caller must hear so, or its retry would append the entry twice. Should reading
  // the ledger back fail now (the disk), the entry is applied from memory; the next refresh reads
  // it again, and applying an entry twice changes nothing.
  if (!RefreshLocked().ok()) {
    ApplyEntry(entry);
    delegations_seq_ = -1;  // rebuild the delegations with it
  }
  return Status::Ok();
}

Result<DelegationRecord> Registers::AddDelegation(const Delegation& delegation, const Actor& actor,
                                                  Instant now) {
  // The record must read back exactly as a delegation list's would, or the registers rebuilt from
  // the ledger would silently lack it.
  DiagnosticSink sink("delegation", nullptr);
  if (!ReadDelegation(DelegationToJson(delegation), "", nullptr, &sink) || sink.has_errors()) {
    const auto& d = sink.diagnostics();
    return Status::InvalidArgument(d.empty() ? "not a valid delegation record"
                                             : d.front().pointer + ": " + d.front().message);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  TONGBAN_RETURN_IF_ERROR(RefreshLocked());
  if (AllDelegationsLocked().count(delegation.id) != 0) {
    return Status::AlreadyExists("delegation \"" + delegation.id +
                                 "\" exists; revoke it and add one with a new id");
  }
  TONGBAN_RETURN_IF_ERROR(
      Append(NewEntry(kLedgerDelegationAdded, delegation.id,
                      CanonicalJson({{"delegation", DelegationToJson(delegation)}}), actor, now)));
  const auto& all = AllDelegationsLocked();
  auto it = all.find(delegation.id);
  if (it == all.end()) return Status::Internal("the delegation recorded does not read back");
  return it->second;
}

Result<DelegationRecord> Registers::RevokeDelegation(const std::string& id,
                                                     const std::string& reason, const Actor& actor,
                                                     Instant now) {
  if (reason.empty()) return Status::InvalidArgument("revoking a delegation needs a reason");
  std::lock_guard<std::mutex> lock(mutex_);
  TONGBAN_RETURN_IF_ERROR(RefreshLocked());
  const auto& all = AllDelegationsLocked();
  auto it = all.find(id);
  if (it == all.end()) return Status::NotFound("no delegation " + id);
  if (it->second.revoked_at) {
    return Status::FailedPrecondition("delegation " + id + " was already revoked on " +
                                      FormatTimestamp(*it->second.revoked_at));
  }
  TONGBAN_RETURN_IF_ERROR(Append(
      NewEntry(kLedgerDelegationRevoked, id, CanonicalJson({{"reason", reason}}), actor, now)));
  return AllDelegationsLocked().at(id);
}

Result<std::vector<CreditRecord>> Registers::BlockingCreditRecords(
    const std::string& credit_code, const std::string& applicant_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  TONGBAN_RETURN_IF_ERROR(RefreshLocked());
  std::vector<CreditRecord> out;
  for (const auto& [id, r] : credit_) {
    // By code or by id: a window or an agent that names the applicant with another code (or none)
    // is still the applicant the record is against, and a code is the enterprise whatever id a
    // window gave it.
    bool same = (!credit_code.empty() && r.credit_code == credit_code) ||
                (!applicant_id.empty() && r.applicant_id == applicant_id);
    if (same && r.blocking()) out.push_back(r);
  }
  return out;
}

Result<std::vector<CreditRecord>> Registers::CreditRecords(const std::string& credit_code) {
  std::lock_guard<std::mutex> lock(mutex_);
  TONGBAN_RETURN_IF_ERROR(RefreshLocked());
  std::vector<CreditRecord> out;
  for (const auto& [id, r] : credit_) {
    if (credit_code.empty() || r.credit_code == credit_code) out.push_back(r);
  }
  return out;
}

Result<std::optional<CreditRecord>> Registers::FindCreditRecord(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  TONGBAN_RETURN_IF_ERROR(RefreshLocked());
  auto it = credit_.find(id);
  if (it == credit_.end()) return std::optional<CreditRecord>();
  return std::optional<CreditRecord>(it->second);
}

LedgerEntry Registers::CreditRecordEntry(const CaseState& state, const std::string& reason,
                                         const Actor& actor, Instant at) {
  // A case breaches its commitment at most once (the breach revokes it).
  return NewEntry(kLedgerCreditRecorded, "credit-" + state.number,
                  CanonicalJson({{"credit_code", state.applicant_credit_code},
                                 {"applicant_id", state.applicant_id},
                                 {"applicant_name", state.applicant_name},
                                 {"case_id", state.id},
                                 {"case_number", state.number},
                                 {"item", state.definition_id},
                                 {"reason", reason}}),
                  actor, at);
}

Result<CreditRecord> Registers::RepairCredit(const std::string& id, const std::string& reason,
                                             const Actor& actor, Instant now) {
  if (reason.empty()) {
    return Status::InvalidArgument("a credit repair (信用修复) needs a reason");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  TONGBAN_RETURN_IF_ERROR(RefreshLocked());
  auto it = credit_.find(id);
  if (it == credit_.end()) return Status::NotFound("no credit record " + id);
  if (it->second.repaired_at) {
    return Status::FailedPrecondition("credit record " + id + " was already repaired on " +
                                      FormatTimestamp(*it->second.repaired_at));
  }
  TONGBAN_RETURN_IF_ERROR(
      Append(NewEntry(kLedgerCreditRepaired, id, CanonicalJson({{"reason", reason}}), actor, now)));
  return credit_.at(id);
}

Result<Mandate> Registers::GrantMandate(Mandate m, const Actor& actor, Instant now) {
  if (m.agent_id.empty()) return Status::InvalidArgument("a mandate names its agent");
  if (m.agent_id == m.applicant_id) {
    return Status::InvalidArgument("an applicant cannot mandate itself");
  }
  if (m.valid_until && *m.valid_until <= now) {
    return Status::InvalidArgument("valid_until is in the past");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  TONGBAN_RETURN_IF_ERROR(RefreshLocked());
  if (m.id.empty() || mandates_.count(m.id) != 0) {
    return Status::AlreadyExists("mandate id " + m.id + " is taken");
  }
  nlohmann::json data = {{"applicant_id", m.applicant_id}, {"applicant_name", m.applicant_name},
                         {"agent_id", m.agent_id},         {"agent_name", m.agent_name},
                         {"definitions", m.definitions},   {"note", m.note}};
  if (m.valid_until) data["valid_until"] = FormatTimestamp(*m.valid_until);
  TONGBAN_RETURN_IF_ERROR(
      Append(NewEntry(kLedgerMandateGranted, m.id, CanonicalJson(data), actor, now)));
  return mandates_.at(m.id);
}

Result<Mandate> Registers::RevokeMandate(const std::string& id, const Actor& actor, Instant now) {
  std::lock_guard<std::mutex> lock(mutex_);
  TONGBAN_RETURN_IF_ERROR(RefreshLocked());
  auto it = mandates_.find(id);
  if (it == mandates_.end()) return Status::NotFound("no mandate " + id);
  if (it->second.revoked_at) return Status::FailedPrecondition("mandate " + id + " is revoked");
  TONGBAN_RETURN_IF_ERROR(Append(
      NewEntry(kLedgerMandateRevoked, id, CanonicalJson(nlohmann::json::object()), actor, now)));
  return mandates_.at(id);
}

Result<std::vector<Mandate>> Registers::Mandates(const std::string& principal_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  TONGBAN_RETURN_IF_ERROR(RefreshLocked());
  return MandatesLocked(principal_id);
}

Result<std::optional<Mandate>> Registers::FindMandate(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  TONGBAN_RETURN_IF_ERROR(RefreshLocked());
  auto it = mandates_.find(id);
  if (it == mandates_.end()) return std::optional<Mandate>();
  return std::optional<Mandate>(it->second);
}

std::vector<Mandate> Registers::KnownMandates(const std::string& principal_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  (void)RefreshLocked();  // on failure, the entries read before still hold (see the header)
  return MandatesLocked(principal_id);
}

std::vector<Mandate> Registers::MandatesLocked(const std::string& principal_id) const {
  std::vector<Mandate> out;
  for (const auto& [id, m] : mandates_) {
    if (principal_id.empty() || m.applicant_id == principal_id || m.agent_id == principal_id) {
      out.push_back(m);
    }
  }
  return out;
}

Result<std::optional<Mandate>> Registers::MandateFor(const std::string& applicant_id,
                                                     const std::string& agent_id,
                                                     const std::string& definition_id, Instant at) {
  std::lock_guard<std::mutex> lock(mutex_);
  TONGBAN_RETURN_IF_ERROR(RefreshLocked());
  for (const auto& [id, m] : mandates_) {
    if (m.applicant_id == applicant_id && m.agent_id == agent_id && m.Covers(definition_id) &&
        m.InForce(at)) {
      return std::optional<Mandate>(m);
    }
  }
  return std::optional<Mandate>();
}

}  // namespace tongban
