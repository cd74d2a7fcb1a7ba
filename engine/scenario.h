// Scenarios: data-driven runs of a definition — the bureau's way to try a process out, and the
// engine's way to test every statutory rule (as DuckDB's sqllogictest files test SQL).
//
// A scenario file (JSON) names a definition, a start time, who applies with what, and a script of
// steps; each step advances the simulated clock, takes an action as some role, or both, and states
// what it expects afterwards (status, step, due dates, light, ...) or the error it expects. Timers
// fire whenever the clock moves, exactly as they do in the server. The format is documented in
// tests/scenarios/README.md.
//
// A scenario runs against a real SQLite file in a temporary directory, through CaseService.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workflows/diagnostics.h"
#include "workflows/status.h"

namespace tongban {

struct ScenarioFailure {
  int step = -1;        // index into "steps"; -1 for the set-up
  std::string pointer;  // JSON pointer into the scenario file
  std::string message;
};

struct ScenarioResult {
  std::string name;
  int steps_run = 0;
  int checks = 0;  // expectations compared
  std::vector<ScenarioFailure> failures;
  std::vector<std::string> transcript;  // one line per step, for people
  bool ok() const { return failures.empty(); }
};

struct ScenarioOptions {
  // Definition texts (name → JSON) deployed before the run: the item and its calendars.
  std::vector<std::pair<std::string, std::string>> definitions;
  std::string work_dir;  // where the temporary database goes; a fresh temp dir when empty
};

// The longest move of the clock one step may make (its `advance`, working days counted as 7/5 of a
// day each): 100 years; nor may the clock, moved by `at` or by many steps, get further than that
// from the scenario's start. Statutory limits, pauses and verification periods are months at most;
// a longer move is a typo, and far longer ones leave the range the calendar and std::chrono cover.
inline constexpr int64_t kMaxAdvanceDays = 36525;

// Checks a scenario against the format of tests/scenarios/README.md without running it, as the
// definition compilers check a definition: every unknown key (with "did you mean"), wrongly typed
// value, malformed timestamp, unknown error code and out-of-range `advance` is reported into
// `sink` with its JSON pointer (and its line, when the sink has the parsed document). Keys inside
// `expect` are checked when the step runs, because which keys apply depends on the case it
// addresses (an item case or a bundle case).
void CheckScenario(const nlohmann::json& scenario, DiagnosticSink* sink);

// Runs one scenario. kInvalidArgument when the scenario file itself is malformed (its message
// lists what CheckScenario reports, each problem with its pointer); kFailedPrecondition when the
// definitions do not deploy; another code when the run could not be set up (temporary directory,
// database). Otherwise the result lists every expectation that did not hold.
Result<ScenarioResult> RunScenario(const nlohmann::json& scenario, const ScenarioOptions& options);

}  // namespace tongban
