#include "api/case_views.h"

#include <algorithm>
#include <optional>

#include "engine/case_clock.h"
#include "engine/lifecycle.h"

namespace tongban::api {

namespace {

std::string DayOrNull(const std::optional<Day>& d) {
  return d ? FormatIsoDay(*d) : "";
}

nlohmann::json DayJson(const std::optional<Day>& d) {
  return d ? nlohmann::json(DayOrNull(d)) : nlohmann::json(nullptr);
}

}  // namespace

nlohmann::json OfferedJson(const std::vector<OfferedAction>& offered) {
  nlohmann::json out = nlohmann::json::array();
  for (const OfferedAction& o : offered)
    out.push_back(OfferedActionToJson(o));
  return out;
}

nlohmann::json CaseJson(const CaseView& v, const Principal& p,
                        const std::vector<OfferedAction>& offered) {
  const CaseState& s = v.state;
  nlohmann::json j = CaseViewToJson(v);
  j["definition"]["title"] = v.item->title;
  j["step_title"] = v.step_id.empty() ? nlohmann::json(nullptr)
                                      : nlohmann::json(v.item->FindStep(v.step_id)->title);
  j["available_actions"] = OfferedJson(offered);
  if (!Permissions::MaySeeOfficials(p)) {
    // Applicants see what happens to their case, not which official did it.
    j.erase("step_actors");
    j.erase("joint_passed");
  }
  j["version"] = s.version;
  j.erase("last_hash");
  return j;
}

nlohmann::json BundleJson(const BundleView& view, const std::vector<OfferedAction>& offered) {
  nlohmann::json j = BundleViewToJson(view);
  j["available_actions"] = OfferedJson(offered);
  j.erase("last_hash");
  return j;
}

nlohmann::json TrackingJson(const CaseView& view, const std::vector<Event>& events,
                            const std::string& receiving_organ_name) {
  const CaseState& s = view.state;
  nlohmann::json timeline = nlohmann::json::array();
  std::string last_status;
  for (const Event& e : events) {
    if (e.status == last_status) continue;
    last_status = e.status;
    timeline.push_back({{"time", FormatTimestamp(e.time)}, {"status", e.status}});
  }
  nlohmann::json missing = nlohmann::json::array();
  for (const std::string& m : s.missing_materials) {
    const Material* material = view.item->FindMaterial(m);
    missing.push_back({{"id", m}, {"name", material ? material->name : m}});
  }
  if (s.status == CaseStatus::kSubmitted || s.status == CaseStatus::kUnderReview) {
    // Deferred (容缺后补) and other required materials not yet supplied.
    for (const std::string& id : OutstandingMaterials(*view.item, s, /*include_deferrable=*/true)) {
      if (std::find(s.missing_materials.begin(), s.missing_materials.end(), id) !=
          s.missing_materials.end()) {
        continue;
      }
      const Material* material = view.item->FindMaterial(id);
      missing.push_back({{"id", id}, {"name", material->name}});
    }
  }
  const ClockView& c = view.clock;
  return {{"number", s.number},
          {"item", view.item->title},
          {"organ", view.item->organ.name},
          {"status", CaseStatusCode(s.status)},
          {"step_title", view.step_id.empty()
                             ? nlohmann::json(nullptr)
                             : nlohmann::json(view.item->FindStep(view.step_id)->title)},
          {"decision",
           s.decision ? nlohmann::json(DecisionName(*s.decision)) : nlohmann::json(nullptr)},
          {"due", DayJson(c.promised_due)},
          {"statutory_due", DayJson(c.statutory_due)},
          {"light", LightName(c.light)},
          {"paused", c.paused},
          {"missing", missing},
          {"received_by",
           s.received_by.empty() ? nlohmann::json(nullptr) : nlohmann::json(receiving_organ_name)},
          {"transferred_at", s.transferred_at ? nlohmann::json(FormatTimestamp(*s.transferred_at))
                                              : nlohmann::json(nullptr)},
          {"bundle",
           s.bundle_number.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.bundle_number)},
          {"timeline", timeline}};
}

nlohmann::json BundleTrackingJson(const BundleView& bundle) {
  nlohmann::json parts = nlohmann::json::array();
  for (const BundlePartView& part : bundle.parts) {
    nlohmann::json entry = {{"part", part.state.part},
                            {"title", part.title},
                            {"organ", part.item->organ.name},
                            {"status", part.state.status},
                            {"number", part.state.case_number},
                            {"note", part.state.note},
                            {"due", nullptr},
                            {"light", nullptr}};
    if (part.child) {
      const ClockView& c = part.child->clock;
      entry["status"] = CaseStatusCode(part.child->state.status);
      entry["due"] = DayJson(c.promised_due);
      entry["light"] = LightName(c.light);
      entry["decision"] = part.child->state.decision
                              ? nlohmann::json(DecisionName(*part.child->state.decision))
                              : nlohmann::json(nullptr);
    }
    parts.push_back(entry);
  }
  nlohmann::json missing = nlohmann::json::array();
  for (const std::string& m : bundle.correction) {
    const Material* material = bundle.bundle->FindMaterial(m);
    missing.push_back({{"id", m}, {"name", material ? material->name : m}});
  }
  return {{"number", bundle.state.number},
          {"bundle", bundle.bundle->title},
          {"organ", bundle.bundle->lead_organ.name},
          {"status", bundle.state.Status()},
          {"outcome", bundle.state.Outcome()},
          {"due", DayJson(bundle.promised_due)},
          {"light", LightName(bundle.light)},
          {"missing", missing},
          {"parts", parts}};
}

}  // namespace tongban::api
