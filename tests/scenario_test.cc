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
#include <ostream>
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

// --- the strict reader
// -----------------------------------------------------------------------------

// A scenario that is right but for the mistake a test puts in; the reader refuses it before any
// definition is deployed, so these tests need none.
nlohmann::json WellFormed() {
  return nlohmann::json::parse(R"({
    "name": "well formed",
    "start": "2026-03-02T09:00:00+08:00",
    "apply": {"as": "applicant", "form": {}, "materials": []},
    "steps": [{"advance": {"days": 1}, "do": "accept", "as": "clerk",
               "expect": {"status": "under_review"}}]
  })");
}

struct Mistake {
  const char* what;
  const char* patch;    // a JSON merge patch (RFC 7386) applied to WellFormed()
  const char* pointer;  // where the problem must be reported
  const char* message;  // what must be said there
};

std::ostream& operator<<(std::ostream& out, const Mistake& m) {
  return out << m.what;
}

const Mistake kMistakes[] = {
    // 1. unknown keys at every level, with "did you mean"; a step that is not an object
    {"unknown top-level key", R"({"stepz": []})", "/stepz",
     "unknown key \"stepz\"; did you mean \"steps\"?"},
    {"unknown step key", R"({"steps": [{"do": "accept", "as": "clerk", "expext": {}}]})",
     "/steps/0/expext", "unknown key \"expext\"; did you mean \"expect\"?"},
    {"unknown step key next to do", R"({"steps": [{"do": "accept", "eror": "not_found"}]})",
     "/steps/0/eror", "unknown key \"eror\"; did you mean \"error\"?"},
    {"unknown apply key", R"({"apply": {"materails": []}})", "/apply/materails",
     "did you mean \"materials\"?"},
    {"unknown advance key", R"({"steps": [{"advance": {"day": 1}}]})", "/steps/0/advance/day",
     "did you mean \"days\"?"},
    {"unknown reapply key", R"({"steps": [{"reapply": {"expect": {}}}]})",
     "/steps/0/reapply/expect", "unknown key \"expect\""},
    {"a step that is a string", R"({"steps": ["accept"]})", "/steps/0",
     "expected an object here, found a string"},
    // 2. wrong types: where, and what was expected
    {"do as a number", R"({"steps": [{"do": 5}]})", "/steps/0/do",
     "\"do\" must be a string, found an integer"},
    {"name as a number", R"({"name": 5})", "/name", "\"name\" must be a string, found an integer"},
    {"as as a number", R"({"steps": [{"do": "accept", "as": 5}]})", "/steps/0/as",
     "\"as\" must be a string, found an integer"},
    {"actor as a boolean", R"({"steps": [{"do": "accept", "actor": true}]})", "/steps/0/actor",
     "\"actor\" must be a string, found a boolean"},
    {"error as a number", R"({"steps": [{"do": "accept", "error": 3}]})", "/steps/0/error",
     "\"error\" must be a string, found an integer"},
    {"mode as a number", R"({"apply": {"mode": 1}})", "/apply/mode",
     "\"mode\" must be a string, found an integer"},
    {"version as a string", R"({"version": "2"})", "/version",
     "\"version\" must be a whole number, found a string"},
    {"start as a number", R"({"start": 20260302})", "/start",
     "\"start\" must be a string, found an integer"},
    {"start not a timestamp", R"({"start": "2026-03-02"})", "/start",
     "\"start\" must be a timestamp like 2026-03-02T09:00:00+08:00, found \"2026-03-02\""},
    {"no start", R"({"start": null})", "/", "missing required key \"start\""},
    {"at not a timestamp", R"({"steps": [{"at": "tomorrow"}]})", "/steps/0/at",
     "must be a timestamp like"},
    {"apply as an array", R"({"apply": []})", "/apply",
     "\"apply\" must be an object, found an array"},
    {"reapply as a string", R"({"steps": [{"reapply": "x"}]})", "/steps/0/reapply",
     "\"reapply\" must be an object, found a string"},
    {"steps as an object", R"({"steps": {"do": "accept"}})", "/steps",
     "\"steps\" must be an array, found an object"},
    {"data as a string", R"({"steps": [{"do": "refuse", "as": "clerk", "data": "no"}]})",
     "/steps/0/data", "\"data\" must be an object, found a string"},
    {"with holds a number", R"({"with": ["definitions/items", 7]})", "/with/1",
     "each of \"with\" must be a string, found an integer"},
    {"unknown error code", R"({"steps": [{"do": "accept", "error": "failed_precondtion"}]})",
     "/steps/0/error", "(did you mean \"failed_precondition\"?)"},
    // 3. advance: whole, not negative, at most 100 years in one step
    {"negative advance", R"({"steps": [{"advance": {"days": -1}}]})", "/steps/0/advance/days",
     "\"days\" must be between 0 and 36525, found -1"},
    {"fractional advance", R"({"steps": [{"advance": {"hours": 1.5}}]})", "/steps/0/advance/hours",
     "\"hours\" must be a whole number, found a number"},
    {"advance beyond any integer", R"({"steps": [{"advance": {"minutes": 1e30}}]})",
     "/steps/0/advance/minutes", "\"minutes\" must be a whole number, found a number"},
    {"advance by 100,000,000 days", R"({"steps": [{"advance": {"days": 100000000}}]})",
     "/steps/0/advance/days", "\"days\" must be between 0 and 36525, found 100000000"},
    {"advance over 100 years in total", R"({"steps": [{"advance": {"days": 36525, "hours": 24}}]})",
     "/steps/0/advance", "one step moves the clock by at most 36525 days"},
    {"working days over 100 years", R"({"steps": [{"advance": {"working_days": 30000}}]})",
     "/steps/0/advance/working_days", "\"working_days\" must be between 0 and 26089"},
    // keys that would be ignored where they stand
    {"error_contains without error",
     R"({"steps": [{"do": "accept", "as": "clerk", "error_contains": "x"}]})",
     "/steps/0/error_contains", "\"error_contains\" needs \"error\""},
    {"as without do", R"({"steps": [{"as": "clerk", "expect": {}}]})", "/steps/0/as",
     "\"as\" is for a step that takes an action"},
    {"error without an action", R"({"steps": [{"error": "not_found"}]})", "/steps/0/error",
     "\"error\" is for a step with \"do\" or \"reapply\""},
    {"do and reapply together", R"({"steps": [{"do": "accept", "reapply": {}}]})",
     "/steps/0/reapply", "not both"},
    {"organ for the applicant", R"({"steps": [{"do": "withdraw", "organ": "x"}]})",
     "/steps/0/organ", "the applicant acts without one"},
    {"two register changes",
     R"({"steps": [{"registers": {"repair_credit": true, "revoke_delegation": "d"}}]})",
     "/steps/0/registers", "exactly one change"},
    {"item and bundle", R"({"item": "a", "bundle": "b"})", "/bundle", "not both"},
};

