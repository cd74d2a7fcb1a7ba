#include "api/case_views.h"

#include <algorithm>
#include <optional>

#include "engine/case_clock.h"
#include "engine/json_writer.h"
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

namespace {

// The API's writer: instants as RFC 3339 text, days as ISO dates.
class ViewWriter : public JsonObjectWriter {
 public:
  using JsonObjectWriter::JsonObjectWriter;
  void Time(std::string_view key, const std::optional<Instant>& t) {
    if (t) {
      String(key, FormatTimestamp(*t));
    } else {
      Null(key);
    }
  }
  void IsoDay(std::string_view key, const std::optional<tongban::Day>& d) {
    if (d) {
      String(key, FormatIsoDay(*d));
    } else {
      Null(key);
    }
  }
};

// ClockToJson's members, in its key order.
void WriteClock(std::string* out, const ClockView& c) {
  ViewWriter j(out);
  j.IsoDay("acceptance_deadline", c.acceptance_deadline);
  if (c.delivery_due) {
    ViewWriter delivery(j.Key("delivery"));
    delivery.Int("days_left", c.delivery_days_left);
    delivery.Bool("delivered", c.delivered_at.has_value());
    delivery.String("due", FormatIsoDay(*c.delivery_due));
    delivery.Bool("due_provisional", c.delivery_due_provisional);
    delivery.String("light", LightName(c.delivery_light));
    delivery.Bool("overdue", c.delivery_overdue);
  } else {
    j.Null("delivery");
  }
  j.Int("extension_days", c.extension_days);
  j.String("light", LightName(c.light));
  j.Bool("paused", c.paused);
  j.Int("paused_working_days", c.paused_working_days);
  j.Int("promised_days_left", c.promised_days_left);
  j.IsoDay("promised_due", c.promised_due);
  j.String("promised_unit", DayUnitName(c.promised_unit));
  j.Bool("provisional", c.provisional);
  if (c.rectification) {
    ViewWriter r(j.Key("rectification"));
    r.Bool("answered", c.rectification->answered);
    r.Int("days_left", c.rectification->days_left);
    r.String("due", FormatIsoDay(c.rectification->due));
    r.String("light", LightName(c.rectification->light));
    r.Int("limit_days", c.rectification->limit_days);
    r.Bool("overdue", c.rectification->overdue);
  } else {
    j.Null("rectification");
  }
  j.Bool("started", c.started);
  j.Int("statutory_days_left", c.statutory_days_left);
  j.IsoDay("statutory_due", c.statutory_due);
  j.String("statutory_unit", DayUnitName(c.statutory_unit));
  if (c.step) {
    ViewWriter step(j.Key("step"));
    step.Int("days_left", c.step->days_left);
    step.String("due", FormatIsoDay(c.step->due));
    step.String("id", c.step->step_id);
    step.String("light", LightName(c.step->light));
    step.Int("limit_days", c.step->limit_days);
    step.String("unit", DayUnitName(c.step->unit));
  } else {
    j.Null("step");
  }
  j.Bool("stopped", c.stopped);
  if (c.verification_due) {
    ViewWriter verification(j.Key("verification"));
    verification.Int("days_left", c.verification_days_left);
    verification.String("due", FormatIsoDay(*c.verification_due));
    verification.Bool("overdue", c.verification_overdue);
  } else {
    j.Null("verification");
  }
  j.Int("working_days_used", c.working_days_used);
}

}  // namespace

