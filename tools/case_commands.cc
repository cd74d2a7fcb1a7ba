// tongban scenario | replay | verify
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <system_error>

#include "engine/engine.h"
#include "engine/scenario.h"
#include "engine/sqlite_store.h"
#include "tools/cli.h"
#include "tools/commands.h"

namespace tongban::cli {

namespace {

constexpr const char* kScenarioHelp = R"(usage: tongban scenario [OPTIONS] DEFINITION SCENARIO...

Runs scenario files against a definition on a simulated clock and a throw-away SQLite
database, and reports every expectation that does not hold. DEFINITION is the item file
(a scenario without "item" runs it); the calendars it uses, and the items beside it, are
found as for 'tongban validate' (or give --with). The scenario format is described in
tests/scenarios/README.md.

Options:
  --with PATH        also deploy PATH (file or directory); may repeat
  --format FORMAT    text (default) or json
  --verbose          print the transcript of every scenario, not only of failing ones
  --help             show this help

Every scenario file is checked before it runs: an unknown key, a value of the wrong type or an
out-of-range "advance" makes it malformed (reported with its line and JSON pointer, not run).
Every file given is reported, also when another one is malformed or cannot be read.

Exit codes: 0 every scenario passed, 1 some expectation failed or a scenario file is malformed,
2 wrong usage, 3 some scenario could not be run (a file that cannot be read, definitions with
errors, no temporary database); 3 wins over 1.
)";

constexpr const char* kReplayHelp =
    R"(usage: tongban replay --db FILE|URI --case ID [--at TIME] [--format text|json]

Rebuilds a case from its events alone (no side effects) and prints its state and clock;
with --at, as it stood at TIME (e.g. 2026-03-05T12:00:00+08:00). A bundle case (一件事) is shown
with its parts (now only). The database is opened read-only.

Exit codes: 0 replayed, 1 the history does not replay, 2 wrong usage, 3 cannot read.
)";

constexpr const char* kVerifyHelp =
    R"(usage: tongban verify --db FILE|URI [--case ID] [--max-findings N] [--format text|json]
       tongban verify --db FILE|URI --checkpoint WITNESS --public-key PUBLIC.pem [--format ...]
       tongban verify --archive FILE [--format ...]

Checks that every event's hash chain is intact and that replaying the events reproduces
the stored snapshot, and that the text of the definition the case runs on still matches
the content hash recorded when it was deployed; reports the first event (or definition)
that breaks, and why. Without --case, every case in the database, bundle cases included,
the hash chain of the register ledger (delegations, credit records, mandates), and every
deployed definition; a progress line is shown on a terminal. Opened read-only.

Without --case, every broken case is listed (in case id order, then the ledger, then the
definitions), one line each, up to --max-findings (default 100, at most 1000000); a last
line counts them and says when the limit stopped the verification, so that more may exist.

A definition rewritten together with its recorded content hash is not found this way: a
checkpoint's witness covers the cases and the ledger, not the definitions.

A sound chain cut short, or a case deleted whole, still verifies. With --checkpoint (a
witness file from 'tongban checkpoint', kept by the auditor), the witness's signature is
checked with PUBLIC.pem, and then every case it lists must still be in the database with
the same event at its seq, the ledger must hold the same entry at its ledger seq, and the
checkpoint's own ledger entry must be there; one line names each case deleted or
truncated, a truncated or rewritten ledger, and a copy from before the checkpoint. Cases
created or grown since are fine.

With --archive (a case's file from 'tongban export' or GET /v1/cases/{id}/archive), no
database is needed: every file against manifest.json, every document against its SHA-256,
each case's event chain, its replay on the archived definitions compared with its stored
state, every ledger entry's hash; one line names each file, line or event that is wrong.

Exit codes: 0 intact, 1 a break was found (or the witness's signature fails), 2 wrong
usage, 3 cannot read (or no case has the --case id).
)";

// The text of a scenario file, or why it cannot be read ("cannot read FILE: reason").
Result<std::string> ReadScenarioFile(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    return Status::NotFound("cannot read " + path + ": it is a directory");
  }
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int reason = errno;
    return Status::NotFound(
        "cannot read " + path + ": " +
        (reason != 0 ? std::generic_category().message(reason) : std::string("cannot open it")));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return Status::Unavailable("cannot read " + path + ": a read failed");
  return buffer.str();
}

