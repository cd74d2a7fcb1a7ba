// CaseState: everything the engine knows about one case, derived from its events alone.
//
// The life cycle machine builds it; the store keeps a serialized copy as the case's snapshot for
// queries; verification replays the events and compares. Nothing in here is computed from "now":
// deadlines and lights are computed on demand by case_clock.h.
//
// Thread safety: plain value type.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workflows/calendar.h"
#include "workflows/frame_actions.h"
#include "workflows/item.h"

namespace tongban {

// Stable status codes clients may rely on.
enum class CaseStatus {
  kSubmitted,          // received, awaiting acceptance
  kCorrectionPending,  // 补正: the applicant must supply what the notice lists
  kUnderReview,        // accepted; the item's review steps run
  kApproved,           // decided: granted, awaiting delivery
  kDenied,             // decided: refused, awaiting delivery
  kClosed,             // delivered; keeps its decision
  kNotAccepted,        // 不予受理
  kWithdrawn,          // 撤回 by the applicant before a decision
  kTerminated,         // 终止
  kRevoked,            // 撤销: a decision undone
};

const char* CaseStatusCode(CaseStatus status);
// The status in words (审查中, 准予许可, …): StatusTitle (workflows/frame_actions.h) of its code.
const char* CaseStatusTitle(CaseStatus status);
std::optional<CaseStatus> ParseCaseStatus(const std::string& code);
bool IsFinal(CaseStatus status);  // no further action can change the case's outcome

// A stretch of time that does not count toward the limits (行政许可法 art. 45).
struct PauseInterval {
  Instant start;
  std::optional<Instant> end;  // open while paused
  std::string reason;          // "suspend: hearing …" or "step expert-review (expert_review)"
};

// The commitment an applicant signed (告知承诺书), as recorded at submission.
struct CommitmentRecord {
  std::string template_id;
  int template_version = 0;
  std::string content_hash;  // SHA-256 of the template text signed, hex
  std::string signed_by;
  Instant signed_at{};
};

// Verification after a commitment-based approval (事中事后核查).
enum class Verification { kNone, kPending, kPassed, kBreached };
const char* VerificationName(Verification v);

// 好差评: the applicant's rating of a closed case, once, and the rectification (整改) a bad rating
// (1 or 2) opens, answered by the organ within kRectificationWorkingDays working days.
struct RatingRecord {
  int score = 0;  // 1..5
  std::string comment;
  Instant rated_at{};
  std::string rated_by;  // the applicant, or the agent acting for it
  // A bad rating's rectification: its last day (the rating's local day not counted), and the
  // organ's answer.
  std::optional<Day> rectification_due;
  std::optional<Instant> answered_at;
  std::string answered_by;
  std::string answer;
  bool overdue_recorded = false;  // the mark_rectification_overdue timer fired unanswered

  bool bad() const { return score <= 2; }
  bool rectification_open() const { return rectification_due.has_value() && !answered_at; }
};

// Working days an organ has to answer a bad rating (see engine/README.md for the source).
inline constexpr int kRectificationWorkingDays = 5;
// The longest rating comment, in characters (code points).
inline constexpr size_t kMaxRatingCommentChars = 500;

struct CaseState {
  std::string id;
  std::string number;      // human case number
  std::string query_code;  // what the applicant types to track the case
  std::string definition_id;
  int definition_version = 0;
  std::string organ_id;  // the organ implementing the item (实施机关)

  // 收受分离 (跨区通办): the organ whose window received the case under a handling agreement, when
  // that is not an organ with jurisdiction; the case waits there until it is transferred.
  std::string received_by;
  std::string reception_agreement;
  std::optional<Instant> transferred_at;

  // A child case of a bundle (一件事): the parent case and the bundle part this case is.
  std::string bundle_case_id;
  std::string bundle_number;
  std::string bundle_part;

  // How the application came in (online, window, agent: engine/action_provenance.h) and the
  // applicant's visits in person (跑动次数) over the case's applicant-side actions so far.
  std::string channel;
  int visits = 0;
  // The organ whose staff accepted the case (its implementing organ, or an organ holding a
  // delegation); "" before acceptance. The indicators' zone (engine/indicators.h).
  std::string handled_by;

  std::string applicant_id;
  std::string applicant_name;
  std::string applicant_credit_code;  // 统一社会信用代码
  std::string mode = "standard";      // standard | commitment
  std::optional<CommitmentRecord> commitment;
  nlohmann::json form = nlohmann::json::object();
  std::set<std::string> materials;  // ids supplied

  CaseStatus status = CaseStatus::kSubmitted;
  std::optional<size_t> step;  // index into the item's steps while under review

  Instant created_at{};
  Instant received_at{};  // the latest complete receipt of materials (start of the 5-day window)
  Instant updated_at{};
  bool correction_issued = false;  // 一次性告知: at most one notice per case
  std::vector<std::string> missing_materials;
  std::optional<Instant> accepted_at;
  bool deemed_accepted = false;

  bool suspended = false;  // an explicit suspension is open
  std::vector<PauseInterval> pauses;
  bool extended = false;
  int extension_days = 0;

  std::optional<Instant> step_entered_at;
  // step id -> who completed it last, and "step id/@actor id" -> actor id for everyone who ever
  // took an action in that step (four-eyes).
  std::map<std::string, std::string> step_actors;
  std::map<std::string, std::string> joint_passed;  // party id -> who passed, current joint step

  std::optional<Decision> decision;
  std::optional<Instant> decided_at;
  std::string decision_reason;
  std::optional<Instant> delivered_at;
  bool overdue_recorded = false;
  // The name and seal the decision was issued in, and the delegation it was taken under ("" when
  // the implementing organ decided itself).
  std::string issued_in_name;
  std::string issued_in_seal;
  std::string issued_under_delegation;

  Verification verification = Verification::kNone;
  std::optional<Instant> verified_at;
  std::string verified_by;
  std::string verification_findings;
  bool verification_overdue_recorded = false;

  std::optional<RatingRecord> rating;

  int64_t version = 0;  // the seq of the last event
  std::string last_hash;

  bool paused() const { return !pauses.empty() && !pauses.back().end; }
  bool awaiting_transfer() const { return !received_by.empty() && !transferred_at; }
  bool is_bundle_child() const { return !bundle_case_id.empty(); }
};

// The case as the API shows it (a view: what is stored is snapshot_codec.h's).
nlohmann::json CaseStateToJson(const CaseState& state, const Item* item);

}  // namespace tongban
