#include "engine/snapshot_codec.h"

#include "engine/clock.h"
#include "engine/event.h"
#include "engine/json_writer.h"

#include <charconv>
#include <map>

namespace tongban {

namespace {

using nlohmann::json;

int64_t Ms(Instant t) {
  return t.time_since_epoch().count();
}
json OptionalMs(const std::optional<Instant>& t) {
  return t ? json(Ms(*t)) : json(nullptr);
}
Instant FromMs(const json& j) {
  return Instant(std::chrono::milliseconds(j.get<int64_t>()));
}

Verification ParseVerification(const std::string& v) {
  return v == "pending"    ? Verification::kPending
         : v == "passed"   ? Verification::kPassed
         : v == "breached" ? Verification::kBreached
                           : Verification::kNone;
}

Result<json> Parse(std::string_view text, const char* kind) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::DataLoss(std::string("the stored ") + kind + " snapshot is not a JSON object");
  }
  auto it = j.find("format");
  if (it != j.end() && !it->is_number_integer()) {
    return Status::DataLoss(std::string("the stored ") + kind + " snapshot has a malformed format");
  }
  int format = it != j.end() ? it->get<int>() : 0;
  if (format > kSnapshotFormat) {
    return Status::DataLoss(std::string("the stored ") + kind + " snapshot is of format " +
                            std::to_string(format) + ", newer than this build reads (" +
                            std::to_string(kSnapshotFormat) + ")");
  }
  return j;
}

// Instants: RFC 3339 text in format 0, integer milliseconds from format 1 on.
struct TimeReader {
  int format;
  Instant operator()(const json& t) const {
    return format == 0 ? ParseTimestamp(t.get<std::string>()).value_or(Instant{}) : FromMs(t);
  }
  std::optional<Instant> Optional(const json& t) const {
    if (t.is_null()) return std::nullopt;
    return (*this)(t);
  }
};