// One scenario file as the report shows it. A scenario that could not be run is reported beside
// the others rather than ending the command, so one broken file does not hide the other results.
struct ScenarioEntry {
  enum class Outcome { kPassed, kFailed, kMalformed, kNotRun };
  struct Failure {
    int step = -1;
    std::string pointer;
    std::string message;
    SourcePosition position;  // known for a malformed file's problems
  };
  std::string file;
  std::string name;
  Outcome outcome = Outcome::kNotRun;
  int steps = 0;
  int checks = 0;
  std::vector<Failure> failures;
  std::vector<std::string> transcript;
};

const char* OutcomeName(ScenarioEntry::Outcome outcome) {
  switch (outcome) {
    case ScenarioEntry::Outcome::kPassed:
      return "passed";
    case ScenarioEntry::Outcome::kFailed:
      return "failed";
    case ScenarioEntry::Outcome::kMalformed:
      return "malformed";
    case ScenarioEntry::Outcome::kNotRun:
      return "not_run";
  }
  return "not_run";
}

// The step a pointer is in ("/steps/3/do" → 3), or -1 for the rest of the file.
int StepOf(const std::string& pointer) {
  const std::string prefix = "/steps/";
  if (pointer.rfind(prefix, 0) != 0) return -1;
  size_t end = pointer.find('/', prefix.size());
  std::string digits = pointer.substr(prefix.size(), end - prefix.size());
  if (digits.empty() || digits.size() > 9 ||
      digits.find_first_not_of("0123456789") != std::string::npos) {
    return -1;
  }
  return std::stoi(digits);
}

ScenarioEntry RunScenarioFile(const std::string& path, bool definitions_ok,
                              const std::string& named_item, const ScenarioOptions& options) {
  using Outcome = ScenarioEntry::Outcome;
  ScenarioEntry entry;
  entry.file = path;
  auto text = ReadScenarioFile(path);
  if (!text.ok()) {
    entry.failures.push_back({-1, "", text.status().message(), {}});
    return entry;
  }
  SourcePosition position;
  auto document = JsonDocument::Parse(*text, &position);
  if (!document.ok()) {
    entry.outcome = Outcome::kMalformed;
    entry.failures.push_back({-1, "", document.status().message(), position});
    return entry;
  }
  const nlohmann::json& root = document->root();
  if (root.is_object() && root.contains("name") && root["name"].is_string()) {
    entry.name = root["name"].get<std::string>();
  }
  // Checked here, not only in RunScenario, for the lines of the file each problem is on.
  DiagnosticSink sink(path, &*document);
  CheckScenario(root, &sink);
  if (sink.has_errors()) {
    entry.outcome = Outcome::kMalformed;
    for (const Diagnostic& d : sink.diagnostics()) {
      entry.failures.push_back({StepOf(d.pointer), d.pointer, d.message, d.position});
    }
    return entry;
  }
  if (!definitions_ok) {
    entry.failures.push_back({-1, "", "not run: the definitions have errors", {}});
    return entry;
  }
  nlohmann::json scenario = root;
  if (!named_item.empty() && !scenario.contains("item") && !scenario.contains("bundle")) {
    scenario["item"] = named_item;
  }
  auto result = RunScenario(scenario, options);
  if (!result.ok()) {
    // kInvalidArgument: the scenario names what the definitions do not have (an unknown item);
    // anything else is the definitions' or the machine's fault.
    if (result.status().code() == StatusCode::kInvalidArgument) entry.outcome = Outcome::kMalformed;
    entry.failures.push_back({-1, "", result.status().message(), {}});
    return entry;
  }
  entry.name = result->name;
  entry.outcome = result->ok() ? Outcome::kPassed : Outcome::kFailed;
  entry.steps = result->steps_run;
  entry.checks = result->checks;
  entry.transcript = result->transcript;
  for (const ScenarioFailure& f : result->failures)
    entry.failures.push_back({f.step, f.pointer, f.message, {}});
  return entry;
}

