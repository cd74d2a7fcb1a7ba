#include "engine/bundle_case.h"

#include <algorithm>
#include <set>

#include "engine/clock.h"
#include "workflows/json_document.h"

namespace tongban {

bool BundlePartState::approved() const {
  return status == "approved" || (status == "closed" && decision == "approve");
}

bool BundlePartState::ended() const {
  return status == "approved" || status == "closed" || status == "denied" ||
         status == "not_accepted" || status == "withdrawn" || status == "terminated" ||
         status == "revoked" || status == "blocked" || status == "not_applicable";
}

std::string BundleState::Status() const {
  if (withdrawn_at) return "withdrawn";
  if (delivered_at) return "delivered";
  bool any_correction = false;
  bool all_ended = true;
  bool all_submitted = true;
  for (const BundlePartState& p : parts) {
    if (!p.applies) continue;
    // Both wait for the applicant: a correction, or input a part needs to start.
    if (p.status == "correction_pending" || p.status == "awaiting_input") any_correction = true;
    if (!p.ended()) all_ended = false;
    if (p.status != "submitted" && p.status != "waiting") all_submitted = false;
  }
  if (any_correction) return "correction_pending";
  if (all_ended) return "ready";
  if (all_submitted) return "submitted";
  return "in_progress";
}

std::string BundleState::Outcome() const {
  int applicable = 0;
  int approved = 0;
  for (const BundlePartState& p : parts) {
    if (!p.applies) continue;
    ++applicable;
    if (p.approved()) ++approved;
  }
  if (approved == applicable) return "approved";
  return approved > 0 ? "partial" : "none";
}

const BundlePartState* BundleState::FindPart(const std::string& part) const {
  for (const BundlePartState& p : parts) {
    if (p.part == part) return &p;
  }
  return nullptr;
}

BundlePartState* BundleState::FindPart(const std::string& part) {
  for (BundlePartState& p : parts) {
    if (p.part == part) return &p;
  }
  return nullptr;
}

std::vector<std::string> BundleState::CombinedCorrection(const Bundle& bundle) const {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const BundlePartState& p : parts) {
    if (p.status != "correction_pending") continue;
    const BundlePart* part = bundle.FindPart(p.part);
    if (part == nullptr) continue;
    for (const std::string& m : bundle.BundleMaterialsFor(*part, p.missing_materials)) {
      if (seen.insert(m).second) out.push_back(m);
    }
  }
  return out;
}

std::vector<std::string> BundleState::ReadyToRelease(const Bundle& bundle,
                                                     bool including_awaiting_input) const {
  std::vector<std::string> ready;
  if (withdrawn_at) return ready;
  for (size_t i = 0; i < parts.size() && i < bundle.parts.size(); ++i) {
    const bool waits = parts[i].status == "waiting" ||
                       (including_awaiting_input && parts[i].status == "awaiting_input");
    if (!parts[i].applies || !waits) continue;
    bool deps_done = true;
    for (size_t dep : bundle.parts[i].after) {
      const BundlePartState& d = parts[dep];
      // A dependency that does not apply is no obstacle.
      if (d.applies && !d.approved()) deps_done = false;
    }
    if (deps_done) ready.push_back(parts[i].part);
  }
  return ready;
}

void BundleCase::AddMaterials(const nlohmann::json& ids) {
  std::vector<std::string>& materials = state_.materials;
  for (const nlohmann::json& m : ids) {
    std::string id = m.get<std::string>();
    if (std::find(materials.begin(), materials.end(), id) == materials.end()) {
      materials.push_back(std::move(id));
    }
  }
}

void BundleCase::PropagateBlocked() {
  // A part whose dependency ended without approval can never start; repeat for chains.
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < state_.parts.size() && i < bundle_->parts.size(); ++i) {
      BundlePartState& p = state_.parts[i];
      if (!p.applies || (p.status != "waiting" && p.status != "awaiting_input")) continue;
      for (size_t dep : bundle_->parts[i].after) {
        const BundlePartState& d = state_.parts[dep];
        if (d.applies && d.ended() && !d.approved()) {
          p.status = "blocked";
          changed = true;
          break;
        }
      }
    }
  }
}

Status BundleCase::Submit(const Command& c) {
  if (c.action != "submit") return Status::Internal("the first event of a case must be submit");
  try {
    const nlohmann::json& d = c.data;
    BundleState& s = state_;
    s.id = d.at("case").at("id").get<std::string>();
    s.number = d.at("case").at("number").get<std::string>();
    s.query_code = d.at("case").at("query_code").get<std::string>();
    s.definition_id = bundle_->id;
    s.definition_version = bundle_->version;
    s.organ_id = bundle_->lead_organ.id;
    s.applicant_id = d.at("applicant").at("id").get<std::string>();
    s.applicant_name = d.at("applicant").value("name", "");
    s.applicant_credit_code = d.at("applicant").value("credit_code", "");
    s.form = d.value("form", nlohmann::json::object());
    s.materials = d.value("materials", std::vector<std::string>());
    const nlohmann::json& plan = d.at("parts");
    if (plan.size() != bundle_->parts.size()) {
      return Status::InvalidArgument("the plan does not cover the bundle's parts");
    }
    for (size_t i = 0; i < plan.size(); ++i) {
      BundlePartState p;
      p.part = plan[i].at("part").get<std::string>();
      if (p.part != bundle_->parts[i].id) {
        return Status::InvalidArgument("the plan's parts are not in the bundle's order");
      }
      p.item_id = bundle_->parts[i].item->id;
      p.item_version = bundle_->parts[i].item->version;
      p.applies = plan[i].at("applies").get<bool>();
      p.status = plan[i].at("status").get<std::string>();
      p.case_id = plan[i].value("case_id", "");
      p.case_number = plan[i].value("case_number", "");
      s.parts.push_back(std::move(p));
    }
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("malformed bundle submission: ") + e.what());
  }
  state_.created_at = state_.updated_at = c.time;
  return Status::Ok();
}

