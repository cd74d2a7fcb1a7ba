// Item: the compiled, immutable form of an "item" definition (one approval item, 事项实施清单).
//
// This is what the engine executes. Everything a case needs to know about its item is here, already
// checked: ids resolve, guards are typed, the step graph is sound. Steps are stored in definition
// order and referred to by index; lookups by id go through the maps.
//
// Thread safety: immutable after compilation; shared between threads through shared_ptr<const
// Item>.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "workflows/calendar.h"
#include "workflows/guard.h"

namespace tongban {

// Staff roles every item may use in its steps; items may declare more.
inline const std::vector<std::string>& BuiltInStepRoles() {
  static const std::vector<std::string> roles = {"clerk", "reviewer", "approver", "verifier"};
  return roles;
}

enum class ItemCategory {
  kLicensing,
  kFiling,
  kConfirmation,
  kPayment,
  kInspection,
  kRuling,
  kReward,
  kOther
};
enum class CaseType { kInstant, kPromised };
enum class Necessity { kRequired, kOptional, kDeferrable };
enum class Decision { kApprove, kDeny };

struct Organ {
  std::string id;
  std::string name;
};

struct LegalCitation {
  std::string citation;
  std::string article;
  std::string url;
};

struct TimeLimits {
  std::string calendar_id;
  std::shared_ptr<const Calendar> calendar;  // resolved at compile time
  int statutory_days = 0;
  // The unit of the statutory limit and of its extension (an extension lengthens that limit):
  // working days unless another law sets the limit in bare days (行政许可法 art. 82).
  DayUnit statutory_unit = DayUnit::kWorkingDays;
  int promised_days = 0;
  DayUnit promised_unit = DayUnit::kWorkingDays;  // also the unit of yellow_when_days_left
  int extension_days = 10;
  int yellow_when_days_left = 3;
  std::string note;
};

struct Material {
  std::string id;
  std::string name;
  Necessity necessity = Necessity::kRequired;
  bool commitment_replaceable = false;
};

struct CommitmentMode {
  std::string template_id;
  int template_version = 1;
  std::string template_text;
  bool decide_at_acceptance = false;
  std::string verification_method;
  int verification_days = 0;
};

struct Action {
  std::string id;
  std::string title;
  std::optional<size_t> to_step;       // index into Item::steps
  std::optional<Decision> decision;    // exactly one of to_step / decision is set
  std::shared_ptr<const Guard> guard;  // null: always allowed
  std::vector<std::string> requires_materials;
  bool requires_reason = false;
};

struct JointParty {
  std::string id;
  std::string title;
  std::string role;
  // The organ whose staff sign this party's opinion; id "" for a party of the implementing organ
  // (or one whose definition names the organ by name only).
  Organ organ;
};

struct Step {
  std::string id;
  std::string title;
  std::string role;
  std::optional<int> time_limit_days;
  DayUnit time_limit_unit = DayUnit::kWorkingDays;
  bool counts_toward_limit = true;
  std::string special_procedure;  // empty unless a special procedure
  // The rule of the item's own law that takes this step out of the limits, when art. 45 does not
  // (an on-site check, say); required for every step that does not count but an art. 45 one.
  std::optional<LegalCitation> excluded_by;
  std::vector<JointParty> parties;  // empty unless a joint step
  std::string completes_with;       // the action every party must take, for a joint step
  std::vector<Action> actions;      // in action id order (JSON objects are unordered)
  std::map<std::string, size_t> action_index;

  bool is_joint() const { return !parties.empty(); }
  const Action* FindAction(const std::string& action_id) const;
};

// The material or form field with this id in a list, or null: an item's, a bundle's and an
// application's lists are searched the same way.
const Material* FindMaterialIn(const std::vector<Material>& materials, const std::string& id);
const FormField* FindFormField(const std::vector<FormField>& form, const std::string& id);

struct Item {
  std::string id;
  int version = 1;
  std::string title;
  std::string description;
  std::string item_code;
  ItemCategory category = ItemCategory::kLicensing;
  CaseType case_type = CaseType::kPromised;
  Organ organ;
  std::vector<LegalCitation> legal_basis;
  TimeLimits time_limits;
  std::vector<std::pair<std::string, std::string>> extra_roles;  // id, title
  std::vector<FormField> form;
  std::vector<Material> materials;
  bool standard_mode = true;
  std::optional<CommitmentMode> commitment;
  std::vector<Step> steps;
  size_t initial_step = 0;
  std::vector<std::pair<size_t, size_t>> four_eyes;
  std::string notes;
  std::string content_hash;  // SHA-256 of the canonical JSON, hex; identifies this exact content

  std::map<std::string, size_t> step_index;

  const Step* FindStep(const std::string& step_id) const;
  std::optional<size_t> StepIndex(const std::string& step_id) const;
  const Material* FindMaterial(const std::string& material_id) const;
  const FormField* FindField(const std::string& field_id) const;
  bool HasRole(const std::string& role) const;
  // Steps that must be done by someone other than whoever did `step` (four-eyes partners).
  std::vector<size_t> FourEyesPartners(size_t step) const;
};

const char* ItemCategoryName(ItemCategory c);
const char* CaseTypeName(CaseType c);
const char* NecessityName(Necessity n);
const char* DecisionName(Decision d);

// The special procedures a step may be (their time does not count toward the limits): the ids a
// definition writes, with their Chinese names. Only art. 45's exact list (听证, 招标, 拍卖, 检验,
// 检测, 检疫, 鉴定, 专家评审) pauses the clock on the law's own authority; any other kind
// (勘验/现场核查, which art. 34 makes part of the review) pauses it only under a rule the item
// cites in `excluded_by`.
struct SpecialProcedureKind {
  const char* id;
  const char* title;
  bool art45 = true;
};
const std::vector<SpecialProcedureKind>& SpecialProcedureKinds();
// The Chinese name of a special procedure id; "" for an unknown one.
std::string SpecialProcedureTitle(const std::string& id);
// Whether `id` is one of art. 45's procedures (false for an unknown id).
bool IsArt45Procedure(const std::string& id);

}  // namespace tongban