std::string CaseJsonText(const CaseView& v, const Principal& p,
                         const std::vector<OfferedAction>& offered) {
  // The members of CaseJson (CaseStateToJson, CaseViewToJson's clock and as_of, and what CaseJson
  // adds and removes) in sorted key order; case_views_test compares the bytes with Dump(CaseJson).
  const CaseState& s = v.state;
  const bool officials = Permissions::MaySeeOfficials(p);
  std::string out;
  out.reserve(2048);
  {
    ViewWriter j(&out);
    j.Time("accepted_at", s.accepted_at);
    {
      ViewWriter applicant(j.Key("applicant"));
      applicant.String("credit_code", s.applicant_credit_code);
      applicant.String("id", s.applicant_id);
      applicant.String("name", s.applicant_name);
    }
    j.String("as_of", FormatTimestamp(v.as_of));
    {
      std::string* actions = j.Key("available_actions");
      actions->push_back('[');
      for (size_t i = 0; i < offered.size(); ++i) {
        if (i > 0) actions->push_back(',');
        AppendCanonicalJson(actions, OfferedActionToJson(offered[i]));
      }
      actions->push_back(']');
    }
    {
      ViewWriter bundle(j.Key("bundle"));
      bundle.String("case", s.bundle_case_id);
      bundle.String("number", s.bundle_number);
      bundle.String("part", s.bundle_part);
    }
    WriteClock(j.Key("clock"), v.clock);
    if (s.commitment) {
      ViewWriter c(j.Key("commitment"));
      c.String("content_hash", s.commitment->content_hash);
      c.Time("signed_at", s.commitment->signed_at);
      c.String("signed_by", s.commitment->signed_by);
      c.String("template_id", s.commitment->template_id);
      c.Int("template_version", s.commitment->template_version);
    } else {
      j.Null("commitment");
    }
    j.Bool("correction_issued", s.correction_issued);
    j.Time("created_at", s.created_at);
    j.Time("decided_at", s.decided_at);
    if (s.decision) {
      j.String("decision", DecisionName(*s.decision));
    } else {
      j.Null("decision");
    }
    j.String("decision_reason", s.decision_reason);
    j.Bool("deemed_accepted", s.deemed_accepted);
    {
      ViewWriter definition(j.Key("definition"));
      definition.String("id", s.definition_id);
      definition.String("title", v.item->title);
      definition.Int("version", s.definition_version);
    }
    j.Time("delivered_at", s.delivered_at);
    j.Bool("extended", s.extended);
    j.Int("extension_days", s.extension_days);
    j.Json("form", s.form);
    j.String("id", s.id);
    {
      ViewWriter issued(j.Key("issued_in"));
      issued.String("delegation", s.issued_under_delegation);
      issued.String("name", s.issued_in_name);
      issued.String("seal", s.issued_in_seal);
    }
    // Applicants see what happens to their case, not which official did it.
    if (officials) j.StringMap("joint_passed", s.joint_passed);
    j.StringArray("materials", s.materials);
    j.StringArray("missing_materials", s.missing_materials);
    j.String("mode", s.mode);
    j.String("number", s.number);
    j.String("organ", s.organ_id);
    j.Bool("overdue_recorded", s.overdue_recorded);
    {
      std::string* pauses = j.Key("pauses");
      pauses->push_back('[');
      for (size_t i = 0; i < s.pauses.size(); ++i) {
        if (i > 0) pauses->push_back(',');
        ViewWriter pause(pauses);
        pause.Time("end", s.pauses[i].end);
        pause.String("reason", s.pauses[i].reason);
        pause.Time("start", s.pauses[i].start);
      }
      pauses->push_back(']');
    }
    j.String("query_code", s.query_code);
    if (s.rating) {
      const RatingRecord& r = *s.rating;
      ViewWriter rating(j.Key("rating"));
      rating.String("comment", r.comment);
      rating.Time("rated_at", r.rated_at);
      rating.String("rated_by", r.rated_by);
      if (r.rectification_due) {
        ViewWriter rectification(rating.Key("rectification"));
        rectification.String("answer", r.answer);
        rectification.Time("answered_at", r.answered_at);
        rectification.String("due", FormatIsoDay(*r.rectification_due));
        rectification.Bool("overdue_recorded", r.overdue_recorded);
      } else {
        rating.Null("rectification");
      }
      rating.Int("score", r.score);
    } else {
      j.Null("rating");
    }
    j.Time("received_at", s.received_at);
    {
      ViewWriter reception(j.Key("reception"));
      reception.String("agreement", s.reception_agreement);
      reception.String("received_by", s.received_by);
      reception.Time("transferred_at", s.transferred_at);
    }
    j.String("status", CaseStatusCode(s.status));
    const bool has_step = s.step && *s.step < v.item->steps.size();
    if (has_step) {
      j.String("step", v.item->steps[*s.step].id);
    } else {
      j.Null("step");
    }
    if (officials) j.StringMap("step_actors", s.step_actors);
    j.Time("step_entered_at", s.step_entered_at);
    if (v.step_id.empty()) {
      j.Null("step_title");
    } else {
      j.String("step_title", v.item->FindStep(v.step_id)->title);
    }
    j.Bool("suspended", s.suspended);
    j.Time("updated_at", s.updated_at);
    {
      ViewWriter verification(j.Key("verification"));
      verification.String("findings", s.verification_findings);
      verification.Bool("overdue_recorded", s.verification_overdue_recorded);
      verification.String("status", VerificationName(s.verification));
      verification.Time("verified_at", s.verified_at);
      verification.String("verified_by", s.verified_by);
    }
    j.Int("version", s.version);
  }
  return out;
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

// 送达 (art. 44): once granted, when the certificate is due and whether it came (or is) late.
nlohmann::json DeliveryJson(const ClockView& c) {
  if (!c.delivery_due) return nullptr;
  return {{"due", DueDateJson(c.delivery_due, c.delivery_due_provisional)},
          {"delivered_at", TimeOrNull(c.delivered_at)},
          {"days_left", c.delivery_days_left},
          {"overdue", c.delivery_overdue},
          {"light", LightName(c.delivery_light)}};
}

nlohmann::json WorkingDaysJson(const ClockView& c) {
  if (!c.started) return nullptr;
  // "left"/"limit" are in the promise's unit, "statutory_*" in the statute's; "used" and "paused"
  // are working days.
  return {{"unit", DayUnitName(c.promised_unit)},
          {"statutory_unit", DayUnitName(c.statutory_unit)},
          {"used", c.working_days_used},
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
             DueDateJson(c.acceptance_deadline, c.acceptance_deadline_provisional)},
            {"delivery", DueDateJson(c.delivery_due, c.delivery_due_provisional)}}},
          {"provisional", c.provisional},
          {"working_days", WorkingDaysJson(c)},
          {"delivery", DeliveryJson(c)},
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

nlohmann::json BundleTrackingJson(const BundleView& bundle,
                                  const std::vector<std::optional<ProgressReason>>& part_reasons) {
  nlohmann::json parts = nlohmann::json::array();
  for (size_t i = 0; i < bundle.parts.size(); ++i) {
    const BundlePartView& part = bundle.parts[i];
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
      entry["reason"] = ReasonJson(i < part_reasons.size() ? part_reasons[i] : std::nullopt);
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
  nlohmann::json stages = nlohmann::json::array();
  for (const BundleStageClock& stage : bundle.stages) {
    stages.push_back({{"id", stage.id},
                      {"title", stage.title},
                      {"due", DueDateJson(stage.due, stage.due_provisional)},
                      {"days_left", stage.started ? nlohmann::json(stage.days_left) : nullptr},
                      {"unit", DayUnitName(stage.unit)},
                      {"light", LightName(stage.light)}});
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
          {"stages", stages},
          {"provisional", bundle.provisional},
          {"light", LightName(bundle.light)},
          {"missing", missing},
          {"parts", parts}};
}

}  // namespace tongban::api