nlohmann::json ScenarioEntryToJson(const ScenarioEntry& entry) {
  nlohmann::json failures = nlohmann::json::array();
  for (const auto& f : entry.failures) {
    nlohmann::json failure = {{"step", f.step}, {"pointer", f.pointer}, {"message", f.message}};
    if (f.position.known()) {
      failure["line"] = f.position.line;
      failure["column"] = f.position.column;
    }
    failures.push_back(std::move(failure));
  }
  return {{"file", entry.file},
          {"name", entry.name},
          {"ok", entry.outcome == ScenarioEntry::Outcome::kPassed},
          {"outcome", OutcomeName(entry.outcome)},
          {"steps", entry.steps},
          {"checks", entry.checks},
          {"failures", failures}};
}

void PrintScenarioEntry(const ScenarioEntry& entry, bool verbose) {
  using Outcome = ScenarioEntry::Outcome;
  const std::string name = entry.name.empty() ? "(unnamed)" : entry.name;
  switch (entry.outcome) {
    case Outcome::kPassed:
    case Outcome::kFailed:
      std::cout << (entry.outcome == Outcome::kPassed ? "PASS " : "FAIL ") << entry.file << " — "
                << name << " (" << entry.steps << " steps, " << entry.checks << " checks)\n";
      if (entry.outcome == Outcome::kFailed || verbose) {
        for (const auto& line : entry.transcript)
          std::cout << "    " << line << "\n";
      }
      for (const auto& f : entry.failures)
        std::cout << "  " << entry.file << ": " << f.pointer << ": " << f.message << "\n";
      return;
    case Outcome::kMalformed:
      std::cout << "FAIL " << entry.file << " — malformed, not run (" << entry.failures.size()
                << " problem(s))\n";
      break;
    case Outcome::kNotRun:
      std::cout << "ERROR " << entry.file << " — not run\n";
      break;
  }
  // As the definition validator prints them, so an editor can jump to each line.
  for (const auto& f : entry.failures) {
    Diagnostic d;
    d.file = entry.file;
    d.position = f.position;
    d.pointer = f.pointer;
    d.message = f.message;
    std::cout << "  "
              << (f.pointer.empty() && !f.position.known() ? f.message : FormatDiagnostic(d))
              << "\n";
  }
}

// Opens the database (an SQLite file or a PostgreSQL URI) read-only and loads its definitions.
Result<std::unique_ptr<Engine>> OpenDatabase(const std::string& db) {
  if (!IsPostgresConnectionString(db) && !std::filesystem::exists(db)) {
    return Status::NotFound("no database file " + db);
  }
  EngineOptions options;
  SelectDatabase(db, /*read_only=*/true, SqliteStoreOptions{}.max_queue, &options);
  return Engine::Open(std::move(options));
}

}  // namespace