class ScenarioMistakeTest : public testing::TestWithParam<Mistake> {};

TEST_P(ScenarioMistakeTest, IsRefusedWithItsPointer) {
  const Mistake& mistake = GetParam();
  nlohmann::json scenario = WellFormed();
  scenario.merge_patch(nlohmann::json::parse(mistake.patch));

  DiagnosticSink sink("scenario.json", nullptr);
  CheckScenario(scenario, &sink);
  ASSERT_TRUE(sink.has_errors()) << "no problem reported for: " << scenario.dump();
  bool found = false;
  for (const Diagnostic& d : sink.diagnostics()) {
    found = found || ((d.pointer.empty() ? "/" : d.pointer) == std::string(mistake.pointer) &&
                      d.message.find(mistake.message) != std::string::npos);
  }
  EXPECT_TRUE(found) << "expected at " << mistake.pointer << ": " << mistake.message
                     << "\nreported:\n"
                     << DescribeAll(sink.diagnostics());

  // RunScenario refuses it the same way, before it deploys anything, naming the pointer.
  Result<ScenarioResult> result = RunScenario(scenario, ScenarioOptions{});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  const std::string& message = result.status().message();
  EXPECT_EQ(message.rfind("the scenario is malformed: ", 0), 0u) << message;
  EXPECT_NE(message.find(std::string(mistake.pointer) + ": "), std::string::npos) << message;
  EXPECT_EQ(message.find("json.exception"), std::string::npos) << message;
}