Status BundleCase::Apply(const Command& c) {
  BundleState& s = state_;
  const std::string status = s.Status();
  try {
    if (c.action == "part_changed") {
      BundlePartState* p = s.FindPart(c.data.at("part").get<std::string>());
      if (p == nullptr) return Status::InvalidArgument("part_changed names an unknown part");
      p->status = c.data.at("status").get<std::string>();
      if (c.data.contains("case_id")) p->case_id = c.data.at("case_id").get<std::string>();
      if (c.data.contains("case_number")) {
        p->case_number = c.data.at("case_number").get<std::string>();
      }
      p->missing_materials = c.data.value("missing", std::vector<std::string>());
      p->decision = c.data.value("decision", "");
      p->note = c.data.value("note", "");
      if (c.data.contains("issued")) AddMaterials(c.data.at("issued"));
      PropagateBlocked();
    } else if (c.action == "supply_form") {
      if (status == "delivered" || status == "withdrawn") {
        return Status::FailedPrecondition("bundle " + s.number + " is " + status);
      }
      const nlohmann::json& form = c.data.at("form");
      if (!form.is_object() || form.empty()) {
        return Status::InvalidArgument("data.form must give at least one field of the bundle form")
            .WithPointer("/data/form");
      }
      for (const auto& [key, value] : form.items()) {
        if (bundle_->FindField(key) == nullptr) {
          return Status::InvalidArgument("data.form has an unknown field \"" + key + "\"")
              .WithPointer(JoinJsonPointer("/data/form", key));
        }
        s.form[key] = value;
      }
    } else if (c.action == "supply_correction") {
      if (status != "correction_pending") {
        return Status::FailedPrecondition("no correction notice is pending on bundle " + s.number);
      }
      AddMaterials(c.data.at("materials"));
    } else if (c.action == "deliver") {
      if (status != "ready") {
        return Status::FailedPrecondition(
            "the bundle's results are delivered together once every part is decided; bundle " +
            s.number + " is " + status);
      }
      s.delivered_at = c.time;
    } else if (c.action == "withdraw") {
      if (status == "ready" || status == "delivered" || status == "withdrawn") {
        return Status::FailedPrecondition("bundle " + s.number + " is " + status +
                                          "; it can no longer be withdrawn");
      }
      s.withdrawn_at = c.time;
      for (BundlePartState& p : s.parts) {
        if (p.applies &&
            (p.status == "waiting" || p.status == "blocked" || p.status == "awaiting_input")) {
          p.status = "withdrawn";
        }
      }
    } else {
      return Status::FailedPrecondition("action \"" + c.action +
                                        "\" is not an action of a bundle case; act on its parts");
    }
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("the action's data is malformed: ") + e.what())
        .WithPointer("/data");
  }
  s.updated_at = c.time;
  return Status::Ok();
}

nlohmann::json BundleStateToJson(const BundleState& s) {
  nlohmann::json parts = nlohmann::json::array();
  for (const BundlePartState& p : s.parts) {
    parts.push_back({{"part", p.part},
                     {"item", {{"id", p.item_id}, {"version", p.item_version}}},
                     {"applies", p.applies},
                     {"status", p.status},
                     {"case_id", p.case_id},
                     {"case_number", p.case_number},
                     {"decision", p.decision},
                     {"missing_materials", p.missing_materials},
                     {"note", p.note}});
  }
  auto optional_time = [](const std::optional<Instant>& t) {
    return t ? nlohmann::json(FormatTimestamp(*t)) : nlohmann::json(nullptr);
  };
  return {{"kind", "bundle"},
          {"id", s.id},
          {"number", s.number},
          {"query_code", s.query_code},
          {"definition", {{"id", s.definition_id}, {"version", s.definition_version}}},
          {"organ", s.organ_id},
          {"applicant",
           {{"id", s.applicant_id},
            {"name", s.applicant_name},
            {"credit_code", s.applicant_credit_code}}},
          {"form", s.form},
          {"materials", s.materials},
          {"status", s.Status()},
          {"outcome", s.Outcome()},
          {"parts", parts},
          {"created_at", FormatTimestamp(s.created_at)},
          {"updated_at", FormatTimestamp(s.updated_at)},
          {"delivered_at", optional_time(s.delivered_at)},
          {"withdrawn_at", optional_time(s.withdrawn_at)},
          {"version", s.version},
          {"last_hash", s.last_hash}};
}

}  // namespace tongban