int ScenarioCommand(int argc, char** argv, int first) {
  Args args(argc, argv, first, {"help", "verbose"}, {"with", "format"});
  if (!args.ok()) return UsageError("scenario", args.error());
  if (args.Has("help")) {
    std::cout << kScenarioHelp;
    return kExitOk;
  }
  if (auto bad = TextOrJsonFormatError(args, "scenario")) return *bad;
  const bool json = WantsJson(args);
  if (args.positional().size() < 2) {
    return UsageError("scenario", "give a definition file and at least one scenario file");
  }
  DefinitionSet set;
  LoadDefinitions(&set, {args.positional()[0]}, args.GetAll("with"));
  set.Compile();
  // With broken definitions no scenario runs, but each is still checked and listed in the report.
  const bool definitions_ok = !set.HasErrors();
  if (!definitions_ok) {
    for (const Diagnostic& d : set.Diagnostics())
      std::cerr << FormatDiagnostic(d) << "\n";
  }
  ScenarioOptions options;
  // The item named on the command line is the one a scenario without /item runs: the items found
  // beside it are there as context (a bundle's parts), not as candidates.
  std::string named_item;
  for (const auto& file : set.files()) {
    if (file.parsed) options.definitions.push_back({file.name, file.text});
    if (file.parsed && file.report && file.kind == "item" && named_item.empty())
      named_item = file.source.value("id", "");
  }
  nlohmann::json report = nlohmann::json::array();
  int passed = 0;
  int failed = 0;   // failed expectations or a malformed file: exit 1
  int not_run = 0;  // unreadable file, broken definitions, no database: exit 3
  for (size_t i = 1; i < args.positional().size(); ++i) {
    ScenarioEntry entry =
        RunScenarioFile(args.positional()[i], definitions_ok, named_item, options);
    switch (entry.outcome) {
      case ScenarioEntry::Outcome::kPassed:
        ++passed;
        break;
      case ScenarioEntry::Outcome::kFailed:
      case ScenarioEntry::Outcome::kMalformed:
        ++failed;
        break;
      case ScenarioEntry::Outcome::kNotRun:
        ++not_run;
        break;
    }
    if (json) {
      report.push_back(ScenarioEntryToJson(entry));
    } else {
      PrintScenarioEntry(entry, args.Has("verbose"));
    }
  }
  if (json) {
    std::cout << PrettyJson(report) << "\n";
  } else {
    std::cout << passed << " passed, " << failed << " failed";
    if (not_run > 0) std::cout << ", " << not_run << " not run";
    std::cout << "\n";
  }
  if (not_run > 0) return kExitError;
  return failed == 0 ? kExitOk : kExitFailure;
}

int ReplayCommand(int argc, char** argv, int first) {
  Args args(argc, argv, first, {"help"}, {"db", "case", "at", "format"});
  if (!args.ok()) return UsageError("replay", args.error());
  if (args.Has("help")) {
    std::cout << kReplayHelp;
    return kExitOk;
  }
  if (!args.Get("db") || !args.Get("case"))
    return UsageError("replay", "--db and --case are required");
  if (auto bad = TextOrJsonFormatError(args, "replay")) return *bad;
  std::optional<Instant> at;
  if (auto text = args.Get("at")) {
    at = ParseTimestamp(*text);
    if (!at) return UsageError("replay", "--at must be a timestamp like 2026-03-02T09:00:00+08:00");
  }
  auto db = OpenDatabase(*args.Get("db"));
  if (!db.ok()) {
    std::cerr << "tongban replay: " << db.status().message() << "\n";
    return kExitError;
  }
  if ((*db)->cases()->IsBundleCase(*args.Get("case"))) {
    // A bundle case (一件事): its parts and their children as they stand now.
    if (at) return UsageError("replay", "--at is for item cases; a bundle is shown as it is now");
    auto bundle = (*db)->cases()->GetBundle(*args.Get("case"));
    if (!bundle.ok()) {
      std::cerr << "tongban replay: " << bundle.status().message() << "\n";
      return bundle.status().code() == StatusCode::kDataLoss ? kExitFailure : kExitError;
    }
    nlohmann::json j = BundleViewToJson(*bundle);
    if (WantsJson(args)) {
      std::cout << PrettyJson(j) << "\n";
      return kExitOk;
    }
    std::cout << "bundle    " << bundle->state.id << " (" << bundle->state.number << ")\n"
              << "title     " << bundle->bundle->title << " (" << bundle->bundle->id << " v"
              << bundle->bundle->version << ")\n"
              << "status    " << bundle->state.Status() << ", outcome " << bundle->state.Outcome()
              << "\n"
              << "version   " << bundle->state.version << "\n";
    for (const BundlePartView& part : bundle->parts) {
      std::cout << "part      " << part.state.part << ": " << part.state.status
                << (part.state.case_number.empty() ? "" : " (" + part.state.case_number + ")")
                << "\n";
    }
    return kExitOk;
  }
  auto view =
      at ? (*db)->cases()->GetAt(*args.Get("case"), *at) : (*db)->cases()->Get(*args.Get("case"));
  if (!view.ok()) {
    std::cerr << "tongban replay: " << view.status().message() << "\n";
    return view.status().code() == StatusCode::kDataLoss ? kExitFailure : kExitError;
  }
  nlohmann::json j = CaseViewToJson(*view);
  if (WantsJson(args)) {
    std::cout << PrettyJson(j) << "\n";
    return kExitOk;
  }
  std::cout << "case      " << view->state.id << " (" << view->state.number << ")\n"
            << "item      " << view->item->title << " (" << view->item->id << " v"
            << view->item->version << ")\n"
            << "as of     "
            << FormatTimestampIn(view->as_of, view->item->time_limits.calendar->time_zone()) << "\n"
            << "status    " << CaseStatusCode(view->state.status)
            << (view->step_id.empty() ? "" : " / step " + view->step_id) << "\n"
            << "version   " << view->state.version << "\n"
            << "clock     " << j["clock"].dump() << "\n";
  return kExitOk;
}

