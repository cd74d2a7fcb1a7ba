// `tongban scenario`, the real binary: every file reported, strict reading, exit codes.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/cli_runner.h"

namespace tongban::cli_test {
namespace {

TEST(CliScenario, TheNamedItemRunsWithTheItemsBesideItAsContext) {
  // items/ holds many items; a scenario that names no /item runs the one given on the command line.
  const std::string scenario = "tests/scenarios/long-food-licence-full-life-verify.json";
  RunResult r = Tongban("scenario definitions/items/food-business-licence.json " + scenario);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.out.find("PASS " + scenario), std::string::npos) << Describe(r);
  EXPECT_NE(r.out.find("1 passed, 0 failed"), std::string::npos) << Describe(r);
  r = Tongban("scenario --format json definitions/items/food-business-licence.json " + scenario);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  auto report = nlohmann::json::parse(r.out);
  ASSERT_EQ(report.size(), 1u);
  EXPECT_EQ(report[0]["ok"], true);
  EXPECT_GT(report[0]["checks"].get<int>(), 10);
}

// A malformed scenario file among good ones: each file is reported, the good ones still run.
const char* kEstablishment = "definitions/items/establishment-registration.json";
const char* kGoodScenario = "tests/scenarios/frame-accept-starts-clock.json";
const char* kGoodScenario2 = "tests/scenarios/frame-supply-correction.json";
const char* kWrongTypes = "tests/scenarios/broken/wrong-types.json";

// The failure of a report entry at `pointer`, or null.
const nlohmann::json* FailureAt(const nlohmann::json& entry, const std::string& pointer) {
  for (const auto& failure : entry["failures"]) {
    if (failure.value("pointer", "") == pointer) return &failure;
  }
  return nullptr;
}

TEST(CliScenario, OneMalformedScenarioAmongGoodOnesInJson) {
  RunResult r = Tongban(std::string("scenario --format json ") + kEstablishment + " " +
                        kGoodScenario + " " + kWrongTypes + " " + kGoodScenario2);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  nlohmann::json report = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(report.is_array()) << Describe(r);
  ASSERT_EQ(report.size(), 3u) << Describe(r);
  EXPECT_EQ(report[0]["file"], kGoodScenario);
  EXPECT_EQ(report[0]["ok"], true) << report[0].dump();
  EXPECT_EQ(report[0]["outcome"], "passed");
  EXPECT_GT(report[0]["checks"].get<int>(), 0);
  EXPECT_EQ(report[2]["file"], kGoodScenario2);
  EXPECT_EQ(report[2]["ok"], true) << report[2].dump();

  const nlohmann::json& broken = report[1];
  EXPECT_EQ(broken["file"], kWrongTypes);
  EXPECT_EQ(broken["ok"], false);
  EXPECT_EQ(broken["outcome"], "malformed");
  EXPECT_EQ(broken["steps"], 0);
  // Every mistake of the file, each where it is and saying what was expected.
  const std::vector<std::pair<std::string, std::string>> wanted = {
      {"/name", "\"name\" must be a string, found an integer"},
      {"/version", "\"version\" must be a whole number, found a string"},
      {"/apply/mode", "\"mode\" must be a string, found an integer"},
      {"/steps/1/do", "\"do\" must be a string, found an integer"},
      {"/steps/2/as", "\"as\" must be a string, found an integer"},
      {"/steps/2/actor", "\"actor\" must be a string, found an integer"},
      {"/steps/3/reapply", "\"reapply\" must be an object, found a string"},
      {"/steps/3/error", "\"error\" must be a string, found an integer"}};
  for (const auto& [pointer, message] : wanted) {
    const nlohmann::json* failure = FailureAt(broken, pointer);
    ASSERT_NE(failure, nullptr) << pointer << " not reported:\n" << broken.dump(2);
    EXPECT_EQ((*failure)["message"], message) << pointer;
  }
  EXPECT_EQ(broken["failures"].size(), wanted.size()) << broken.dump(2);
  const nlohmann::json* do_failure = FailureAt(broken, "/steps/1/do");
  EXPECT_EQ((*do_failure)["step"], 1);
  EXPECT_EQ((*do_failure)["line"], 9);  // {"do": 5, ...} is on line 9 of the file
  EXPECT_EQ(r.out.find("json.exception"), std::string::npos) << Describe(r);
}

TEST(CliScenario, OneMalformedScenarioAmongGoodOnesInText) {
  RunResult r = Tongban(std::string("scenario ") + kEstablishment + " " + kGoodScenario + " " +
                        kWrongTypes + " " + kGoodScenario2);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_NE(r.out.find(std::string("PASS ") + kGoodScenario), std::string::npos) << Describe(r);
  EXPECT_NE(r.out.find(std::string("PASS ") + kGoodScenario2), std::string::npos) << Describe(r);
  EXPECT_NE(r.out.find(std::string("FAIL ") + kWrongTypes + " — malformed, not run (8 problem(s))"),
            std::string::npos)
      << Describe(r);
  EXPECT_NE(r.out.find(std::string(kWrongTypes) +
                       ":9:6: error: \"do\" must be a string, found an integer [/steps/1/do]"),
            std::string::npos)
      << Describe(r);
  EXPECT_NE(r.out.find("2 passed, 1 failed\n"), std::string::npos) << Describe(r);
}

TEST(CliScenario, UnknownKeysAtEveryLevelAreReported) {
  const std::string file = "tests/scenarios/broken/unknown-keys.json";
  RunResult r = Tongban(std::string("scenario ") + kEstablishment + " " + file);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  for (const std::string& line :
       {file + ":6:3: error: unknown key \"stepz\"; did you mean \"steps\"? [/stepz]",
        file + ":8:37: error: unknown key \"expext\"; did you mean \"expect\"? [/steps/0/expext]",
        file + ":9:37: error: unknown key \"eror\"; did you mean \"error\"? [/steps/1/eror]",
        file + ":10:5: error: expected an object here, found a string [/steps/2]"}) {
    EXPECT_NE(r.out.find(line), std::string::npos) << line << "\n" << Describe(r);
  }
  EXPECT_NE(r.out.find("0 passed, 1 failed"), std::string::npos) << Describe(r);
}

TEST(CliScenario, AdvanceOutOfRangeIsReported) {
  const std::string file = "tests/scenarios/broken/advance-out-of-range.json";
  RunResult r = Tongban(std::string("scenario --format json ") + kEstablishment + " " + file);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  nlohmann::json report = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(report.is_array() && report.size() == 1) << Describe(r);
  const std::vector<std::pair<std::string, std::string>> wanted = {
      {"/steps/0/advance/days", "\"days\" must be between 0 and 36525, found -1"},
      {"/steps/1/advance/hours", "\"hours\" must be a whole number, found a number"},
      {"/steps/2/advance/minutes", "\"minutes\" must be a whole number, found a number"},
      {"/steps/3/advance/days", "\"days\" must be between 0 and 36525, found 100000000"},
      {"/steps/4/advance",
       "one step moves the clock by at most 36525 days (100 years; a working day counts as 7/5 of "
       "a day), found 36526 days"}};
  for (const auto& [pointer, message] : wanted) {
    const nlohmann::json* failure = FailureAt(report[0], pointer);
    ASSERT_NE(failure, nullptr) << pointer << " not reported:\n" << report.dump(2);
    EXPECT_EQ((*failure)["message"], message) << pointer;
  }
  EXPECT_EQ(report[0]["failures"].size(), wanted.size()) << report.dump(2);
}

TEST(CliScenario, AMissingScenarioFileIsNamedAndTheOthersStillRun) {
  const std::string missing = TempPath("-no-such-scenario.json");
  RunResult r = Tongban(std::string("scenario --format json ") + kEstablishment + " " +
                        Quote(missing) + " " + kGoodScenario);
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  nlohmann::json report = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(report.is_array() && report.size() == 2) << Describe(r);
  EXPECT_EQ(report[0]["outcome"], "not_run");
  EXPECT_EQ(report[0]["failures"][0]["message"],
            "cannot read " + missing + ": No such file or directory");
  EXPECT_EQ(report[1]["ok"], true) << report.dump(2);

  r = Tongban(std::string("scenario ") + kEstablishment + " " + Quote(missing));
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_NE(r.out.find("ERROR " + missing + " — not run\n  cannot read " + missing +
                       ": No such file or directory\n"),
            std::string::npos)
      << Describe(r);
  EXPECT_EQ(r.out.find(":0:0:"), std::string::npos) << Describe(r);
  EXPECT_NE(r.out.find("0 passed, 0 failed, 1 not run"), std::string::npos) << Describe(r);
}

TEST(CliScenario, DefinitionsWithErrorsStillListEveryScenario) {
  RunResult r = Tongban(
      "scenario --format json --with definitions/calendars "
      "tests/definitions/broken/05-wrong-type.json " +
      std::string(kGoodScenario) + " " + kWrongTypes);
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_NE(r.err.find("05-wrong-type.json"), std::string::npos) << Describe(r);
  nlohmann::json report = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(report.is_array() && report.size() == 2) << Describe(r);
  EXPECT_EQ(report[0]["outcome"], "not_run");
  EXPECT_EQ(report[0]["failures"][0]["message"], "not run: the definitions have errors");
  // A malformed scenario is still said to be malformed: its check needs no definition.
  EXPECT_EQ(report[1]["outcome"], "malformed");
}

TEST(CliScenario, UnknownFormatIsAUsageError) {
  RunResult r =
      Tongban(std::string("scenario --format xml ") + kEstablishment + " " + kGoodScenario);
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("--format must be text or json"), std::string::npos) << Describe(r);
  EXPECT_EQ(r.out, "") << Describe(r);
}

}  // namespace
}  // namespace tongban::cli_test