// A case's state in either format: format 1 keeps format 0's layout (CaseStateToJson's as it was
// when this codec was written) with instants as integer milliseconds.
Result<CaseState> DecodeCase(const json& j, int format, const Item& item) {
  const TimeReader time{format};
  try {
    if (format > 0 && j.at("kind") != "case") {
      return Status::DataLoss("the stored snapshot is not a case's");
    }
    CaseState s;
    s.id = j.at("id").get<std::string>();
    s.number = j.at("number").get<std::string>();
    s.query_code = j.at("query_code").get<std::string>();
    s.definition_id = j.at("definition").at("id").get<std::string>();
    s.definition_version = j.at("definition").at("version").get<int>();
    s.organ_id = j.at("organ").get<std::string>();
    const json& reception = j.at("reception");
    s.received_by = reception.at("received_by").get<std::string>();
    s.reception_agreement = reception.at("agreement").get<std::string>();
    s.transferred_at = time.Optional(reception.at("transferred_at"));
    const json& bundle = j.at("bundle");
    s.bundle_case_id = bundle.at("case").get<std::string>();
    s.bundle_number = bundle.at("number").get<std::string>();
    s.bundle_part = bundle.at("part").get<std::string>();
    if (const json& c = j.at("commitment"); !c.is_null()) {
      s.commitment = CommitmentRecord{
          c.at("template_id").get<std::string>(), c.at("template_version").get<int>(),
          c.at("content_hash").get<std::string>(), c.at("signed_by").get<std::string>(),
          time(c.at("signed_at"))};
    }
    s.applicant_id = j.at("applicant").at("id").get<std::string>();
    s.applicant_name = j.at("applicant").at("name").get<std::string>();
    s.applicant_credit_code = j.at("applicant").at("credit_code").get<std::string>();
    s.mode = j.at("mode").get<std::string>();
    s.form = j.at("form");
    s.materials = j.at("materials").get<std::set<std::string>>();
    auto status = ParseCaseStatus(j.at("status").get<std::string>());
    if (!status) return Status::DataLoss("the stored case snapshot has an unknown status");
    s.status = *status;
    if (const json& step = j.at("step"); !step.is_null()) {
      auto index = item.StepIndex(step.get<std::string>());
      if (!index) return Status::DataLoss("the stored case snapshot names an unknown step");
      s.step = *index;
    }
    s.created_at = time(j.at("created_at"));
    s.received_at = time(j.at("received_at"));
    s.updated_at = time(j.at("updated_at"));
    s.correction_issued = j.at("correction_issued").get<bool>();
    s.missing_materials = j.at("missing_materials").get<std::vector<std::string>>();
    s.accepted_at = time.Optional(j.at("accepted_at"));
    s.deemed_accepted = j.at("deemed_accepted").get<bool>();
    s.suspended = j.at("suspended").get<bool>();
    for (const json& p : j.at("pauses")) {
      s.pauses.push_back(
          {time(p.at("start")), time.Optional(p.at("end")), p.at("reason").get<std::string>()});
    }
    s.extended = j.at("extended").get<bool>();
    s.extension_days = j.at("extension_days").get<int>();
    s.step_entered_at = time.Optional(j.at("step_entered_at"));
    s.step_actors = j.at("step_actors").get<std::map<std::string, std::string>>();
    s.joint_passed = j.at("joint_passed").get<std::map<std::string, std::string>>();
    if (const json& d = j.at("decision"); !d.is_null()) {
      s.decision = d.get<std::string>() == "approve" ? Decision::kApprove : Decision::kDeny;
    }
    s.decided_at = time.Optional(j.at("decided_at"));
    s.decision_reason = j.at("decision_reason").get<std::string>();
    s.delivered_at = time.Optional(j.at("delivered_at"));
    s.overdue_recorded = j.at("overdue_recorded").get<bool>();
    const json& issued = j.at("issued_in");
    s.issued_in_name = issued.at("name").get<std::string>();
    s.issued_in_seal = issued.at("seal").get<std::string>();
    s.issued_under_delegation = issued.at("delegation").get<std::string>();
    const json& verification = j.at("verification");
    s.verification = ParseVerification(verification.at("status").get<std::string>());
    s.verified_at = time.Optional(verification.at("verified_at"));
    s.verified_by = verification.at("verified_by").get<std::string>();
    s.verification_findings = verification.at("findings").get<std::string>();
    s.verification_overdue_recorded = verification.at("overdue_recorded").get<bool>();
    s.version = j.at("version").get<int64_t>();
    s.last_hash = j.at("last_hash").get<std::string>();
    // Written only when set (so that older snapshots re-encode to their own bytes).
    s.channel = j.value("channel", "");
    s.visits = j.value("visits", 0);
    s.handled_by = j.value("handled_by", "");
    if (auto rating = j.find("rating"); rating != j.end() && !rating->is_null()) {
      RatingRecord r;
      r.score = rating->at("score").get<int>();
      r.comment = rating->at("comment").get<std::string>();
      r.rated_at = time(rating->at("rated_at"));
      r.rated_by = rating->at("rated_by").get<std::string>();
      const json& due = rating->at("rectification_due");
      if (!due.is_null()) {
        auto day = ParseIsoDay(due.get<std::string>());
        if (!day) return Status::DataLoss("malformed case snapshot: rating.rectification_due");
        r.rectification_due = *day;
      }
      r.answered_at = time.Optional(rating->at("answered_at"));
      r.answered_by = rating->at("answered_by").get<std::string>();
      r.answer = rating->at("answer").get<std::string>();
      r.overdue_recorded = rating->at("overdue_recorded").get<bool>();
      s.rating = std::move(r);
    }
    return s;
  } catch (const std::exception& e) {
    return Status::DataLoss(std::string("malformed case snapshot: ") + e.what());
  }
}

