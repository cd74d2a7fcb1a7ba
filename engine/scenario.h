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

// Runs one scenario. kInvalidArgument when the scenario file itself is malformed; otherwise the
// result lists every expectation that did not hold.
Result<ScenarioResult> RunScenario(const nlohmann::json& scenario, const ScenarioOptions& options);

}  // namespace tongban