int VerifyCommand(int argc, char** argv, int first) {
  Args args(argc, argv, first, {"help"},
            {"db", "case", "format", "checkpoint", "public-key", "archive", "max-findings"});
  if (!args.ok()) return UsageError("verify", args.error());
  if (args.Has("help")) {
    std::cout << kVerifyHelp;
    return kExitOk;
  }
  if (auto bad = TextOrJsonFormatError(args, "verify")) return *bad;
  if (auto archive = args.Get("archive")) {
    if (args.Has("db") || args.Has("case") || args.Has("checkpoint")) {
      return UsageError("verify",
                        "--archive is checked alone, without --db, --case or --checkpoint");
    }
    return VerifyArchive(*archive, WantsJson(args));
  }
  if (!args.Get("db")) return UsageError("verify", "--db is required");
  long max_findings = 100;
  if (auto limit = args.Get("max-findings")) {
    if (args.Has("case")) return UsageError("verify", "--max-findings is for the whole database");
    auto count = ParseCount(*limit, 1000000);
    if (!count) return UsageError("verify", "--max-findings takes a count from 1 to 1000000");
    max_findings = *count;
  }
  if (args.Has("checkpoint") != args.Has("public-key"))
    return UsageError("verify", "--checkpoint and --public-key go together");
  if (args.Has("checkpoint") && args.Has("case"))
    return UsageError("verify", "--checkpoint checks the whole database, not one --case");
  // Before the verification, which takes minutes on a large database, not after it.
  for (const char* file : {"checkpoint", "public-key"}) {
    if (auto path = args.Get(file); path && !std::filesystem::exists(*path)) {
      std::cerr << "tongban verify: no such file " << *path << "\n";
      return kExitError;
    }
  }
  auto db = OpenDatabase(*args.Get("db"));
  if (!db.ok()) {
    std::cerr << "tongban verify: " << db.status().message() << "\n";
    return kExitError;
  }
  VerifyReport report;
  if (auto id = args.Get("case")) {
    report = (*db)->cases()->Verify(*id);
    if (report.not_found) {
      // A mistyped id is not a break in the history: said as replay and export say it.
      std::cerr << "tongban verify: no case " << *id << " in " << *args.Get("db") << "\n";
      return kExitError;
    }
  } else {
    Progress progress("verifying cases");
    report = (*db)->cases()->VerifyAll(
        [&](int64_t done, int64_t total) { progress.Update(done, total); }, 0,
        static_cast<size_t>(max_findings));
  }
  if (auto witness = args.Get("checkpoint")) {
    return VerifyWithCheckpoint(db->get(), report, *witness, *args.Get("public-key"),
                                WantsJson(args));
  }
  if (WantsJson(args)) {
    std::cout << PrettyJson(VerifyReportToJson(report)) << "\n";
  } else {
    std::cout << VerifyReportLine(report) << "\n";
  }
  return report.ok ? kExitOk : kExitFailure;
}

}  // namespace tongban::cli