// A bundle's state in either format: format 1 keeps format 0's layout (BundleStateToJson's, less
// the derived status and outcome) with instants as integer milliseconds.
Result<BundleState> DecodeBundle(const json& j, int format) {
  const TimeReader time{format};
  try {
    if (j.value("kind", "") != "bundle")
      return Status::DataLoss("the stored snapshot is not a bundle's");
    BundleState s;
    s.id = j.at("id").get<std::string>();
    s.number = j.at("number").get<std::string>();
    s.query_code = j.at("query_code").get<std::string>();
    s.definition_id = j.at("definition").at("id").get<std::string>();
    s.definition_version = j.at("definition").at("version").get<int>();
    s.organ_id = j.at("organ").get<std::string>();
    s.applicant_id = j.at("applicant").at("id").get<std::string>();
    s.applicant_name = j.at("applicant").at("name").get<std::string>();
    s.applicant_credit_code = j.at("applicant").at("credit_code").get<std::string>();
    s.form = j.at("form");
    s.materials = j.at("materials").get<std::vector<std::string>>();
    for (const json& p : j.at("parts")) {
      BundlePartState part;
      part.part = p.at("part").get<std::string>();
      part.item_id = p.at("item").at("id").get<std::string>();
      part.item_version = p.at("item").at("version").get<int>();
      part.applies = p.at("applies").get<bool>();
      part.status = p.at("status").get<std::string>();
      part.case_id = p.at("case_id").get<std::string>();
      part.case_number = p.at("case_number").get<std::string>();
      part.decision = p.at("decision").get<std::string>();
      part.missing_materials = p.at("missing_materials").get<std::vector<std::string>>();
      part.note = p.at("note").get<std::string>();
      s.parts.push_back(std::move(part));
    }
    s.created_at = time(j.at("created_at"));
    s.updated_at = time(j.at("updated_at"));
    s.delivered_at = time.Optional(j.at("delivered_at"));
    s.withdrawn_at = time.Optional(j.at("withdrawn_at"));
    s.version = j.at("version").get<int64_t>();
    s.last_hash = j.at("last_hash").get<std::string>();
    return s;
  } catch (const std::exception& e) {
    return Status::DataLoss(std::string("malformed bundle snapshot: ") + e.what());
  }
}

}  // namespace

int SnapshotFormatOf(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return -1;
  auto it = j.find("format");
  return it != j.end() && it->is_number_integer() ? it->get<int>() : 0;
}

namespace {

// The stored snapshot's writer: instants as integer milliseconds.
class ObjectWriter : public JsonObjectWriter {
 public:
  using JsonObjectWriter::JsonObjectWriter;
  void Time(std::string_view key, Instant t) { Int(key, Ms(t)); }
  void Time(std::string_view key, const std::optional<Instant>& t) {
    if (t) {
      Time(key, *t);
    } else {
      Null(key);
    }
  }
};

}  // namespace

