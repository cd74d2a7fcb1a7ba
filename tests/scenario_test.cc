// Data-driven tests over the case scenarios in tests/scenarios/.
//
// Each *.json file there is one scenario (format: tests/scenarios/README.md): a case of one item,
// run on a simulated clock against a throw-away SQLite database, with the outcome of every step
// stated in the file. The file names the item it runs under "definition" (a path relative to the
// repository root); the item is loaded with the shipped calendars as context, exactly as
// `tongban scenario DEFINITION SCENARIO` does, and the scenario is run through the engine's
// RunScenario. There is one test per file, named after it, so a failure says which statutory rule
// stopped holding; every failed expectation is printed with its JSON pointer, followed by the
// transcript of the run.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/scenario.h"
#include "workflows/definition_set.h"
#include "workflows/diagnostics.h"
#include "workflows/json_document.h"

namespace tongban {
namespace {

namespace fs = std::filesystem;

const std::string kSourceDir = TONGBAN_SOURCE_DIR;
const std::string kScenarioDir = kSourceDir + "/tests/scenarios";
constexpr size_t kMinimumScenarios = 30;

// The scenario files (every *.json in tests/scenarios/), sorted by name.
std::vector<std::string> ScenarioFiles() {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(kScenarioDir, error)) {
    const fs::path& path = entry.path();
    if (entry.is_regular_file() && path.extension() == ".json") {
      names.push_back(path.filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Test names may hold letters, digits and '_' only: "frame-withdraw-under-review.json" becomes
// "frame_withdraw_under_review".
std::string TestName(const testing::TestParamInfo<std::string>& info) {
  std::string name = fs::path(info.param).stem().string();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

std::string ReadText(const std::string& path, bool* ok) {
  std::ifstream in(path, std::ios::binary);
  *ok = static_cast<bool>(in);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string DescribeAll(const std::vector<Diagnostic>& diagnostics) {
  std::string out;
  for (const Diagnostic& d : diagnostics)
    out += "  " + FormatDiagnostic(d) + "\n";
  return out;
}

class ScenarioTest : public testing::TestWithParam<std::string> {};

TEST_P(ScenarioTest, Passes) {
  const std::string& name = GetParam();
  const std::string path = kScenarioDir + "/" + name;

  // The scenario, read with Tongban's own strict parser (no duplicate keys).
  bool readable = false;
  const std::string text = ReadText(path, &readable);
  ASSERT_TRUE(readable) << "cannot read " << path;
  SourcePosition position;
  Result<JsonDocument> document = JsonDocument::Parse(text, &position);
  ASSERT_TRUE(document.ok()) << path << ":" << position.line << ":" << position.column << ": "
                             << document.status().message();
  const nlohmann::json& scenario = document.value().root();
  ASSERT_TRUE(scenario.is_object()) << name << ": a scenario is a JSON object";
  ASSERT_TRUE(scenario.contains("definition") && scenario["definition"].is_string())
      << name << ": \"definition\" (the item file, relative to the repository root) is required";

  // Its item, with the shipped calendars as context.
  const std::string definition = kSourceDir + "/" + scenario["definition"].get<std::string>();
  ASSERT_TRUE(fs::is_regular_file(definition))
      << name << ": the definition " << definition << " does not exist";
  DefinitionSet set;
  set.AddPath(definition, /*report=*/true);
  set.AddPath(kSourceDir + "/definitions/calendars", /*report=*/false);
  // "with": more definition files or folders the scenario needs deployed as context — the items
  // of a bundle, a delegation list, handling agreements.
  for (const auto& extra : scenario.value("with", nlohmann::json::array())) {
    ASSERT_TRUE(extra.is_string()) << name << ": \"with\" lists paths (strings)";
    const std::string extra_path = kSourceDir + "/" + extra.get<std::string>();
    ASSERT_TRUE(fs::exists(extra_path)) << name << ": " << extra_path << " does not exist";
    set.AddPath(extra_path, /*report=*/false);
  }
  set.Compile();
  ASSERT_FALSE(set.HasErrors()) << name << ": the definition does not validate:\n"
                                << DescribeAll(set.Diagnostics());
  ScenarioOptions options;
  for (const DefinitionSet::File& file : set.files()) {
    if (file.parsed) options.definitions.push_back({file.name, file.text});
  }

  Result<ScenarioResult> result = RunScenario(scenario, options);
  ASSERT_TRUE(result.ok()) << name
                           << ": the scenario cannot be run: " << result.status().ToString();
  EXPECT_GT(result->checks, 0) << name << ": the scenario checks nothing";
  for (const ScenarioFailure& failure : result->failures) {
    ADD_FAILURE() << name << ": " << failure.pointer << ": " << failure.message;
  }
  if (!result->ok()) {
    std::string transcript;
    for (const std::string& line : result->transcript)
      transcript += "    " + line + "\n";
    ADD_FAILURE() << name << " (" << result->name << "): " << result->failures.size()
                  << " failed expectation(s); transcript:\n"
                  << transcript;
  }
}

INSTANTIATE_TEST_SUITE_P(Scenarios, ScenarioTest, testing::ValuesIn(ScenarioFiles()), TestName);

TEST(ScenarioCorpus, HasEnoughScenarios) {
  ASSERT_TRUE(fs::is_directory(kScenarioDir)) << kScenarioDir << " is missing";
  EXPECT_GE(ScenarioFiles().size(), kMinimumScenarios)
      << "tests/scenarios/ should hold at least " << kMinimumScenarios << " scenario files";
}

}  // namespace
}  // namespace tongban
