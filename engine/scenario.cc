#include "engine/scenario.h"

#include <unistd.h>

#include <filesystem>
#include <map>

#include "engine/case_service.h"
#include "engine/sqlite_store.h"
#include "workflows/json_document.h"

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
                                              "overdue_recorded"};

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
  return nullptr;
}

Actor ActorFor(const nlohmann::json& step, const Item& item, const std::string& applicant_id) {
  Actor actor;
  actor.role = step.value("as", "applicant");
  if (actor.role == "applicant") {
    actor.id = step.value("actor", applicant_id);
  } else {
    actor.id = step.value("actor", actor.role + "-1");
    actor.organ = step.value("organ", item.organ.id);
  }
  actor.name = actor.id;
  return actor;
}

Result<ScenarioResult> Run(const nlohmann::json& scenario, const ScenarioOptions& options);

}  // namespace

Result<ScenarioResult> RunScenario(const nlohmann::json& scenario, const ScenarioOptions& options) {
  // A value of the wrong type ({"at": 5}, {"do": 7}) makes nlohmann throw; it is a malformed
  // scenario, not a crash.
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
    return Status::InvalidArgument("the definitions do not deploy: " + message);
  }
  std::shared_ptr<const Item> item;
  std::string item_id = scenario.value("item", "");
  if (item_id.empty()) {
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

  const nlohmann::json apply = scenario.value("apply", nlohmann::json::object());
  NewCase request;
  request.definition_id = item->id;
  request.definition_version = item->version;
  request.applicant_id = apply.value("applicant", "applicant-1");
  request.applicant_name = apply.value("applicant_name", "示例企业有限公司");
  request.applicant_credit_code = apply.value("credit_code", "91110000MA01TEST0X");
  request.actor = ActorFor(apply, *item, request.applicant_id);
  request.form = apply.value("form", nlohmann::json::object());
  request.materials = apply.value("materials", nlohmann::json::array());
  request.mode = apply.value("mode", "standard");
  if (apply.contains("commitment")) request.commitment = apply["commitment"];
  auto created = service.Create(request);
  if (!created.ok()) {
    result.failures.push_back({-1, "/apply", "applying failed: " + created.status().ToString()});
    return result;
  }
  const std::string case_id = created->state.id;
  result.transcript.push_back(FormatTimestamp(clock.Now()) + " apply as " + request.actor.role +
                              " -> " + CaseStatusCode(created->state.status));

  auto check = [&](int index, const std::string& pointer, const nlohmann::json& expect) {
    if (!expect.is_object()) {
      result.failures.push_back({index, pointer, "expect must be an object"});
      return;
    }
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
  if (apply.contains("expect")) check(-1, "/apply/expect", apply["expect"]);

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
      clock.Advance(std::chrono::days(a.value("days", 0)) +
                    std::chrono::hours(a.value("hours", 0)) +
                    std::chrono::minutes(a.value("minutes", 0)));
      if (int wd = a.value("working_days", 0); wd > 0) {
        const Calendar& calendar = *item->time_limits.calendar;
        Instant now = clock.Now();
        Day today = calendar.LocalDate(now);
        Day target = calendar.AddWorkingDays(today, wd).day;
        clock.Set(now + (target - today));
      }
    }
    if (step.contains("at") || step.contains("advance")) {
      auto fired = service.FireDueTimers();
      if (!fired.ok()) {
        result.failures.push_back({index, pointer, "timers failed: " + fired.status().ToString()});
      }
      line = FormatTimestamp(clock.Now());
      if (fired.ok() && *fired > 0) line += " (" + std::to_string(*fired) + " timer event(s))";
    }
    if (step.contains("do")) {
      ActRequest act;
      act.case_id = case_id;
      act.action = step["do"].get<std::string>();
      act.actor = ActorFor(step, *item, request.applicant_id);
      act.data = step.value("data", nlohmann::json::object());
      auto acted = service.Act(act);
      line += (line.empty() ? "" : " ") + act.actor.role + " " + act.action;
      std::string wanted_error = step.value("error", "");
      if (!wanted_error.empty()) {
        ++result.checks;
        if (acted.ok()) {
          result.failures.push_back(
              {index, pointer + "/error",
               "expected error " + wanted_error + ", but the action succeeded"});
        } else if (StatusCodeName(acted.status().code()) != wanted_error) {
          result.failures.push_back(
              {index, pointer + "/error",
               "expected error " + wanted_error + ", got " + acted.status().ToString()});
        } else if (step.contains("error_contains") &&
                   acted.status().message().find(step["error_contains"].get<std::string>()) ==
                       std::string::npos) {
          result.failures.push_back({index, pointer + "/error_contains",
                                     "error message \"" + acted.status().message() +
                                         "\" does not contain the expected text"});
        }
        line += " -> refused (" + std::string(StatusCodeName(acted.status().code())) + ")";
      } else if (!acted.ok()) {
        result.failures.push_back(
            {index, pointer + "/do", act.action + " was refused: " + acted.status().ToString()});
        line += " -> refused: " + acted.status().message();
      } else {
        line += " -> " + std::string(CaseStatusCode(acted->state.status)) +
                (acted->step_id.empty() ? "" : " / " + acted->step_id);
      }
    }
    if (step.contains("expect")) check(index, pointer + "/expect", step["expect"]);
    result.transcript.push_back(line);
    ++result.steps_run;
  }
  return result;
}

}  // namespace

}  // namespace tongban
