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

namespace {

nlohmann::json TimeOrNull(const std::optional<Instant>& t) {
  return t ? nlohmann::json(FormatTimestamp(*t)) : nlohmann::json(nullptr);
}

nlohmann::json TextOrNull(const std::string& text) {
  return text.empty() ? nlohmann::json(nullptr) : nlohmann::json(text);
}

// A due date with its own provisional mark, or null.
nlohmann::json DueDateJson(const std::optional<Day>& day, bool provisional) {
  if (!day) return nullptr;
  return {{"date", FormatIsoDay(*day)}, {"provisional", provisional}};
}

nlohmann::json MaterialsJson(const Item& item, const std::vector<std::string>& ids) {
  nlohmann::json out = nlohmann::json::array();
  for (const std::string& id : ids) {
    const Material* material = item.FindMaterial(id);
    out.push_back({{"id", id}, {"name", material ? material->name : id}});
  }
  return out;
}

nlohmann::json ReasonJson(const std::optional<ProgressReason>& reason) {
  if (!reason) return nullptr;
  return {{"kind", reason->kind},
          {"title", reason->title},
          {"text", reason->text},
          {"time", TimeOrNull(reason->time)}};
}

nlohmann::json StepsJson(const std::vector<ProgressStep>& steps) {
  nlohmann::json out = nlohmann::json::array();
  for (const ProgressStep& step : steps) {
    out.push_back({{"kind", step.kind},
                   {"id", step.id},
                   {"title", step.title},
                   {"organ", step.organ},
                   {"party_organs", step.party_organs},
                   {"state", step.state},
                   {"entered_at", TimeOrNull(step.entered_at)},
                   {"time", TimeOrNull(step.time)}});
  }
  return out;
}

nlohmann::json TimelineJson(const std::vector<ProgressEntry>& timeline) {
  nlohmann::json out = nlohmann::json::array();
  for (const ProgressEntry& e : timeline) {
    out.push_back({{"time", FormatTimestamp(e.time)},
                   {"status", e.status},
                   {"status_title", StatusTitle(e.status)},
                   {"action", e.action},
                   {"action_title", e.action_title},
                   {"by", e.by},
                   {"organ", TextOrNull(e.organ)}});
  }
  return out;
}

nlohmann::json SpecialProcedureJson(const std::optional<SpecialProcedureProgress>& p) {
  if (!p) return nullptr;
  return {{"kind", p->kind},
          {"title", p->title},
          {"step_title", TextOrNull(p->step_title)},
          {"started_at", FormatTimestamp(p->started_at)},
          {"announced_days",
           p->announced_days ? nlohmann::json(*p->announced_days) : nlohmann::json(nullptr)},
          {"ends_by", DueDateJson(p->ends_by, p->ends_by_provisional)},
          {"days_left", p->days_left ? nlohmann::json(*p->days_left) : nlohmann::json(nullptr)},
          {"reason", TextOrNull(p->reason)}};
}

nlohmann::json WorkingDaysJson(const ClockView& c) {
  if (!c.started) return nullptr;
  return {{"used", c.working_days_used},
          {"left", c.promised_days_left},
          {"limit", c.promised_limit_days},
          {"statutory_left", c.statutory_days_left},
          {"statutory_limit", c.statutory_limit_days},
          {"paused", c.paused_working_days},
          {"extension", c.extension_days}};
}

}  // namespace

nlohmann::json TrackingJson(const CaseView& view, const CaseProgress& progress,
                            const std::string& receiving_organ_name) {
  const CaseState& s = view.state;
  std::vector<std::string> missing_ids = s.missing_materials;
  if (s.status == CaseStatus::kSubmitted || s.status == CaseStatus::kUnderReview) {
    // Deferred (容缺后补) and other required materials not yet supplied.
    for (const std::string& id : OutstandingMaterials(*view.item, s, /*include_deferrable=*/true)) {
      if (std::find(missing_ids.begin(), missing_ids.end(), id) == missing_ids.end()) {
        missing_ids.push_back(id);
      }
    }
  }
  const ClockView& c = view.clock;
  nlohmann::json reason = ReasonJson(progress.reason);
  if (progress.reason && progress.reason->kind == "correction") {
    reason["missing"] = MaterialsJson(*view.item, s.missing_materials);
  }
  return {{"number", s.number},
          {"item", view.item->title},
          {"organ", view.item->organ.name},
          {"time_zone", view.item->time_limits.calendar->time_zone()},
          {"status", CaseStatusCode(s.status)},
          {"status_title", CaseStatusTitle(s.status)},
          {"step_title", view.step_id.empty()
                             ? nlohmann::json(nullptr)
                             : nlohmann::json(view.item->FindStep(view.step_id)->title)},
          {"decision",
           s.decision ? nlohmann::json(DecisionName(*s.decision)) : nlohmann::json(nullptr)},
          {"due", DayJson(c.promised_due)},
          {"statutory_due", DayJson(c.statutory_due)},
          {"due_dates",
           {{"promised", DueDateJson(c.promised_due, c.promised_due_provisional)},
            {"statutory", DueDateJson(c.statutory_due, c.statutory_due_provisional)},
            {"acceptance_deadline",
             DueDateJson(c.acceptance_deadline, c.acceptance_deadline_provisional)}}},
          {"provisional", c.provisional},
          {"working_days", WorkingDaysJson(c)},
          {"light", LightName(c.light)},
          {"paused", c.paused},
          {"special_procedure", SpecialProcedureJson(progress.special_procedure)},
          {"missing", MaterialsJson(*view.item, missing_ids)},
          {"reason", reason},
          {"received_by",
           s.received_by.empty() ? nlohmann::json(nullptr) : nlohmann::json(receiving_organ_name)},
          {"transferred_at", TimeOrNull(s.transferred_at)},
          {"bundle",
           s.bundle_number.empty() ? nlohmann::json(nullptr) : nlohmann::json(s.bundle_number)},
          {"steps", StepsJson(progress.steps)},
          {"timeline", TimelineJson(progress.timeline)}};
}

nlohmann::json BundleTrackingJson(const BundleView& bundle) {
  nlohmann::json parts = nlohmann::json::array();
  for (const BundlePartView& part : bundle.parts) {
    nlohmann::json entry = {{"part", part.state.part},
                            {"title", part.title},
                            {"organ", part.item->organ.name},
                            {"status", part.state.status},
                            {"status_title", StatusTitle(part.state.status)},
                            {"number", part.state.case_number},
                            {"note", part.state.note},
                            {"due", nullptr},
                            {"due_provisional", false},
                            {"light", nullptr},
                            {"reason", nullptr}};
    if (part.child) {
      const ClockView& c = part.child->clock;
      entry["status"] = CaseStatusCode(part.child->state.status);
      entry["status_title"] = CaseStatusTitle(part.child->state.status);
      entry["due"] = DayJson(c.promised_due);
      entry["due_provisional"] = c.promised_due_provisional;
      // The part's history is not read here: a correction's text is the bundle's combined notice.
      entry["reason"] = ReasonJson(ProgressReasonOf(*part.child, {}));
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
          {"time_zone", bundle.bundle->calendar->time_zone()},
          {"status", bundle.state.Status()},
          {"status_title", StatusTitle(bundle.state.Status())},
          {"outcome", bundle.state.Outcome()},
          {"due", DayJson(bundle.promised_due)},
          {"due_provisional", bundle.promised_due_provisional},
          {"light", LightName(bundle.light)},
          {"missing", missing},
          {"parts", parts}};
}

}  // namespace tongban::api
