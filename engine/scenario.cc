#include "engine/scenario.h"

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>

#include "engine/case_service.h"
#include "engine/sqlite_store.h"
#include "workflows/json_document.h"
#include "workflows/schema_reader.h"

namespace tongban {

namespace {

const std::vector<std::string> kExpectKeys = {"status",
                                              "step",
                                              "light",
                                              "statutory_due",
                                              "promised_due",
                                              "acceptance_deadline",
                                              "paused",
                                              "extended",
                                              "working_days_used",
                                              "statutory_days_left",
                                              "promised_days_left",
                                              "provisional",
                                              "deemed_accepted",
                                              "decision",
                                              "missing_materials",
                                              "step_due",
                                              "step_light",
                                              "step_days_left",
                                              "version",
                                              "events",
                                              "last_action",
                                              "verify",
                                              "mode",
                                              "overdue_recorded",
                                              "verification",
                                              "verification_due",
                                              "issued_in_name",
                                              "issued_in_seal",
                                              "received_by",
                                              "blocking_credit_records",
                                              "delivery_due",
                                              "delivery_days_left",
                                              "delivery_overdue",
                                              "delivery_light"};
// On a bundle case (a step without "part" in a bundle scenario).
const std::vector<std::string> kBundleExpectKeys = {
    "status", "outcome",     "parts",  "correction", "promised_due", "light",
    "events", "last_action", "verify", "stages",     "provisional"};

std::string Dump(const nlohmann::json& j) {
  return j.dump();
}

// The value a scenario may expect for `key`, read off the case view and its history.
nlohmann::json Observe(const std::string& key, const CaseView& v, const std::vector<Event>& events,
                       CaseService& service) {
  auto day = [](const std::optional<Day>& d) {
    return d ? nlohmann::json(FormatIsoDay(*d)) : nlohmann::json(nullptr);
  };
  if (key == "status") return CaseStatusCode(v.state.status);
  if (key == "step") return v.step_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(v.step_id);
  if (key == "light") return LightName(v.clock.light);
  if (key == "statutory_due") return day(v.clock.statutory_due);
  if (key == "promised_due") return day(v.clock.promised_due);
  if (key == "acceptance_deadline") return day(v.clock.acceptance_deadline);
  if (key == "paused") return v.clock.paused;
  if (key == "extended") return v.state.extended;
  if (key == "working_days_used") return v.clock.working_days_used;
  if (key == "statutory_days_left") return v.clock.statutory_days_left;
  if (key == "promised_days_left") return v.clock.promised_days_left;
  if (key == "provisional") return v.clock.provisional;
  if (key == "deemed_accepted") return v.state.deemed_accepted;
  if (key == "decision") {
    return v.state.decision ? nlohmann::json(DecisionName(*v.state.decision))
                            : nlohmann::json(nullptr);
  }
  if (key == "missing_materials") return v.state.missing_materials;
  if (key == "step_due") {
    return v.clock.step ? nlohmann::json(FormatIsoDay(v.clock.step->due)) : nlohmann::json(nullptr);
  }
  if (key == "step_light") {
    return v.clock.step ? nlohmann::json(LightName(v.clock.step->light)) : nlohmann::json(nullptr);
  }
  if (key == "step_days_left") {
    return v.clock.step ? nlohmann::json(v.clock.step->days_left) : nlohmann::json(nullptr);
  }
  if (key == "version") return v.state.version;
  if (key == "events") return events.size();
  if (key == "last_action") return events.empty() ? "" : events.back().action;
  if (key == "verify") return service.Verify(v.state.id).ok;
  if (key == "mode") return v.state.mode;
  if (key == "overdue_recorded") return v.state.overdue_recorded;
  if (key == "verification") return VerificationName(v.state.verification);
  if (key == "verification_due") return day(v.clock.verification_due);
  if (key == "delivery_due") return day(v.clock.delivery_due);
  if (key == "delivery_days_left") {
    return v.clock.delivery_due ? nlohmann::json(v.clock.delivery_days_left)
                                : nlohmann::json(nullptr);
  }
  if (key == "delivery_overdue") return v.clock.delivery_overdue;
  if (key == "delivery_light") {
    return v.clock.delivery_due ? nlohmann::json(LightName(v.clock.delivery_light))
                                : nlohmann::json(nullptr);
  }
  if (key == "issued_in_name") return v.state.issued_in_name;
  if (key == "issued_in_seal") return v.state.issued_in_seal;
  if (key == "received_by") return v.state.received_by;
  if (key == "blocking_credit_records") {
    auto blocking = service.registers()->BlockingCreditRecords(v.state.applicant_credit_code,
                                                               v.state.applicant_id);
    return blocking.ok() ? nlohmann::json(blocking->size()) : nlohmann::json(nullptr);
  }
  return nullptr;
}

nlohmann::json ObserveBundle(const std::string& key, const BundleView& v,
                             const std::vector<Event>& events, CaseService& service) {
  if (key == "status") return v.state.Status();
  if (key == "outcome") return v.state.Outcome();
  if (key == "parts") {
    nlohmann::json parts = nlohmann::json::object();
    for (const BundlePartView& p : v.parts) {
      parts[p.state.part] =
          p.child ? std::string(CaseStatusCode(p.child->state.status)) : p.state.status;
    }
    return parts;
  }
  if (key == "correction") return v.correction;
  if (key == "promised_due") {
    return v.promised_due ? nlohmann::json(FormatIsoDay(*v.promised_due)) : nlohmann::json(nullptr);
  }
  if (key == "light") return LightName(v.light);
  if (key == "provisional") return v.provisional;
  if (key == "stages") {
    // stage id → {due, light}: what a page shows of each stage's promise.
    nlohmann::json stages = nlohmann::json::object();
    for (const BundleStageClock& stage : v.stages) {
      stages[stage.id] = {
          {"due", stage.due ? nlohmann::json(FormatIsoDay(*stage.due)) : nlohmann::json(nullptr)},
          {"light", LightName(stage.light)}};
    }
    return stages;
  }
  if (key == "events") return events.size();
  if (key == "last_action") return events.empty() ? "" : events.back().action;
  if (key == "verify") return service.Verify(v.state.id).ok;
  return nullptr;
}

// The keys of each object of a scenario file (tests/scenarios/README.md); anything else is a typo
// that would otherwise be ignored and let the scenario pass without checking what it meant to.
const std::vector<std::string> kScenarioKeys = {"name",  "definition", "description", "start",
                                                "item",  "version",    "bundle",      "with",
                                                "apply", "steps"};
const std::vector<std::string> kApplyKeys = {
    "as",   "actor",     "organ", "applicant",  "applicant_name", "credit_code",
    "form", "materials", "mode",  "commitment", "expect"};
const std::vector<std::string> kStepKeys = {
    "at",    "advance",        "do",     "as",   "actor",     "organ",  "data",
    "error", "error_contains", "expect", "part", "registers", "reapply"};
const std::vector<std::string> kRegistersKeys = {"revoke_delegation", "repair_credit",
                                                 "grant_mandate", "reason"};
const std::vector<std::string> kMandateKeys = {"id", "agent", "definitions"};

// 9999-12-31T23:59:59.999Z: the last instant a timestamp (a four-digit year) can name.
constexpr Instant kLatestInstant{std::chrono::milliseconds(253402300799999)};

// What one unit of each `advance` key is worth in minutes. A working day counts as 7/5 of a day
// (five in a week) for the bound only; holidays make the real move a little longer.
struct AdvanceUnit {
  const char* key;
  int64_t minutes;
};
constexpr AdvanceUnit kAdvanceUnits[] = {
    {"days", 24 * 60}, {"hours", 60}, {"minutes", 1}, {"working_days", 24 * 60 * 7 / 5}};

// The codes a step may expect in "error": the names of the engine's status codes, except ok.
std::vector<std::string> ErrorCodes() {
  std::vector<std::string> codes;
  for (StatusCode code :
       {StatusCode::kInvalidArgument, StatusCode::kNotFound, StatusCode::kAlreadyExists,
        StatusCode::kFailedPrecondition, StatusCode::kPermissionDenied, StatusCode::kAborted,
        StatusCode::kUnavailable, StatusCode::kDataLoss, StatusCode::kInternal}) {
    codes.push_back(StatusCodeName(code));
  }
  return codes;
}

void CheckTimestamp(ObjectReader& r, const std::string& key, bool required, DiagnosticSink* sink) {
  std::optional<std::string> text = r.String(key, required);
  // An empty required string is already reported as empty.
  if (!text || (required && text->empty()) || ParseTimestamp(*text)) return;
  sink->Error(r.PointerOf(key), "bad-timestamp",
              "\"" + key + "\" must be a timestamp like 2026-03-02T09:00:00+08:00, found \"" +
                  *text + "\"");
}

void CheckStringArray(ObjectReader& r, const std::string& key, DiagnosticSink* sink) {
  const nlohmann::json* list = r.Array(key, false);
  if (list == nullptr) return;
  for (size_t i = 0; i < list->size(); ++i) {
    if ((*list)[i].is_string()) continue;
    sink->Error(JoinJsonPointer(r.PointerOf(key), i), "wrong-type",
                "each of \"" + key + "\" must be a string, found " + JsonTypeName((*list)[i]));
  }
}

// "organ" is read only for a person of an organ: for the applicant or an agent it would be ignored.
void CheckOrgan(ObjectReader& r, DiagnosticSink* sink) {
  std::optional<std::string> role = r.String("as", false);
  r.String("actor", false);
  r.String("organ", false);
  const std::string who = role.value_or("applicant");
  if (r.Has("organ") && (who == "applicant" || who == "agent")) {
    sink->Error(r.PointerOf("organ"), "unused-key",
                "\"organ\" is for a person of an organ; the " + who + " acts without one");
  }
}

void CheckApply(const nlohmann::json& value, const std::string& pointer, bool reapply,
                DiagnosticSink* sink) {
  std::vector<std::string> keys = kApplyKeys;
  // Applying again is checked by its outcome ("error"), not by expectations of its own.
  if (reapply) keys.erase(std::find(keys.begin(), keys.end(), "expect"));
  ObjectReader r(value, pointer, sink, keys);
  if (!r.valid()) return;
  CheckOrgan(r, sink);
  for (const char* key : {"applicant", "applicant_name", "credit_code", "mode"})
    r.String(key, false);
  r.Object("form", false);
  // The materials' ids are the engine's to check, like the form's fields: a scenario may show a
  // wrong one refused.
  r.Array("materials", false);
  r.Object("commitment", false);
  r.Object("expect", false);
}

void CheckAdvance(const nlohmann::json& value, const std::string& pointer, DiagnosticSink* sink) {
  ObjectReader r(value, pointer, sink, {"days", "hours", "minutes", "working_days"});
  if (!r.valid()) return;
  const int64_t limit = kMaxAdvanceDays * 24 * 60;
  int64_t total = 0;
  bool complete = true;
  for (const AdvanceUnit& unit : kAdvanceUnits) {
    if (!r.Has(unit.key)) continue;
    std::optional<int64_t> n = r.Integer(unit.key, false, 0, limit / unit.minutes);
    if (!n) {
      complete = false;
      continue;
    }
    total += *n * unit.minutes;
  }
  if (complete && total > limit) {
    sink->Error(pointer, "out-of-range",
                "one step moves the clock by at most " + std::to_string(kMaxAdvanceDays) +
                    " days (100 years; a working day counts as 7/5 of a day), found " +
                    std::to_string(total / (24 * 60)) + " days");
  }
}

void CheckRegisters(const nlohmann::json& value, const std::string& pointer, DiagnosticSink* sink) {
  ObjectReader r(value, pointer, sink, kRegistersKeys);
  if (!r.valid()) return;
  r.String("revoke_delegation", false);
  r.String("reason", false);
  if (std::optional<bool> repair = r.Boolean("repair_credit", false); repair && !*repair) {
    sink->Error(r.PointerOf("repair_credit"), "bad-value",
                "\"repair_credit\" must be true (leave the change out to repair nothing)");
  }
  if (const nlohmann::json* grant = r.Object("grant_mandate", false)) {
    ObjectReader m(*grant, r.PointerOf("grant_mandate"), sink, kMandateKeys);
    m.String("id", false);
    m.String("agent", false);
    if (m.valid()) CheckStringArray(m, "definitions", sink);
  }
  int changes = 0;
  for (const char* key : {"revoke_delegation", "repair_credit", "grant_mandate"})
    changes += r.Has(key) ? 1 : 0;
  if (changes != 1) {
    sink->Error(pointer, "bad-value",
                "\"registers\" makes exactly one change: revoke_delegation, repair_credit or "
                "grant_mandate; found " +
                    std::to_string(changes));
  }
}

void CheckStep(const nlohmann::json& step, const std::string& pointer, DiagnosticSink* sink) {
  ObjectReader r(step, pointer, sink, kStepKeys);
  if (!r.valid()) return;
  CheckTimestamp(r, "at", false, sink);
  if (const nlohmann::json* advance = r.Object("advance", false)) {
    CheckAdvance(*advance, r.PointerOf("advance"), sink);
  }
  if (std::optional<std::string> action = r.String("do", false); action && action->empty()) {
    sink->Error(r.PointerOf("do"), "empty-string", "\"do\" must name an action");
  }
  CheckOrgan(r, sink);
  r.String("part", false);
  r.String("error_contains", false);
  r.Enum("error", false, ErrorCodes());
  r.Object("data", false);
  r.Object("expect", false);
  if (const nlohmann::json* again = r.Object("reapply", false)) {
    CheckApply(*again, r.PointerOf("reapply"), /*reapply=*/true, sink);
  }
  if (const nlohmann::json* registers = r.Object("registers", false)) {
    CheckRegisters(*registers, r.PointerOf("registers"), sink);
  }
  // Keys that only mean something beside another would be ignored without it.
  const bool acts = r.Has("do");
  const bool reapplies = r.Has("reapply");
  if (acts && reapplies) {
    sink->Error(r.PointerOf("reapply"), "conflicting-keys",
                "a step takes an action (\"do\") or applies again (\"reapply\"), not both: "
                "\"error\" would be expected of each");
  }
  for (const char* key : {"as", "actor", "organ", "data"}) {
    if (r.Has(key) && !acts) {
      sink->Error(r.PointerOf(key), "unused-key",
                  "\"" + std::string(key) + "\" is for a step that takes an action (\"do\")");
    }
  }
  if (r.Has("error") && !acts && !reapplies) {
    sink->Error(r.PointerOf("error"), "unused-key",
                "\"error\" is for a step with \"do\" or \"reapply\"");
  }
  if (r.Has("error_contains") && !r.Has("error")) {
    sink->Error(r.PointerOf("error_contains"), "unused-key",
                "\"error_contains\" needs \"error\" (the code the refusal must have)");
  }
}

Actor ActorFor(const nlohmann::json& step, const std::string& default_organ,
               const std::string& applicant_id) {
  Actor actor;
  actor.role = step.value("as", "applicant");
  if (actor.role == "applicant") {
    actor.id = step.value("actor", applicant_id);
  } else if (actor.role == "agent") {
    actor.id = step.value("actor", "agent-1");
  } else {
    actor.id = step.value("actor", actor.role + "-1");
    actor.organ = step.value("organ", default_organ);
  }
  actor.name = actor.id;
  return actor;
}

Result<ScenarioResult> Run(const nlohmann::json& scenario, const ScenarioOptions& options);

}  // namespace

void CheckScenario(const nlohmann::json& scenario, DiagnosticSink* sink) {
  ObjectReader r(scenario, "", sink, kScenarioKeys);
  if (!r.valid()) return;
  for (const char* key : {"name", "definition", "description", "item", "bundle"})
    r.String(key, false);
  CheckTimestamp(r, "start", /*required=*/true, sink);
  r.Integer("version", false, 0, std::numeric_limits<int>::max());
  if (r.Has("item") && r.Has("bundle")) {
    sink->Error(r.PointerOf("bundle"), "conflicting-keys",
                "a scenario applies for an item or for a bundle, not both");
  }
  CheckStringArray(r, "with", sink);
  if (const nlohmann::json* apply = r.Object("apply", false)) {
    CheckApply(*apply, r.PointerOf("apply"), /*reapply=*/false, sink);
  }
  if (const nlohmann::json* steps = r.Array("steps", false)) {
    for (size_t i = 0; i < steps->size(); ++i) {
      CheckStep((*steps)[i], JoinJsonPointer(r.PointerOf("steps"), i), sink);
    }
  }
}

Result<ScenarioResult> RunScenario(const nlohmann::json& scenario, const ScenarioOptions& options) {
  DiagnosticSink sink("", nullptr);
  CheckScenario(scenario, &sink);
  if (sink.has_errors()) {
    // Every problem, so that one run shows them all; a caller with the file's text runs
    // CheckScenario itself for their lines.
    constexpr size_t kShown = 20;
    const std::vector<Diagnostic>& all = sink.diagnostics();
    std::string message = "the scenario is malformed: ";
    for (size_t i = 0; i < all.size() && i < kShown; ++i) {
      message += (i == 0 ? "" : "; ") + (all[i].pointer.empty() ? "/" : all[i].pointer) + ": " +
                 all[i].message;
    }
    if (all.size() > kShown) {
      message += "; and " + std::to_string(all.size() - kShown) + " more";
    }
    return Status::InvalidArgument(message);
  }
  // CheckScenario lets through only what Run reads with the right types, so nlohmann does not
  // throw; if a gap in the checks lets it, that is still a malformed scenario, not a crash.
  try {
    return Run(scenario, options);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("the scenario is malformed: ") + e.what());
  }
}

