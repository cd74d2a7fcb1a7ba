#include "workflows/item.h"

#include <algorithm>

namespace tongban {

const Action* Step::FindAction(const std::string& action_id) const {
  auto it = action_index.find(action_id);
  return it == action_index.end() ? nullptr : &actions[it->second];
}

const Step* Item::FindStep(const std::string& step_id) const {
  auto it = step_index.find(step_id);
  return it == step_index.end() ? nullptr : &steps[it->second];
}

std::optional<size_t> Item::StepIndex(const std::string& step_id) const {
  auto it = step_index.find(step_id);
  if (it == step_index.end()) return std::nullopt;
  return it->second;
}

const Material* FindMaterialIn(const std::vector<Material>& materials, const std::string& id) {
  for (const Material& m : materials) {
    if (m.id == id) return &m;
  }
  return nullptr;
}

const FormField* FindFormField(const std::vector<FormField>& form, const std::string& id) {
  for (const FormField& f : form) {
    if (f.id == id) return &f;
  }
  return nullptr;
}

const Material* Item::FindMaterial(const std::string& material_id) const {
  return FindMaterialIn(materials, material_id);
}

const FormField* Item::FindField(const std::string& field_id) const {
  return FindFormField(form, field_id);
}

bool Item::HasRole(const std::string& role) const {
  const auto& built_in = BuiltInStepRoles();
  if (std::find(built_in.begin(), built_in.end(), role) != built_in.end()) return true;
  return std::any_of(extra_roles.begin(), extra_roles.end(),
                     [&](const auto& r) { return r.first == role; });
}

std::vector<size_t> Item::FourEyesPartners(size_t step) const {
  std::vector<size_t> partners;
  for (const auto& [a, b] : four_eyes) {
    if (a == step) partners.push_back(b);
    if (b == step) partners.push_back(a);
  }
  return partners;
}

const char* ItemCategoryName(ItemCategory c) {
  switch (c) {
    case ItemCategory::kLicensing:
      return "licensing";
    case ItemCategory::kFiling:
      return "filing";
    case ItemCategory::kConfirmation:
      return "confirmation";
    case ItemCategory::kPayment:
      return "payment";
    case ItemCategory::kInspection:
      return "inspection";
    case ItemCategory::kRuling:
      return "ruling";
    case ItemCategory::kReward:
      return "reward";
    case ItemCategory::kOther:
      return "other";
  }
  return "other";
}

const char* CaseTypeName(CaseType c) {
  return c == CaseType::kInstant ? "instant" : "promised";
}

const char* NecessityName(Necessity n) {
  switch (n) {
    case Necessity::kRequired:
      return "required";
    case Necessity::kOptional:
      return "optional";
    case Necessity::kDeferrable:
      return "deferrable";
  }
  return "required";
}

const char* DecisionName(Decision d) {
  return d == Decision::kApprove ? "approve" : "deny";
}

const std::vector<SpecialProcedureKind>& SpecialProcedureKinds() {
  static const std::vector<SpecialProcedureKind> kinds = {
      {"hearing", "听证"},   {"bidding", "招标"},           {"auction", "拍卖"},
      {"testing", "检验"},   {"detection", "检测"},         {"quarantine", "检疫"},
      {"appraisal", "鉴定"}, {"expert_review", "专家评审"}, {"inspection", "勘验/现场核查", false},
  };
  return kinds;
}

std::string SpecialProcedureTitle(const std::string& id) {
  for (const SpecialProcedureKind& kind : SpecialProcedureKinds()) {
    if (id == kind.id) return kind.title;
  }
  return "";
}

bool IsArt45Procedure(const std::string& id) {
  for (const SpecialProcedureKind& kind : SpecialProcedureKinds()) {
    if (id == kind.id) return kind.art45;
  }
  return false;
}

}  // namespace tongban
