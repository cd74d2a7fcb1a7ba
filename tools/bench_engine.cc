// The engine benchmarks' shared parts (bench_engine.h).
#include "tools/bench_engine.h"

namespace tongban::cli::engine_bench {

double Seconds(SteadyClock::duration d) {
  return std::chrono::duration<double>(d).count();
}

double Micros(SteadyClock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

double Quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

bool IntOption(const Args& args, const std::string& name, long fallback, long min, long* out) {
  auto text = args.Get(name);
  if (!text) {
    *out = fallback;
    return true;
  }
  char* end = nullptr;
  long value = std::strtol(text->c_str(), &end, 10);
  if (text->empty() || *end != '\0' || value < min) {
    UsageError("bench", "--" + name + " must be a whole number of at least " + std::to_string(min));
    return false;
  }
  *out = value;
  return true;
}

bool JsonFormat(const Args& args) {
  return WantsJson(args);
}

int Fail(const std::string& what, const Status& status) {
  std::cerr << "tongban bench: " << what << ": " << status.ToString() << "\n";
  return kExitError;
}

std::vector<std::pair<std::string, std::string>> BenchDefinitions(int steps) {
  nlohmann::json item = {
      {"kind", "item"},
      {"id", "bench-permit"},
      {"version", 1},
      {"title", "benchmark permit"},
      {"category", "licensing"},
      {"case_type", "promised"},
      {"organ", {{"id", "bench-bureau"}, {"name", "benchmark bureau"}}},
      {"legal_basis", {{{"citation", "benchmark"}}}},
      {"time_limits",
       {{"calendar", "synthetic-calendar"},
        {"statutory_days", 20},
        {"promised_days", 10},
        {"extension_days", 10}}},
      {"form",
       {{"fields",
         {{{"id", "project_name"}, {"label", "project"}, {"type", "string"}, {"required", true}},
          {{"id", "amount"}, {"label", "amount"}, {"type", "number"}, {"required", true}},
          {{"id", "kind"}, {"label", "kind"}, {"type", "enum"}, {"values", {"a", "b", "c"}}},
          {{"id", "start"}, {"label", "start"}, {"type", "date"}}}}}},
      {"materials",
       {{{"id", "application_form"}, {"name", "application form"}, {"necessity", "required"}},
        {{"id", "licence"}, {"name", "licence"}, {"necessity", "required"}},
        {{"id", "site_plan"}, {"name", "site plan"}, {"necessity", "optional"}}}},
      {"steps", nlohmann::json::array()},
      {"four_eyes", nlohmann::json::array()}};
  for (int i = 0; i < steps; ++i) {
    std::string id = "step-" + std::to_string(i);
    nlohmann::json actions = nlohmann::json::object();
    if (i + 1 < steps) {
      actions["pass"] = {
          {"to", "step-" + std::to_string(i + 1)},
          {"guard",
           {{"and",
             {{{">=", {{{"var", "amount"}}, 0}}}, {{"in", {{{"var", "kind"}}, {"a", "b"}}}}}}}},
          {"requires_materials", {"licence"}}};
    } else {
      actions["approve"] = {{"decision", "approve"}};
    }
    actions["deny"] = {{"decision", "deny"}, {"requires_reason", true}};
    item["steps"].push_back({{"id", id},
                             {"title", "step " + std::to_string(i)},
                             {"role", i + 1 == steps ? "approver" : "reviewer"},
                             {"time_limit_days", 2},
                             {"actions", actions}});
    if (i > 0) item["four_eyes"].push_back({"step-" + std::to_string(i - 1), id});
  }
  return {{"calendar.json", MakeSyntheticItem(1).calendar_text}, {"item.json", item.dump(2)}};
}

Actor StaffActor(const std::string& role, int index, const Item& item) {
  Actor actor;
  actor.id = role + "-" + std::to_string(index);
  actor.role = role;
  actor.organ = item.organ.id;
  actor.name = actor.id;
  return actor;
}

std::vector<Command> LifeCycleCommands(const Item& item) {
  std::vector<Command> out;
  Command accept;
  accept.action = "accept";
  accept.actor = StaffActor("clerk", 1, item);
  out.push_back(accept);
  for (size_t i = 0; i < item.steps.size(); ++i) {
    Command c;
    c.action = i + 1 == item.steps.size() ? "approve" : "pass";
    c.actor = StaffActor(item.steps[i].role, static_cast<int>(i), item);
    out.push_back(c);
  }
  Command deliver;
  deliver.action = "deliver";
  deliver.actor = StaffActor("clerk", 1, item);
  out.push_back(deliver);
  return out;
}

nlohmann::json BenchForm() {
  return {{"project_name", "示范厂房"}, {"amount", 1200}, {"kind", "a"}, {"start", "2026-03-16"}};
}

nlohmann::json BenchMaterials() {
  return {"application_form", "licence"};
}

Result<BenchDb> OpenEngine(const SqliteStoreOptions& options, int steps) {
  Instant start = *ParseTimestamp(kStart);
  EngineOptions engine_options;
  engine_options.store = options;
  engine_options.clock = std::make_unique<SimulatedClock>(start);
  auto opened = Engine::Open(std::move(engine_options));
  if (!opened.ok()) return opened.status();
  BenchDb db;
  db.engine = std::move(opened).value();
  db.store = db.engine->store();
  db.registry = db.engine->registry();
  db.clock = db.engine->simulated_clock();
  db.service = db.engine->cases();
  if (!options.read_only) {
    auto deployed = db.registry->Deploy(BenchDefinitions(steps), start);
    if (!deployed.ok()) return deployed.status();
  }
  db.item = db.registry->FindItem("bench-permit");
  if (!db.item) return Status::NotFound("the benchmark item is not deployed");
  return db;
}

std::string HexId(uint64_t value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "c%020llx", static_cast<unsigned long long>(value));
  return buffer;
}

Result<CaseWrite> BuildClosedCase(const std::shared_ptr<const Item>& item,
                                  const std::vector<Command>& commands, const std::string& id,
                                  long index, Instant start) {
  CaseLifecycle lifecycle(item);
  Command submit;
  submit.action = "submit";
  submit.actor = Actor{"applicant-" + std::to_string(index), "applicant", "", "applicant"};
  submit.time = start;
  char number[32];
  std::snprintf(number, sizeof number, "TB20260302-%08ld", index);
  submit.data = {{"case", {{"id", id}, {"number", number}, {"query_code", "Q" + id.substr(1, 7)}}},
                 {"applicant",
                  {{"id", submit.actor.id},
                   {"name", "示例建设有限公司"},
                   {"credit_code", "91330100MA2TEST01X"}}},
                 {"form", BenchForm()},
                 {"materials", BenchMaterials()},
                 {"mode", "standard"}};
  std::vector<Event> events;
  std::string previous = kGenesisHash;
  for (size_t i = 0; i <= commands.size(); ++i) {
    Command command = i == 0 ? submit : commands[i - 1];
    command.time = start + std::chrono::minutes(10 * i);
    Status status = i == 0 ? lifecycle.Submit(command) : lifecycle.Apply(command);
    if (!status.ok()) return Status(status.code(), command.action + ": " + status.message());
    events.push_back(MakeCaseEvent(lifecycle, command, static_cast<int64_t>(i) + 1, previous, ""));
    previous = events.back().hash;
  }
  Instant now = events.back().time;
  return MakeCaseWrite(lifecycle, 0, std::move(events), now);
}

}  // namespace tongban::cli::engine_bench