std::string EncodeCaseSnapshot(const CaseState& s, const Item& item) {
  // Written directly (members in sorted key order) rather than through a json tree: this runs on
  // every commit and for every case verified, and the bytes are those of CanonicalJson.
  std::string out;
  out.reserve(1024);
  {
    ObjectWriter j(&out);
    j.Time("accepted_at", s.accepted_at);
    {
      ObjectWriter applicant(j.Key("applicant"));
      applicant.String("credit_code", s.applicant_credit_code);
      applicant.String("id", s.applicant_id);
      applicant.String("name", s.applicant_name);
    }
    {
      ObjectWriter bundle(j.Key("bundle"));
      bundle.String("case", s.bundle_case_id);
      bundle.String("number", s.bundle_number);
      bundle.String("part", s.bundle_part);
    }
    if (!s.channel.empty()) j.String("channel", s.channel);
    if (s.commitment) {
      ObjectWriter c(j.Key("commitment"));
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
      ObjectWriter definition(j.Key("definition"));
      definition.String("id", s.definition_id);
      definition.Int("version", s.definition_version);
    }
    j.Time("delivered_at", s.delivered_at);
    j.Bool("extended", s.extended);
    j.Int("extension_days", s.extension_days);
    j.Json("form", s.form);
    j.Int("format", kSnapshotFormat);
    if (!s.handled_by.empty()) j.String("handled_by", s.handled_by);
    j.String("id", s.id);
    {
      ObjectWriter issued(j.Key("issued_in"));
      issued.String("delegation", s.issued_under_delegation);
      issued.String("name", s.issued_in_name);
      issued.String("seal", s.issued_in_seal);
    }
    j.StringMap("joint_passed", s.joint_passed);
    j.String("kind", "case");
    j.String("last_hash", s.last_hash);
    j.StringArray("materials", s.materials);
    j.StringArray("missing_materials", s.missing_materials);
    j.String("mode", s.mode);
    j.String("number", s.number);
    j.String("organ", s.organ_id);
    j.Bool("overdue_recorded", s.overdue_recorded);
    {
      std::string* pauses = j.Key("pauses");
      pauses->push_back('[');
      bool first = true;
      for (const PauseInterval& p : s.pauses) {
        if (!first) pauses->push_back(',');
        first = false;
        ObjectWriter pause(pauses);
        pause.Time("end", p.end);
        pause.String("reason", p.reason);
        pause.Time("start", p.start);
      }
      pauses->push_back(']');
    }
    j.String("query_code", s.query_code);
    // Written only when set (so that older snapshots re-encode to their own bytes).
    if (s.rating) {
      const RatingRecord& r = *s.rating;
      ObjectWriter rating(j.Key("rating"));
      rating.String("answer", r.answer);
      rating.Time("answered_at", r.answered_at);
      rating.String("answered_by", r.answered_by);
      rating.String("comment", r.comment);
      rating.Bool("overdue_recorded", r.overdue_recorded);
      rating.Time("rated_at", r.rated_at);
      rating.String("rated_by", r.rated_by);
      if (r.rectification_due) {
        rating.String("rectification_due", FormatIsoDay(*r.rectification_due));
      } else {
        rating.Null("rectification_due");
      }
      rating.Int("score", r.score);
    }
    j.Time("received_at", s.received_at);
    {
      ObjectWriter reception(j.Key("reception"));
      reception.String("agreement", s.reception_agreement);
      reception.String("received_by", s.received_by);
      reception.Time("transferred_at", s.transferred_at);
    }
    j.String("status", CaseStatusCode(s.status));
    if (s.step && *s.step < item.steps.size()) {
      j.String("step", item.steps[*s.step].id);
    } else {
      j.Null("step");
    }
    j.StringMap("step_actors", s.step_actors);
    j.Time("step_entered_at", s.step_entered_at);
    j.Bool("suspended", s.suspended);
    j.Time("updated_at", s.updated_at);
    {
      ObjectWriter verification(j.Key("verification"));
      verification.String("findings", s.verification_findings);
      verification.Bool("overdue_recorded", s.verification_overdue_recorded);
      verification.String("status", VerificationName(s.verification));
      verification.Time("verified_at", s.verified_at);
      verification.String("verified_by", s.verified_by);
    }
    j.Int("version", s.version);
    if (s.visits != 0) j.Int("visits", s.visits);
  }
  return out;
}

Result<CaseState> DecodeCaseSnapshot(std::string_view text, const Item& item) {
  auto parsed = Parse(text, "case");
  if (!parsed.ok()) return parsed.status();
  return DecodeCase(*parsed, parsed->value("format", 0), item);
}

std::string EncodeBundleSnapshot(const BundleState& s) {
  json parts = json::array();
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
  json j = {{"format", kSnapshotFormat},
            {"kind", "bundle"},
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
            {"parts", parts},
            {"created_at", Ms(s.created_at)},
            {"updated_at", Ms(s.updated_at)},
            {"delivered_at", OptionalMs(s.delivered_at)},
            {"withdrawn_at", OptionalMs(s.withdrawn_at)},
            {"version", s.version},
            {"last_hash", s.last_hash}};
  return CanonicalJson(j);
}

Result<BundleState> DecodeBundleSnapshot(std::string_view text) {
  auto parsed = Parse(text, "bundle");
  if (!parsed.ok()) return parsed.status();
  return DecodeBundle(*parsed, parsed->value("format", 0));
}

}  // namespace tongban