INSTANTIATE_TEST_SUITE_P(Mistakes, ScenarioMistakeTest, testing::ValuesIn(kMistakes),
                         [](const testing::TestParamInfo<Mistake>& info) {
                           std::string name = info.param.what;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

TEST(ScenarioReader, TheWellFormedBaseIsAccepted) {
  // Otherwise every mistake above would be found for the wrong reason.
  DiagnosticSink sink("scenario.json", nullptr);
  CheckScenario(WellFormed(), &sink);
  EXPECT_FALSE(sink.has_errors()) << DescribeAll(sink.diagnostics());
}

TEST(ScenarioReader, AHundredYearsInOneStepIsAllowed) {
  nlohmann::json scenario = WellFormed();
  scenario["steps"] = nlohmann::json::parse(
      R"([{"advance": {"days": 36524, "hours": 23, "minutes": 60}},
          {"advance": {"working_days": 26089}}])");
  DiagnosticSink sink("scenario.json", nullptr);
  CheckScenario(scenario, &sink);
  EXPECT_FALSE(sink.has_errors()) << DescribeAll(sink.diagnostics());
}

TEST(ScenarioReader, EveryMistakeOfAFileIsReportedAtItsLine) {
  const std::string text =
      "{\"start\": \"2026-03-02T09:00:00+08:00\",\n"
      " \"steps\": [\n"
      "  {\"do\": 5},\n"
      "  {\"advance\": {\"days\": -2}}]}\n";
  Result<JsonDocument> document = JsonDocument::Parse(text);
  ASSERT_TRUE(document.ok()) << document.status().ToString();
  DiagnosticSink sink("f.json", &document.value());
  CheckScenario(document->root(), &sink);
  ASSERT_EQ(sink.diagnostics().size(), 2u) << DescribeAll(sink.diagnostics());
  EXPECT_EQ(sink.diagnostics()[0].pointer, "/steps/0/do");
  EXPECT_EQ(sink.diagnostics()[0].position.line, 3);
  EXPECT_EQ(sink.diagnostics()[1].pointer, "/steps/1/advance/days");
  EXPECT_EQ(sink.diagnostics()[1].position.line, 4);
  EXPECT_EQ(FormatDiagnostic(sink.diagnostics()[0]).rfind("f.json:3:", 0), 0u)
      << FormatDiagnostic(sink.diagnostics()[0]);
}

// The shipped establishment-registration item and the calendars, as the corpus test loads them.
ScenarioOptions EstablishmentRegistration() {
  DefinitionSet set;
  set.AddPath(kSourceDir + "/definitions/items/establishment-registration.json", true);
  set.AddPath(kSourceDir + "/definitions/calendars", false);
  set.Compile();
  EXPECT_FALSE(set.HasErrors()) << DescribeAll(set.Diagnostics());
  ScenarioOptions options;
  for (const DefinitionSet::File& file : set.files()) {
    if (file.parsed) options.definitions.push_back({file.name, file.text});
  }
  return options;
}

nlohmann::json EstablishmentScenario(const nlohmann::json& steps) {
  nlohmann::json scenario = nlohmann::json::parse(R"({
    "name": "establishment",
    "start": "2026-03-02T09:00:00+08:00",
    "apply": {"form": {"enterprise_name": "示例科技有限公司", "enterprise_type": "有限责任公司",
                       "residence": "开发区创新大道8号", "legal_representative": "李四",
                       "business_scope": "软件开发", "requires_pre_approval": false},
              "materials": ["application_form", "articles", "investor_documents",
                            "officer_documents", "residence_document"]}
  })");
  scenario["steps"] = steps;
  return scenario;
}

