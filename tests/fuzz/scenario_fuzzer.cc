// libFuzzer harness of the scenario reader and runner (engine/scenario.h): the input is one
// scenario file, read with the strict parser and run as tests/scenario_test.cc runs it — its
// "definition" item and the calendars deployed, with what its "with" names as context — on a
// simulated clock over a throw-away SQLite file. The definitions are read from the repository once,
// in memory; an unknown "definition" or "with" runs against the calendars and every item.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/scenario.h"
#include "tests/fuzz/fuzz_support.h"
#include "workflows/json_document.h"

namespace {

using Files = std::vector<std::pair<std::string, std::string>>;

bool StartsWith(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// The files a path names: the file itself, or every file below a folder.
void AddNamed(const std::string& path, Files* out) {
  std::string folder = path;
  if (!folder.empty() && folder.back() != '/') folder += '/';
  for (const auto& file : tongban::fuzz::ShippedDefinitions()) {
    if (file.first != path && !StartsWith(file.first, folder)) continue;
    bool known = false;
    for (const auto& added : *out)
      known = known || added.first == file.first;
    if (!known) out->push_back(file);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto document =
      tongban::JsonDocument::Parse(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!document.ok()) return 0;
  const nlohmann::json& scenario = document->root();

  tongban::ScenarioOptions options;
  AddNamed("definitions/calendars", &options.definitions);
  const size_t calendars = options.definitions.size();
  if (scenario.is_object()) {
    auto definition = scenario.find("definition");
    if (definition != scenario.end() && definition->is_string()) {
      AddNamed(definition->get<std::string>(), &options.definitions);
    }
    auto with = scenario.find("with");
    if (with != scenario.end() && with->is_array()) {
      for (const auto& extra : *with) {
        if (extra.is_string()) AddNamed(extra.get<std::string>(), &options.definitions);
      }
    }
  }
  if (options.definitions.size() == calendars) AddNamed("definitions/items", &options.definitions);
  (void)tongban::RunScenario(scenario, options);
  return 0;
}