namespace {

Result<ScenarioResult> Run(const nlohmann::json& scenario, const ScenarioOptions& options) {
  if (!scenario.is_object()) return Status::InvalidArgument("a scenario is a JSON object");
  ScenarioResult result;
  result.name = scenario.value("name", "(unnamed)");
  auto start = ParseTimestamp(scenario.value("start", ""));
  if (!start) {
    return Status::InvalidArgument("/start must be a timestamp like 2026-03-02T09:00:00+08:00");
  }
  namespace fs = std::filesystem;
  std::string dir = options.work_dir;
  bool own_dir = dir.empty();
  if (own_dir) {
    std::string pattern = (fs::temp_directory_path() / "tongban-scenario-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) return Status::Unavailable("cannot make a temp dir");
    dir = pattern;
  }
  struct Cleanup {
    std::string dir;
    bool active;
    ~Cleanup() {
      std::error_code e;
      if (active) fs::remove_all(dir, e);
    }
  } cleanup{dir, own_dir};

  SqliteStoreOptions store_options;
  store_options.path = (fs::path(dir) / "scenario.db").string();
  store_options.synchronous = "OFF";  // a scenario's database is thrown away
  auto store = SqliteStore::Open(store_options);
  if (!store.ok()) return store.status();
  DefinitionRegistry registry(store->get());
  SimulatedClock clock(*start);
  auto deployed = registry.Deploy(options.definitions, *start);
  if (!deployed.ok()) {
    std::string message = deployed.status().message();
    // The definitions' fault, not the scenario's: the caller reports it apart.
    return Status::FailedPrecondition("the definitions do not deploy: " + message);
  }
  std::shared_ptr<const Item> item;
  std::shared_ptr<const Bundle> bundle;
  std::string item_id = scenario.value("item", "");
  if (scenario.contains("bundle")) {
    bundle =
        registry.FindBundle(scenario["bundle"].get<std::string>(), scenario.value("version", 0));
    if (!bundle) return Status::InvalidArgument("/bundle is not among the definitions");
  } else if (item_id.empty()) {
    auto items = registry.Items();
    if (items.size() != 1) {
      return Status::InvalidArgument("/item is required when more than one item is deployed");
    }
    item = items.front();
  } else {
    item = registry.FindItem(item_id, scenario.value("version", 0));
    if (!item)
      return Status::InvalidArgument("/item \"" + item_id + "\" is not among the definitions");
  }
  CaseService service(store->get(), &registry, &clock);

  const std::string home_organ = bundle ? bundle->lead_organ.id : item->organ.id;
  const Calendar& calendar = bundle ? *bundle->calendar : *item->time_limits.calendar;
  auto make_request = [&](const nlohmann::json& apply) {
    NewCase request;
    request.definition_id = bundle ? bundle->id : item->id;
    request.definition_version = bundle ? bundle->version : item->version;
    request.applicant_id = apply.value("applicant", "applicant-1");
    request.applicant_name = apply.value("applicant_name", "示例企业有限公司");
    request.applicant_credit_code = apply.value("credit_code", "91110000MA01TEST0X");
    request.actor = ActorFor(apply, home_organ, request.applicant_id);
    request.form = apply.value("form", nlohmann::json::object());
    request.materials = apply.value("materials", nlohmann::json::array());
    request.mode = apply.value("mode", "standard");
    if (apply.contains("commitment")) request.commitment = apply["commitment"];
    return request;
  };
  const nlohmann::json apply = scenario.value("apply", nlohmann::json::object());
  NewCase request = make_request(apply);
  std::string case_id;
  std::string created_status;
  if (bundle) {
    auto created = service.CreateBundle(request);
    if (!created.ok()) {
      result.failures.push_back({-1, "/apply", "applying failed: " + created.status().ToString()});
      return result;
    }
    case_id = created->state.id;
    created_status = created->state.Status();
  } else {
    auto created = service.Create(request);
    if (!created.ok()) {
      result.failures.push_back({-1, "/apply", "applying failed: " + created.status().ToString()});
      return result;
    }
    case_id = created->state.id;
    created_status = CaseStatusCode(created->state.status);
  }
  result.transcript.push_back(FormatTimestamp(clock.Now()) + " apply as " + request.actor.role +
                              " -> " + created_status);

  // The case a step addresses: the scenario's case, or in a bundle scenario one of its parts.
  auto target = [&](const nlohmann::json& step, std::string* id, std::string* organ,
                    std::string* problem) {
    *id = case_id;
    *organ = home_organ;
    if (!step.contains("part")) return;
    if (!bundle) {
      *problem = "\"part\" is for bundle scenarios";
      return;
    }
    auto view = service.GetBundle(case_id);
    if (!view.ok()) {
      *problem = view.status().ToString();
      return;
    }
    const std::string part = step["part"].get<std::string>();
    for (const BundlePartView& p : view->parts) {
      if (p.state.part != part) continue;
      *organ = p.item->organ.id;
      if (p.state.case_id.empty()) {
        *problem = "part \"" + part + "\" has no case (it is " + p.state.status + ")";
      }
      *id = p.state.case_id;
      return;
    }
    *problem = "the bundle has no part \"" + part + "\"";
  };

  auto check = [&](int index, const std::string& pointer, const nlohmann::json& expect,
                   const std::string& id, bool on_bundle) {
    if (!expect.is_object()) {
      result.failures.push_back({index, pointer, "expect must be an object"});
      return;
    }
    if (on_bundle) {
      auto view = service.GetBundle(id);
      auto events = service.History(id);
      if (!view.ok() || !events.ok()) {
        result.failures.push_back({index, pointer, "cannot read the bundle case back"});
        return;
      }
      for (const auto& [key, wanted] : expect.items()) {
        if (std::find(kBundleExpectKeys.begin(), kBundleExpectKeys.end(), key) ==
            kBundleExpectKeys.end()) {
          result.failures.push_back(
              {index, pointer + "/" + key, "unknown expectation \"" + key + "\" for a bundle"});
          continue;
        }
        nlohmann::json actual = ObserveBundle(key, *view, *events, service);
        ++result.checks;
        if (actual != wanted) {
          result.failures.push_back({index, pointer + "/" + key,
                                     key + ": expected " + Dump(wanted) + ", got " + Dump(actual)});
        }
      }
      return;
    }
    const std::string& case_id = id;
    auto view = service.Get(case_id);
    auto events = service.History(case_id);
    if (!view.ok() || !events.ok()) {
      result.failures.push_back({index, pointer, "cannot read the case back"});
      return;
    }
    for (const auto& [key, wanted] : expect.items()) {
      if (std::find(kExpectKeys.begin(), kExpectKeys.end(), key) == kExpectKeys.end()) {
        result.failures.push_back(
            {index, pointer + "/" + key, "unknown expectation \"" + key + "\""});
        continue;
      }
      nlohmann::json actual = Observe(key, *view, *events, service);
      ++result.checks;
      if (actual != wanted) {
        result.failures.push_back({index, pointer + "/" + key,
                                   key + ": expected " + Dump(wanted) + ", got " + Dump(actual)});
      }
    }
  };
  if (apply.contains("expect")) check(-1, "/apply/expect", apply["expect"], case_id, !!bundle);

  const nlohmann::json steps = scenario.value("steps", nlohmann::json::array());
  for (size_t i = 0; i < steps.size(); ++i) {
    const nlohmann::json& step = steps[i];
    const int index = static_cast<int>(i);
    const std::string pointer = "/steps/" + std::to_string(i);
    std::string line;
    if (step.contains("at")) {
      auto at = ParseTimestamp(step["at"].get<std::string>());
      if (!at) return Status::InvalidArgument(pointer + "/at is not a timestamp");
      clock.Set(*at);
    }
    if (step.contains("advance")) {
      const nlohmann::json& a = step["advance"];
      if (!a.is_object()) return Status::InvalidArgument(pointer + "/advance must be an object");
      clock.Advance(std::chrono::days(a.value("days", int64_t{0})) +
                    std::chrono::hours(a.value("hours", int64_t{0})) +
                    std::chrono::minutes(a.value("minutes", int64_t{0})));
      if (int wd = a.value("working_days", 0); wd > 0) {
        Instant now = clock.Now();
        Day today = calendar.LocalDate(now);
        Day target = calendar.AddWorkingDays(today, wd).day;
        clock.Set(now + (target - today));
      }
    }
    if (clock.Now() > kLatestInstant) {
      // Each move is bounded, but many of them add up: past the year 9999 no timestamp can say
      // where the clock is.
      return Status::InvalidArgument(pointer + ": the clock would pass " +
                                     FormatTimestamp(kLatestInstant));
    }
    // Nor may `at` jumps, or many moves together, take the clock further than one move may from
    // where the run started: a case's clock counts working days one by one over its life, and a
    // life of a thousand years (a start in 1013, then an "at" in 2026: found by the fuzzer) costs
    // seconds per step.
    if (std::chrono::abs(clock.Now() - *start) > std::chrono::days(kMaxAdvanceDays)) {
      return Status::InvalidArgument(pointer + ": the clock would be more than " +
                                     std::to_string(kMaxAdvanceDays) +
                                     " days (100 years) from the scenario's start");
    }
    if (step.contains("at") || step.contains("advance")) {
      auto fired = service.FireDueTimers();
      if (!fired.ok()) {
        result.failures.push_back({index, pointer, "timers failed: " + fired.status().ToString()});
      }
      line = FormatTimestamp(clock.Now());
      if (fired.ok() && *fired > 0) line += " (" + std::to_string(*fired) + " timer event(s))";
    }
    std::string step_case;
    std::string step_organ;
    std::string problem;
    target(step, &step_case, &step_organ, &problem);
    if (!problem.empty()) {
      result.failures.push_back({index, pointer + "/part", problem});
      result.transcript.push_back(line + " " + problem);
      ++result.steps_run;
      continue;
    }
    const bool on_bundle = bundle && !step.contains("part");
    if (step.contains("registers")) {
      // Changes to the registers an admin or applicant makes between actions.
      const nlohmann::json& r = step["registers"];
      Actor admin{"admin-1", "admin", "*", "admin-1"};
      Status done;
      std::string what;
      if (r.contains("revoke_delegation")) {
        what = "revoke delegation " + r["revoke_delegation"].get<std::string>();
        done = service.registers()
                   ->RevokeDelegation(r["revoke_delegation"].get<std::string>(),
                                      r.value("reason", "scenario"), admin, clock.Now())
                   .status();
      } else if (r.contains("repair_credit")) {
        what = "repair credit";
        auto blocking = service.registers()->BlockingCreditRecords(request.applicant_credit_code,
                                                                   request.applicant_id);
        done = blocking.status();
        for (size_t k = 0; done.ok() && k < blocking->size(); ++k) {
          done = service.registers()
                     ->RepairCredit((*blocking)[k].id, r.value("reason", "scenario"), admin,
                                    clock.Now())
                     .status();
        }
      } else if (r.contains("grant_mandate")) {
        const nlohmann::json& g = r["grant_mandate"];
        Mandate m;
        m.id = g.value("id", "mandate-1");
        m.applicant_id = request.applicant_id;
        m.agent_id = g.value("agent", "agent-1");
        m.definitions = g.value("definitions", std::vector<std::string>());
        what = "grant mandate " + m.id;
        done = service.registers()
                   ->GrantMandate(m, Actor{request.applicant_id, "applicant", "", ""}, clock.Now())
                   .status();
      } else {
        return Status::InvalidArgument(pointer +
                                       "/registers needs revoke_delegation, repair_credit or "
                                       "grant_mandate");
      }
      if (!done.ok()) {
        result.failures.push_back({index, pointer + "/registers", what + ": " + done.ToString()});
      }
      line += (line.empty() ? "" : " ") + what;
    }
    if (step.contains("reapply")) {
      // Another application by the same applicant, e.g. to see a credit record block it.
      NewCase again = make_request(step["reapply"]);
      Status outcome =
          bundle ? service.CreateBundle(again).status() : service.Create(again).status();
      std::string wanted_error = step.value("error", "");
      ++result.checks;
      if (wanted_error.empty() && !outcome.ok()) {
        result.failures.push_back(
            {index, pointer + "/reapply", "applying again failed: " + outcome.ToString()});
      } else if (!wanted_error.empty() && StatusCodeName(outcome.code()) != wanted_error) {
        result.failures.push_back({index, pointer + "/error",
                                   "expected error " + wanted_error + ", got " +
                                       (outcome.ok() ? "success" : outcome.ToString())});
      } else if (!wanted_error.empty() && step.contains("error_contains") &&
                 outcome.message().find(step["error_contains"].get<std::string>()) ==
                     std::string::npos) {
        result.failures.push_back(
            {index, pointer + "/error_contains",
             "error message \"" + outcome.message() + "\" does not contain the expected text"});
      }
      line += (line.empty() ? "" : " ") + std::string("apply again -> ") +
              (outcome.ok() ? "ok" : StatusCodeName(outcome.code()));
    }
    if (step.contains("do")) {
      ActRequest act;
      act.case_id = step_case;
      act.action = step["do"].get<std::string>();
      act.actor = ActorFor(step, step_organ, request.applicant_id);
      act.data = step.value("data", nlohmann::json::object());
      Status acted_status;
      std::string acted_summary;
      if (on_bundle) {
        auto acted = service.ActOnBundle(act);
        acted_status = acted.status();
        if (acted.ok()) acted_summary = acted->state.Status();
      } else {
        auto acted = service.Act(act);
        acted_status = acted.status();
        if (acted.ok()) {
          acted_summary = std::string(CaseStatusCode(acted->state.status)) +
                          (acted->step_id.empty() ? "" : " / " + acted->step_id);
        }
      }
      line += (line.empty() ? "" : " ") +
              (step.contains("part") ? step["part"].get<std::string>() + ": " : std::string()) +
              act.actor.role + " " + act.action;
      std::string wanted_error = step.value("error", "");
      if (!wanted_error.empty()) {
        ++result.checks;
        if (acted_status.ok()) {
          result.failures.push_back(
              {index, pointer + "/error",
               "expected error " + wanted_error + ", but the action succeeded"});
        } else if (StatusCodeName(acted_status.code()) != wanted_error) {
          result.failures.push_back(
              {index, pointer + "/error",
               "expected error " + wanted_error + ", got " + acted_status.ToString()});
        } else if (step.contains("error_contains") &&
                   acted_status.message().find(step["error_contains"].get<std::string>()) ==
                       std::string::npos) {
          result.failures.push_back({index, pointer + "/error_contains",
                                     "error message \"" + acted_status.message() +
                                         "\" does not contain the expected text"});
        }
        // Say what happened, not what was wanted: the failure above tells them apart.
        if (acted_status.ok()) {
          line += " -> " + acted_summary + " (expected " + wanted_error + ")";
        } else {
          line += " -> refused (" + std::string(StatusCodeName(acted_status.code())) + ")";
        }
      } else if (!acted_status.ok()) {
        result.failures.push_back(
            {index, pointer + "/do", act.action + " was refused: " + acted_status.ToString()});
        line += " -> refused: " + acted_status.message();
      } else {
        line += " -> " + acted_summary;
      }
    }
    if (step.contains("expect")) {
      check(index, pointer + "/expect", step["expect"], step_case, on_bundle);
    }
    result.transcript.push_back(line);
    ++result.steps_run;
  }
  return result;
}

}  // namespace

}  // namespace tongban