TEST(ScenarioRunner, AnExpectedErrorThatDoesNotComeIsNotShownAsARefusal) {
  // The accept succeeds: the transcript says so, and the failure says what was expected.
  Result<ScenarioResult> result =
      RunScenario(EstablishmentScenario(nlohmann::json::parse(
                      R"([{"do": "accept", "as": "clerk", "error": "failed_precondition"}])")),
                  EstablishmentRegistration());
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->failures.size(), 1u);
  EXPECT_EQ(result->failures[0].pointer, "/steps/0/error");
  EXPECT_NE(result->failures[0].message.find("but the action succeeded"), std::string::npos)
      << result->failures[0].message;
  ASSERT_EQ(result->transcript.size(), 2u);
  const std::string& line = result->transcript[1];
  EXPECT_EQ(line.find("refused"), std::string::npos) << line;
  EXPECT_NE(line.find("clerk accept -> under_review"), std::string::npos) << line;
  EXPECT_NE(line.find("(expected failed_precondition)"), std::string::npos) << line;
}

TEST(ScenarioRunner, AnExpectedRefusalIsShownWithItsCode) {
  Result<ScenarioResult> result = RunScenario(
      EstablishmentScenario(nlohmann::json::parse(
          R"([{"do": "withdraw", "actor": "someone-else", "error": "permission_denied"}])")),
      EstablishmentRegistration());
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(result->ok()) << (result->failures.empty() ? "" : result->failures[0].message);
  ASSERT_EQ(result->transcript.size(), 2u);
  EXPECT_NE(result->transcript[1].find("applicant withdraw -> refused (permission_denied)"),
            std::string::npos)
      << result->transcript[1];
}

TEST(ScenarioRunner, TheClockStopsAtTheLastYearATimestampCanName) {
  // Each step's move is bounded; a start near the end of the range passes 9999 within them.
  nlohmann::json scenario = EstablishmentScenario(
      {{{"advance", {{"days", 10000}}}}, {{"advance", {{"days", kMaxAdvanceDays - 10000}}}}});
  scenario["start"] = "9950-03-02T09:00:00+08:00";
  Result<ScenarioResult> result = RunScenario(scenario, EstablishmentRegistration());
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  // 9950 + 27 years is 9977; the second step passes 9999.
  EXPECT_NE(result.status().message().find("/steps/1: the clock would pass 9999-12-31"),
            std::string::npos)
      << result.status().message();
}

// Nor do `at` jumps or many moves together take the clock further than 100 years from the start:
// a case's clock counts working days one by one over its life, and the fuzzer found a start in
// 1013 followed by an `at` in 2026 taking seconds per step.
TEST(ScenarioRunner, TheClockStaysWithinAHundredYearsOfTheStart) {
  Result<ScenarioResult> result =
      RunScenario(EstablishmentScenario(
                      {{{"advance", {{"days", kMaxAdvanceDays}}}}, {{"advance", {{"days", 1}}}}}),
                  EstablishmentRegistration());
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find(
                "/steps/1: the clock would be more than 36525 days (100 years) from the "
                "scenario's start"),
            std::string::npos)
      << result.status().message();
  nlohmann::json jump = EstablishmentScenario({{{"at", "2026-06-19T10:00:00+08:00"}}});
  jump["start"] = "1013-06-18T09:00:00+08:00";
  result = RunScenario(jump, EstablishmentRegistration());
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("/steps/0: the clock would be more than"),
            std::string::npos)
      << result.status().message();
  // Exactly 100 years on is allowed.
  result = RunScenario(EstablishmentScenario({{{"advance", {{"days", kMaxAdvanceDays}}}}}),
                       EstablishmentRegistration());
  EXPECT_TRUE(result.ok()) << result.status().ToString();
}

TEST(ScenarioCorpus, HasEnoughScenarios) {
  ASSERT_TRUE(fs::is_directory(kScenarioDir)) << kScenarioDir << " is missing";
  EXPECT_GE(ScenarioFiles().size(), kMinimumScenarios)
      << "tests/scenarios/ should hold at least " << kMinimumScenarios << " scenario files";
}

}  // namespace
}  // namespace tongban
