#include "engine/case_state.h"

#include "engine/clock.h"

namespace tongban {

namespace {
const char* kStatusCodes[] = {
    "submitted", "correction_pending", "under_review", "approved",   "denied",
    "closed",    "not_accepted",       "withdrawn",    "terminated", "revoked"};

nlohmann::json OptionalTime(const std::optional<Instant>& t) {
  return t ? nlohmann::json(FormatTimestamp(*t)) : nlohmann::json(nullptr);
}

std::optional<Instant> ReadOptionalTime(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return ParseTimestamp(it->get<std::string>());
}

Instant ReadTime(const nlohmann::json& j, const char* key) {
  return ReadOptionalTime(j, key).value_or(Instant{});
}
}  // namespace

const char* VerificationName(Verification v) {
  switch (v) {
    case Verification::kNone:
      return "none";
    case Verification::kPending:
      return "pending";
    case Verification::kPassed:
      return "passed";
    case Verification::kBreached:
      return "breached";
  }
  return "none";
}

const char* CaseStatusCode(CaseStatus status) {
  return kStatusCodes[static_cast<int>(status)];
}

std::optional<CaseStatus> ParseCaseStatus(const std::string& code) {
  for (int i = 0; i < 10; ++i) {
    if (code == kStatusCodes[i]) return static_cast<CaseStatus>(i);
  }
  return std::nullopt;
}

bool IsFinal(CaseStatus status) {
  return status == CaseStatus::kNotAccepted || status == CaseStatus::kWithdrawn ||
         status == CaseStatus::kTerminated || status == CaseStatus::kRevoked;
}

nlohmann::json CaseStateToJson(const CaseState& s, const Item* item) {
  nlohmann::json pauses = nlohmann::json::array();
  for (const PauseInterval& p : s.pauses) {
    pauses.push_back(
        {{"start", FormatTimestamp(p.start)}, {"end", OptionalTime(p.end)}, {"reason", p.reason}});
  }
  std::string step_id;
  if (s.step && item != nullptr && *s.step < item->steps.size()) step_id = item->steps[*s.step].id;
  nlohmann::json commitment = nullptr;
  if (s.commitment) {
    commitment = {{"template_id", s.commitment->template_id},
                  {"template_version", s.commitment->template_version},
                  {"content_hash", s.commitment->content_hash},
                  {"signed_by", s.commitment->signed_by},
                  {"signed_at", FormatTimestamp(s.commitment->signed_at)}};
  }
  return {
      {"id", s.id},
      {"number", s.number},
      {"query_code", s.query_code},
      {"definition", {{"id", s.definition_id}, {"version", s.definition_version}}},
      {"organ", s.organ_id},
      {"reception",
       {{"received_by", s.received_by},
        {"agreement", s.reception_agreement},
        {"transferred_at", OptionalTime(s.transferred_at)}}},
      {"bundle",
       {{"case", s.bundle_case_id}, {"number", s.bundle_number}, {"part", s.bundle_part}}},
      {"commitment", commitment},
      {"applicant",
       {{"id", s.applicant_id},
        {"name", s.applicant_name},
        {"credit_code", s.applicant_credit_code}}},
      {"mode", s.mode},
      {"form", s.form},
      {"materials", s.materials},
      {"status", CaseStatusCode(s.status)},
      {"step", step_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(step_id)},
      {"created_at", FormatTimestamp(s.created_at)},
      {"received_at", FormatTimestamp(s.received_at)},
      {"updated_at", FormatTimestamp(s.updated_at)},
      {"correction_issued", s.correction_issued},
      {"missing_materials", s.missing_materials},
      {"accepted_at", OptionalTime(s.accepted_at)},
      {"deemed_accepted", s.deemed_accepted},
      {"suspended", s.suspended},
      {"pauses", pauses},
      {"extended", s.extended},
      {"extension_days", s.extension_days},
      {"step_entered_at", OptionalTime(s.step_entered_at)},
      {"step_actors", s.step_actors},
      {"joint_passed", s.joint_passed},
      {"decision",
       s.decision ? nlohmann::json(DecisionName(*s.decision)) : nlohmann::json(nullptr)},
      {"decided_at", OptionalTime(s.decided_at)},
      {"decision_reason", s.decision_reason},
      {"delivered_at", OptionalTime(s.delivered_at)},
      {"overdue_recorded", s.overdue_recorded},
      {"issued_in",
       {{"name", s.issued_in_name},
        {"seal", s.issued_in_seal},
        {"delegation", s.issued_under_delegation}}},
      {"verification",
       {{"status", VerificationName(s.verification)},
        {"verified_at", OptionalTime(s.verified_at)},
        {"verified_by", s.verified_by},
        {"findings", s.verification_findings},
        {"overdue_recorded", s.verification_overdue_recorded}}},
      {"version", s.version},
      {"last_hash", s.last_hash},
  };
}

Result<CaseState> CaseStateFromJson(const nlohmann::json& j, const Item* item) {
  try {
    CaseState s;
    s.id = j.at("id").get<std::string>();
    s.number = j.at("number").get<std::string>();
    s.query_code = j.at("query_code").get<std::string>();
    s.definition_id = j.at("definition").at("id").get<std::string>();
    s.definition_version = j.at("definition").at("version").get<int>();
    s.organ_id = j.at("organ").get<std::string>();
    const nlohmann::json& reception = j.at("reception");
    s.received_by = reception.at("received_by").get<std::string>();
    s.reception_agreement = reception.at("agreement").get<std::string>();
    s.transferred_at = ReadOptionalTime(reception, "transferred_at");
    const nlohmann::json& bundle = j.at("bundle");
    s.bundle_case_id = bundle.at("case").get<std::string>();
    s.bundle_number = bundle.at("number").get<std::string>();
    s.bundle_part = bundle.at("part").get<std::string>();
    if (!j.at("commitment").is_null()) {
      const nlohmann::json& c = j.at("commitment");
      s.commitment = CommitmentRecord{
          c.at("template_id").get<std::string>(), c.at("template_version").get<int>(),
          c.at("content_hash").get<std::string>(), c.at("signed_by").get<std::string>(),
          ReadTime(c, "signed_at")};
    }
    s.applicant_id = j.at("applicant").at("id").get<std::string>();
    s.applicant_name = j.at("applicant").at("name").get<std::string>();
    s.applicant_credit_code = j.at("applicant").at("credit_code").get<std::string>();
    s.mode = j.at("mode").get<std::string>();
    s.form = j.at("form");
    s.materials = j.at("materials").get<std::set<std::string>>();
    auto status = ParseCaseStatus(j.at("status").get<std::string>());
    if (!status) return Status::DataLoss("snapshot has an unknown status");
    s.status = *status;
    if (!j.at("step").is_null()) {
      if (item == nullptr) return Status::DataLoss("snapshot step without its definition");
      auto index = item->StepIndex(j.at("step").get<std::string>());
      if (!index) return Status::DataLoss("snapshot names an unknown step");
      s.step = *index;
    }
    s.created_at = ReadTime(j, "created_at");
    s.received_at = ReadTime(j, "received_at");
    s.updated_at = ReadTime(j, "updated_at");
    s.correction_issued = j.at("correction_issued").get<bool>();
    s.missing_materials = j.at("missing_materials").get<std::vector<std::string>>();
    s.accepted_at = ReadOptionalTime(j, "accepted_at");
    s.deemed_accepted = j.at("deemed_accepted").get<bool>();
    s.suspended = j.at("suspended").get<bool>();
    for (const auto& p : j.at("pauses")) {
      s.pauses.push_back(
          {ReadTime(p, "start"), ReadOptionalTime(p, "end"), p.at("reason").get<std::string>()});
    }
    s.extended = j.at("extended").get<bool>();
    s.extension_days = j.at("extension_days").get<int>();
    s.step_entered_at = ReadOptionalTime(j, "step_entered_at");
    s.step_actors = j.at("step_actors").get<std::map<std::string, std::string>>();
    s.joint_passed = j.at("joint_passed").get<std::map<std::string, std::string>>();
    if (!j.at("decision").is_null()) {
      s.decision =
          j.at("decision").get<std::string>() == "approve" ? Decision::kApprove : Decision::kDeny;
    }
    s.decided_at = ReadOptionalTime(j, "decided_at");
    s.decision_reason = j.at("decision_reason").get<std::string>();
    s.delivered_at = ReadOptionalTime(j, "delivered_at");
    s.overdue_recorded = j.at("overdue_recorded").get<bool>();
    const nlohmann::json& issued = j.at("issued_in");
    s.issued_in_name = issued.at("name").get<std::string>();
    s.issued_in_seal = issued.at("seal").get<std::string>();
    s.issued_under_delegation = issued.at("delegation").get<std::string>();
    const nlohmann::json& verification = j.at("verification");
    const std::string v = verification.at("status").get<std::string>();
    s.verification = v == "pending"    ? Verification::kPending
                     : v == "passed"   ? Verification::kPassed
                     : v == "breached" ? Verification::kBreached
                                       : Verification::kNone;
    s.verified_at = ReadOptionalTime(verification, "verified_at");
    s.verified_by = verification.at("verified_by").get<std::string>();
    s.verification_findings = verification.at("findings").get<std::string>();
    s.verification_overdue_recorded = verification.at("overdue_recorded").get<bool>();
    s.version = j.at("version").get<int64_t>();
    s.last_hash = j.at("last_hash").get<std::string>();
    return s;
  } catch (const std::exception& e) {
    return Status::DataLoss(std::string("malformed case snapshot: ") + e.what());
  }
}

}  // namespace tongban
