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

const char* CaseStatusTitle(CaseStatus status) {
  return StatusTitle(CaseStatusCode(status));
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
  nlohmann::json rating = nullptr;
  if (s.rating) {
    const RatingRecord& r = *s.rating;
    nlohmann::json rectification = nullptr;
    if (r.rectification_due) {
      rectification = {{"due", FormatIsoDay(*r.rectification_due)},
                       {"answer", r.answer},
                       {"answered_at", OptionalTime(r.answered_at)},
                       {"overdue_recorded", r.overdue_recorded}};
    }
    rating = {{"score", r.score},
              {"comment", r.comment},
              {"rated_at", FormatTimestamp(r.rated_at)},
              {"rated_by", r.rated_by},
              {"rectification", rectification}};
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
      {"rating", rating},
      {"version", s.version},
      {"last_hash", s.last_hash},
  };
}

}  // namespace tongban
