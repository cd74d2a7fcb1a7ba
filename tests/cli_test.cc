// End-to-end tests of the `tongban` command line: the real binary, run from the repository root as
// a modeller or a CI job would run it, checked on its exit codes and its output.
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workflows/sha256.h"

namespace {

namespace fs = std::filesystem;

const std::string kBinary = TONGBAN_BINARY;
const std::string kSourceDir = TONGBAN_SOURCE_DIR;

// Single-quotes a word for /bin/sh.
std::string Quote(const std::string& word) {
  std::string out = "'";
  for (char c : word) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

// A file name under the test's temporary directory, unique within this process.
std::string TempPath(const std::string& suffix) {
  static std::atomic<int> counter{0};
  return (fs::path(testing::TempDir()) / ("tongban_cli_test_" + std::to_string(getpid()) + "_" +
                                          std::to_string(counter++) + suffix))
      .string();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

struct RunResult {
  int exit_code = -1;
  std::string out;  // standard output
  std::string err;  // standard error
};

// Runs a shell command in the repository root; captures its exit code, stdout and stderr.
RunResult RunShell(const std::string& command) {
  RunResult result;
  std::string err_path = TempPath(".stderr");
  std::string full = "cd " + Quote(kSourceDir) + " && " + command + " 2>" + Quote(err_path);
  FILE* pipe = popen(full.c_str(), "r");
  if (pipe == nullptr) {
    ADD_FAILURE() << "popen failed for: " << full;
    return result;
  }
  char buffer[4096];
  size_t n;
  while ((n = fread(buffer, 1, sizeof buffer, pipe)) > 0)
    result.out.append(buffer, n);
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.err = ReadFile(err_path);
  std::remove(err_path.c_str());
  return result;
}

// Runs `tongban ARGS` (ARGS already quoted where needed) in the repository root.
RunResult Tongban(const std::string& args) {
  return RunShell(Quote(kBinary) + " " + args);
}

std::string Describe(const RunResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\n--- stdout ---\n" + r.out + "--- stderr ---\n" +
         r.err;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

bool HasLine(const std::string& text, const std::string& line) {
  std::vector<std::string> lines = Lines(text);
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

std::vector<std::string> JsonFilesIn(const std::string& relative_dir) {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(kSourceDir + "/" + relative_dir)) {
    if (entry.is_regular_file() && entry.path().extension() == ".json" &&
        entry.path().filename() != "expected.json") {
      files.push_back(relative_dir + "/" + entry.path().filename().string());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

nlohmann::json ReadExpected(const std::string& corpus) {
  return nlohmann::json::parse(
      ReadFile(kSourceDir + "/tests/definitions/" + corpus + "/expected.json"));
}

const char* kBrokenStep = "tests/definitions/broken/11-unknown-step-in-to.json";

// --- validate ------------------------------------------------------------------------------------

TEST(CliValidate, ShippedDefinitionsAreValid) {
  RunResult r = Tongban("validate definitions/");
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.out.find("0 error(s)"), std::string::npos) << Describe(r);
}

// A folder without definitions checks nothing, and says so instead of passing.
TEST(CliValidate, AFolderWithoutDefinitionsIsAUsageError) {
  std::string empty = TempPath("-empty");
  fs::create_directories(empty);
  RunResult r = Tongban("validate " + Quote(empty));
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("no *.json definition files in " + empty), std::string::npos) << Describe(r);
  r = Tongban("validate --format json " + Quote(empty));
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_EQ(r.out, "") << Describe(r);
  fs::remove_all(empty);
}

TEST(CliValidate, ShippedItemValidatesAloneWithItsCalendars) {
  // The calendars/ folder next to items/ is found without --with.
  RunResult r = Tongban("validate definitions/items/food-business-licence.json");
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
}

TEST(CliValidate, BrokenFileExitsOneWithFileLineColumnAndPointer) {
  RunResult r = Tongban(std::string("validate --with definitions/calendars ") + kBrokenStep);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_TRUE(HasLine(r.out, std::string(kBrokenStep) +
                                 ":39:11: error: unknown step \"decied\"; did you mean \"decide\"? "
                                 "[/steps/0/actions/pass/to]"))
      << Describe(r);
  EXPECT_TRUE(HasLine(r.out, "1 file(s) checked: 1 error(s), 0 warning(s)")) << Describe(r);
}

TEST(CliValidate, JsonSyntaxErrorIsLocated) {
  RunResult r =
      Tongban("validate --with definitions/calendars tests/definitions/broken/01-json-syntax.json");
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_TRUE(HasLine(r.out,
                      "tests/definitions/broken/01-json-syntax.json:6:3: error: invalid JSON: "
                      "expected ',' or '}' in an object, found '\"' [/]"))
      << Describe(r);
}

// Every located diagnostic of the broken corpus, as the modeller sees it on the terminal:
// "file:line:column: error: message [pointer]".
TEST(CliValidate, EveryBrokenFileIsReportedInCompilerFormat) {
  std::vector<std::string> files = JsonFilesIn("tests/definitions/broken");
  ASSERT_FALSE(files.empty());
  std::string args =
      "validate --with definitions/calendars --with definitions/items --with "
      "definitions/delegations";
  for (const std::string& f : files)
    args += " " + Quote(f);
  RunResult r = Tongban(args);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  nlohmann::json expected = ReadExpected("broken");
  std::vector<std::string> lines = Lines(r.out);
  for (const std::string& f : files) {
    std::string name = fs::path(f).filename().string();
    if (!expected.contains(name)) continue;  // reported by BrokenFilesAndExpectationsAgree
    for (const nlohmann::json& e : expected[name]) {
      std::string prefix = f + ":";
      if (e.contains("line")) {
        prefix += std::to_string(e["line"].get<int>()) + ":";
        if (e.contains("column")) prefix += std::to_string(e["column"].get<int>()) + ": error: ";
      }
      std::string pointer = e["pointer"].get<std::string>();
      std::string suffix = " [" + (pointer.empty() ? std::string("/") : pointer) + "]";
      std::string phrase = e["message_contains"].get<std::string>();
      bool found = std::any_of(lines.begin(), lines.end(), [&](const std::string& line) {
        return line.rfind(prefix, 0) == 0 && line.size() >= suffix.size() &&
               line.compare(line.size() - suffix.size(), suffix.size(), suffix) == 0 &&
               line.find(": error: ") != std::string::npos &&
               line.find(phrase) != std::string::npos;
      });
      EXPECT_TRUE(found) << "no line \"" << prefix << "…" << phrase << "…" << suffix << "\"\n"
                         << Describe(r);
    }
  }
}

TEST(CliValidate, WarningsAloneStillExitZero) {
  std::string args =
      "validate --with definitions/calendars --with definitions/items --with "
      "definitions/delegations";
  std::vector<std::string> files = JsonFilesIn("tests/definitions/warnings");
  ASSERT_FALSE(files.empty());
  for (const std::string& f : files)
    args += " " + Quote(f);
  RunResult r = Tongban(args);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.out.find(": warning: "), std::string::npos) << Describe(r);
  EXPECT_EQ(r.out.find(": error: "), std::string::npos) << Describe(r);
}

// A modeller's file typed with a Chinese input method left on, under a name that is not UTF-8 (a
// name made on another system): the JSON output still comes out whole, the name's stray byte as
// U+FFFD, the message naming the full-width comma and the comma JSON needs.
TEST(CliValidate, JsonFormatOfAFileWhoseNameIsNotUtf8) {
  const std::string dir = TempPath("_dir");
  fs::create_directories(dir);
  const std::string file = dir + "/broken-\xFF.json";
  fs::copy_file(kSourceDir + "/tests/definitions/broken/82-json-full-width-comma.json", file);
  RunResult r = Tongban("validate --format json --with definitions/calendars " + Quote(file));
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  nlohmann::json out = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(out.is_discarded()) << "not JSON:\n" << Describe(r);
  ASSERT_EQ(out.value("errors", 0), 1) << Describe(r);
  const nlohmann::json& d = out["diagnostics"][0];
  EXPECT_EQ(d.value("file", ""), dir + "/broken-\xEF\xBF\xBD.json") << Describe(r);
  EXPECT_EQ(d.value("line", 0), 5);
  EXPECT_EQ(d.value("column", 0), 20);
  EXPECT_NE(d.value("message", "").find("found '\xEF\xBC\x8C' (U+FF0C: JSON needs the ASCII ','"),
            std::string::npos)
      << Describe(r);
  // In text, the name is printed as it is: a terminal shows what the file system holds.
  r = Tongban("validate --with definitions/calendars " + Quote(file));
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(r.out.rfind(file + ":5:20: error: invalid JSON: expected ',' or '}' in an object", 0),
            0u)
      << Describe(r);
  std::error_code ignored;
  fs::remove_all(dir, ignored);
}

TEST(CliValidate, JsonFormatOfABrokenFile) {
  RunResult r =
      Tongban(std::string("validate --format json --with definitions/calendars ") + kBrokenStep);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  nlohmann::json out = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(out.is_discarded()) << "not JSON:\n" << Describe(r);
  ASSERT_TRUE(out.is_object()) << Describe(r);
  EXPECT_EQ(out.value("valid", true), false);
  EXPECT_EQ(out.value("files", 0), 1);
  EXPECT_EQ(out.value("errors", 0), 1);
  ASSERT_TRUE(out.contains("diagnostics") && out["diagnostics"].is_array()) << Describe(r);
  ASSERT_EQ(out["diagnostics"].size(), 1u) << Describe(r);
  for (const nlohmann::json& d : out["diagnostics"]) {
    for (const char* key : {"severity", "file", "pointer", "code", "message"}) {
      EXPECT_TRUE(d.contains(key) && d[key].is_string()) << key << " in " << d.dump();
    }
    for (const char* key : {"line", "column"}) {
      EXPECT_TRUE(d.contains(key) && d[key].is_number_integer()) << key << " in " << d.dump();
    }
  }
  const nlohmann::json& d = out["diagnostics"][0];
  EXPECT_EQ(d.value("severity", ""), "error");
  EXPECT_EQ(d.value("file", ""), kBrokenStep);
  EXPECT_EQ(d.value("pointer", ""), "/steps/0/actions/pass/to");
  EXPECT_EQ(d.value("code", ""), "unknown-step");
  EXPECT_EQ(d.value("line", 0), 39);
  EXPECT_EQ(d.value("column", 0), 11);
}

// A copy of the shipped calendars, items and delegations, with a bundle and an agreements list in
// folders of their own beside them: the layout a bureau keeps its definitions in.
class DefinitionsCopy {
 public:
  DefinitionsCopy() : root_(TempPath("-definitions")) {
    fs::create_directories(root_);
    for (const char* folder : {"calendars", "items", "delegations"}) {
      fs::copy(kSourceDir + "/definitions/" + folder, root_ / folder, fs::copy_options::recursive);
    }
    fs::create_directories(root_ / "bundles");
    fs::create_directories(root_ / "agreements");
    // The warnings corpus holds a valid bundle over the shipped items (with two warnings).
    fs::copy(kSourceDir + "/tests/definitions/warnings/04-bundle-optional-and-unused-fields.json",
             root_ / "bundles" / "startup.json");
    std::ofstream(root_ / "agreements" / "remote.json") << R"({
      "kind": "handling_agreements", "id": "remote", "version": 1, "title": "跨区通办",
      "agreements": [{"id": "seal-remote",
        "receiving_organ": {"id": "sh-service-centre", "name": "××市政务服务中心"},
        "handling_organ": {"id": "dz-approval-bureau", "name": "××开发区行政审批局"},
        "items": ["seal-engraving-filing"], "legal_basis": [{"citation": "《合作协议》"}],
        "effective_from": "2026-01-01"}]})";
  }
  ~DefinitionsCopy() {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }
  std::string Path(const std::string& relative) const { return (root_ / relative).string(); }

 private:
  fs::path root_;
};

TEST(CliValidate, BundleAndAgreementsValidateAloneWithTheirSiblingFolders) {
  DefinitionsCopy copy;
  // items/ and delegations/ beside bundles/ and agreements/ are found without --with; the
  // agreement holds only because the shipped delegation list grants the bureau "accept".
  RunResult r = Tongban("validate " + Quote(copy.Path("bundles/startup.json")) + " " +
                        Quote(copy.Path("agreements/remote.json")));
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE(HasLine(r.out, "2 file(s) checked: 0 error(s), 2 warning(s)")) << Describe(r);

  fs::remove_all(copy.Path("delegations"));
  r = Tongban("validate " + Quote(copy.Path("agreements/remote.json")));
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_NE(r.out.find("handling organ \"dz-approval-bureau\" cannot accept item "
                       "\"seal-engraving-filing\""),
            std::string::npos)
      << Describe(r);
  fs::remove_all(copy.Path("items"));
  r = Tongban("validate " + Quote(copy.Path("bundles/startup.json")));
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_NE(r.out.find("unknown item \"establishment-registration\""), std::string::npos)
      << Describe(r);
}

TEST(CliValidate, AFileIsNotAlsoLoadedAsContext) {
  // items/ is context for an item in it, but the item itself is checked once, as reported.
  RunResult r = Tongban("validate definitions/items/seal-engraving-filing.json");
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_TRUE(HasLine(r.out, "1 file(s) checked: 0 error(s), 0 warning(s)")) << Describe(r);
}

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

TEST(CliValidate, JsonFormatOfValidDefinitions) {
  RunResult r = Tongban("validate --format json definitions/");
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  nlohmann::json out = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(out.is_discarded()) << "not JSON:\n" << Describe(r);
  EXPECT_EQ(out.value("valid", false), true);
  EXPECT_EQ(out.value("errors", -1), 0);
  EXPECT_GE(out.value("files", 0), 6);
}

// --- usage
// ----------------------------------------------------------------------------------------

TEST(CliUsage, NoArgumentsExitsTwo) {
  RunResult r = Tongban("");
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("usage: tongban"), std::string::npos) << Describe(r);
}

TEST(CliUsage, ValidateWithoutFilesExitsTwo) {
  RunResult r = Tongban("validate");
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("no definition files given"), std::string::npos) << Describe(r);
}

TEST(CliUsage, UnknownCommandExitsTwo) {
  RunResult r = Tongban("frobnicate");
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("unknown command 'frobnicate'"), std::string::npos) << Describe(r);
}

TEST(CliUsage, UnknownOptionExitsTwo) {
  for (const std::string command : {"validate", "graph", "bench"}) {
    SCOPED_TRACE(command);
    RunResult r = Tongban(command + " --no-such-option definitions/");
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_NE(r.err.find("unknown option --no-such-option"), std::string::npos) << Describe(r);
  }
}

TEST(CliUsage, BadFormatExitsTwo) {
  EXPECT_EQ(Tongban("validate --format xml definitions/").exit_code, 2);
  EXPECT_EQ(Tongban("graph --format svg definitions/items/seal-engraving-filing.json").exit_code,
            2);
}

TEST(CliUsage, HelpExitsZero) {
  for (const std::string command : {"validate", "graph", "bench"}) {
    SCOPED_TRACE(command);
    RunResult r = Tongban(command + " --help");
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    EXPECT_NE(r.out.find("usage: tongban " + command), std::string::npos) << Describe(r);
  }
  RunResult r = Tongban("--help");
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.out.find("usage: tongban COMMAND"), std::string::npos) << Describe(r);
}

// --- serve and token: the roles principals hold
// ----------------------------------------------------------------------------------------

// A copy of the demo principals with one more staff principal, holding `role`, at the end;
// returns its path and sets `index` to the new principal's index.
std::string DemoPrincipalsWith(const std::string& role, size_t* index) {
  nlohmann::json doc =
      nlohmann::json::parse(ReadFile(kSourceDir + "/definitions/principals/demo.json"));
  doc["demo"] = false;
  *index = doc["principals"].size();
  doc["principals"].push_back({{"id", "surveyor-test"},
                               {"name", "测绘人员"},
                               {"roles", {role}},
                               {"organ", "dz-approval-bureau"},
                               {"token_sha256", tongban::Sha256Hex("test-surveyor-token")}});
  std::string path = TempPath("-principals.json");
  std::ofstream(path) << doc.dump(2);
  return path;
}

// A definitions folder with the shipped calendars and one item declaring the role "surveyor".
std::string DefinitionsDeclaringSurveyor() {
  std::string dir = TempPath("-definitions");
  fs::create_directories(dir + "/calendars");
  fs::create_directories(dir + "/items");
  fs::copy_file(kSourceDir + "/definitions/calendars/cn-mainland.json",
                dir + "/calendars/cn-mainland.json");
  nlohmann::json item =
      nlohmann::json::parse(ReadFile(kSourceDir + "/definitions/items/seal-engraving-filing.json"));
  item["id"] = "survey-filing";
  item["roles"] = {{{"id", "surveyor"}, {"title", "测绘人员"}}};
  item["steps"][0]["role"] = "surveyor";
  std::ofstream(dir + "/items/survey-filing.json") << item.dump(2);
  return dir;
}

// The server refuses, before it listens, a principal holding a role that no deployed item
// declares, in the compiler format with the principal's pointer. (`timeout` only keeps a server
// that wrongly started from hanging the suite.)
TEST(CliServe, RefusesARoleNothingDeployedDeclares) {
  size_t index = 0;
  std::string principals = DemoPrincipalsWith("surveyor", &index);
  std::string db = TempPath(".db");
  RunResult r = RunShell("timeout 120 " + Quote(kBinary) + " serve --db " + Quote(db) +
                         " --definitions definitions --principals " + Quote(principals) +
                         " --listen 127.0.0.1:0");
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_EQ(r.out.find("listening on"), std::string::npos) << Describe(r);
  std::regex line(std::regex_replace(principals, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") +
                  R"(:\d+:\d+: error: unknown role "surveyor": neither built in nor declared by a )"
                  R"(deployed item \[/principals/)" +
                  std::to_string(index) + R"(/roles/0\])");
  EXPECT_TRUE(std::regex_search(r.err, line)) << Describe(r);
  // A close miss of an item-declared role gets a suggestion.
  principals = DemoPrincipalsWith("inspectr", &index);
  r = RunShell("timeout 120 " + Quote(kBinary) + " serve --db " + Quote(db) +
               " --definitions definitions --principals " + Quote(principals) +
               " --listen 127.0.0.1:0");
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_NE(
      r.err.find("did you mean \"inspector\"? [/principals/" + std::to_string(index) + "/roles/0]"),
      std::string::npos)
      << Describe(r);
  for (const char* suffix : {"", "-wal", "-shm"})
    std::remove((db + suffix).c_str());
}

// --- a database file that is missing, or that may not be written, at start

TEST(CliDatabase, VerifyOfAMissingFileExitsThreeAndCreatesNothing) {
  std::string db = TempPath(".db");
  RunResult r = Tongban("verify --db " + Quote(db));
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_NE(r.err.find("tongban verify: no database file " + db), std::string::npos) << Describe(r);
  EXPECT_FALSE(fs::exists(db));
}

TEST(CliDatabase, ServeInAMissingDirectoryExitsThreeBeforeListening) {
  std::string db = TempPath("-no-such-dir") + "/tongban.db";
  RunResult r = RunShell("timeout 120 " + Quote(kBinary) + " serve --db " + Quote(db) +
                         " --definitions definitions --listen 127.0.0.1:0");
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_EQ(r.out.find("listening on"), std::string::npos) << Describe(r);
  EXPECT_NE(r.err.find("tongban serve: cannot open database " + db), std::string::npos)
      << Describe(r);
}

// A file the server may not write: refused at start (SQLite would open it read-only without a
// word, and every write would fail). Root may write any file, so
// as root the binary runs as nobody (setpriv).
TEST(CliDatabase, ServeRefusesAReadOnlyFile) {
  std::string dir = TempPath("-ro");
  fs::create_directories(dir);
  std::string db = dir + "/tongban.db";
  fs::copy_file(kSourceDir + "/engine/testdata/store-v2.db", db);
  fs::permissions(db, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                           fs::perms::others_read | fs::perms::others_exec);
  std::string as = "";
  if (geteuid() == 0) {
    if (std::system("command -v setpriv >/dev/null 2>&1") != 0) GTEST_SKIP() << "root, no setpriv";
    as = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
  }
  RunResult r = RunShell("timeout 120 " + as + Quote(kBinary) + " serve --db " + Quote(db) +
                         " --definitions definitions --listen 127.0.0.1:0");
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_EQ(r.out.find("listening on"), std::string::npos) << Describe(r);
  EXPECT_NE(r.err.find("tongban serve: the database file " + db + " is read-only"),
            std::string::npos)
      << Describe(r);
  // verify opens it read-only, but a WAL file in a directory it may not write cannot be read
  // (SQLite needs the -shm file): it says so and exits 3, and does not touch the file.
  RunResult verified = RunShell(as + Quote(kBinary) + " verify --db " + Quote(db));
  EXPECT_EQ(verified.exit_code, 3) << Describe(verified);
  EXPECT_NE(verified.err.find(db), std::string::npos) << Describe(verified);
  EXPECT_NE(verified.err.find("readonly"), std::string::npos) << Describe(verified);
  fs::remove_all(dir);
}

TEST(CliToken, AgreesWithServeOnRoles) {
  RunResult r = Tongban("token --id inspector-2 --role inspector --organ dz-approval-bureau");
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.out.find(R"("roles":["inspector"])"), std::string::npos) << Describe(r);
  r = Tongban("token --id surveyor-1 --role surveyor --organ dz-approval-bureau");
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find(R"(unknown role "surveyor": neither built in nor declared by an item in )"
                       R"(definitions)"),
            std::string::npos)
      << Describe(r);
  EXPECT_EQ(r.out.find("token:"), std::string::npos) << Describe(r);
  r = Tongban("token --id inspector-3 --role inspectr");
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find(R"(did you mean "inspector"?)"), std::string::npos) << Describe(r);
  r = Tongban("token --id x --role 'Fire Reviewer'");
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  // Definitions that declare the role make it acceptable.
  std::string definitions = DefinitionsDeclaringSurveyor();
  r = Tongban("token --id surveyor-1 --role surveyor --organ dz-approval-bureau --definitions " +
              Quote(definitions));
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.out.find(R"("roles":["surveyor"])"), std::string::npos) << Describe(r);
  std::error_code ignored;
  fs::remove_all(definitions, ignored);
}

// A mistyped case id is not damage (exit 1 would send an auditor looking for tampering): exit 3, as
// replay says it. An unknown --format is wrong usage, not text.
TEST(CliVerify, AnUnknownCaseAndAnUnknownFormat) {
  // A database of every shipped scenario (an older schema, read as it is).
  std::string db = TempPath(".db");
  fs::copy_file(kSourceDir + "/engine/testdata/store-v2.db", db);
  RunResult r = Tongban("verify --db " + Quote(db) + " --case c-nope");
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_NE(r.err.find("no case c-nope in " + db), std::string::npos) << Describe(r);
  EXPECT_EQ(r.out.find("BROKEN"), std::string::npos) << Describe(r);
  for (const char* command : {"verify", "replay"}) {
    r = Tongban(std::string(command) + " --db " + Quote(db) + " --case c-nope --format yaml");
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_NE(r.err.find("--format must be text or json"), std::string::npos) << Describe(r);
  }
  r = Tongban("verify --db " + Quote(db));
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  for (const char* suffix : {"", "-wal", "-shm"})
    std::remove((db + suffix).c_str());
}

// The line printed must load where it is pasted: what the principals file refuses, token refuses,
// naming the option; nothing is printed.
TEST(CliToken, ALineThePrincipalsFileWouldRefuseIsNotPrinted) {
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"token --id 'Bad Id' --role clerk --organ dz-approval-bureau", "--id: \"Bad Id\""},
      {"token --id app-x --role applicant", "applicants need \"credit_code\""},
      {"token --id clerk-y --role clerk", "staff principals need \"organ\""},
      {"token --id app-z --role applicant --credit-code 12345",
       "--credit-code: \"12345\" is not a valid unified social credit code"},
      {"token --id c1 --role clerk --organ dz-approval-bureau --definitions /no/such/folder",
       "--definitions /no/such/folder is not a folder"},
  };
  for (const auto& [command, message] : refused) {
    SCOPED_TRACE(command);
    RunResult r = Tongban(command);
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_NE(r.err.find(message), std::string::npos) << Describe(r);
    EXPECT_EQ(r.out.find("token:"), std::string::npos) << Describe(r);
  }
  RunResult r = Tongban("token --id app-z --role applicant --credit-code 91330100MA2TB00014");
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.out.find(R"("credit_code":"91330100MA2TB00014")"), std::string::npos) << Describe(r);
}

// A principals file is JSON, so UTF-8: a name in another encoding is refused, not printed broken.
TEST(CliToken, ANameThatIsNotUtf8IsAUsageError) {
  RunResult r = Tongban("token --id reviewer-9 --role reviewer --name $(printf '\\377')");
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("must be UTF-8 text"), std::string::npos) << Describe(r);
  EXPECT_EQ(r.out.find("token:"), std::string::npos) << Describe(r);
}

// --- graph
// ----------------------------------------------------------------------------------------

TEST(CliGraph, EveryShippedItemRendersWithGraphviz) {
  if (std::system("command -v dot >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "Graphviz 'dot' is not installed";
  }
  std::vector<std::string> items = JsonFilesIn("definitions/items");
  ASSERT_FALSE(items.empty());
  for (const std::string& item : items) {
    SCOPED_TRACE(item);
    std::string svg = TempPath(".svg");
    // The exit code of the pipeline is dot's; the graph's own output is checked by running dot on
    // it, and the graph command's exit code separately below.
    RunResult rendered = RunShell(Quote(kBinary) + " graph " + Quote(item) +
                                  " --format dot | dot -Tsvg -o " + Quote(svg));
    EXPECT_EQ(rendered.exit_code, 0) << Describe(rendered);
    EXPECT_NE(ReadFile(svg).find("<svg"), std::string::npos) << "no SVG for " << item;
    std::remove(svg.c_str());

    RunResult dot = Tongban("graph " + Quote(item) + " --format dot");
    EXPECT_EQ(dot.exit_code, 0) << Describe(dot);
    EXPECT_EQ(dot.out.rfind("digraph", 0), 0u) << Describe(dot);
  }
}

// --rankdir lays the DOT out top to bottom (a page) or left to right (the default); it is refused
// with anything but a known direction and --format dot.
TEST(CliGraph, RankdirChangesTheDot) {
  const std::string item = "definitions/items/construction-permit.json";
  RunResult lr = Tongban("graph " + Quote(item) + " --format dot");
  RunResult tb = Tongban("graph " + Quote(item) + " --format dot --rankdir TB");
  ASSERT_EQ(tb.exit_code, 0) << Describe(tb);
  EXPECT_NE(lr.out.find("rankdir=LR;"), std::string::npos) << Describe(lr);
  EXPECT_NE(tb.out.find("rankdir=TB;"), std::string::npos) << Describe(tb);
  EXPECT_EQ(tb.out.find("rankdir=LR"), std::string::npos) << Describe(tb);
  EXPECT_EQ(Tongban("graph " + Quote(item) + " --format dot --rankdir LR").out, lr.out);
  // The edges carry the actions' titles, in the CJK font.
  EXPECT_NE(tb.out.find("[label=\"审查通过，提交决定\\n（条件："), std::string::npos)
      << Describe(tb);
  EXPECT_NE(tb.out.find("fontname=\"Noto Sans CJK SC\""), std::string::npos);
  EXPECT_EQ(Tongban("graph " + Quote(item) + " --format dot --rankdir BT").exit_code, 2);
  EXPECT_EQ(Tongban("graph " + Quote(item) + " --rankdir TB").exit_code, 2);
  EXPECT_NE(Tongban("graph --help").out.find("--rankdir"), std::string::npos);
}

TEST(CliGraph, EveryShippedItemDrawsAsMermaid) {
  for (const std::string& item : JsonFilesIn("definitions/items")) {
    SCOPED_TRACE(item);
    RunResult r = Tongban("graph " + Quote(item) + " --format mermaid");
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    EXPECT_EQ(r.out.rfind("stateDiagram-v2", 0), 0u) << Describe(r);
  }
}

TEST(CliGraph, BrokenItemExitsOneAndPrintsItsErrors) {
  RunResult r =
      Tongban(std::string("graph --with definitions/calendars ") + kBrokenStep + " --format dot");
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_TRUE(r.out.empty()) << Describe(r);
  EXPECT_NE(r.err.find(std::string(kBrokenStep) + ":39:11: error: unknown step \"decied\""),
            std::string::npos)
      << Describe(r);
}

TEST(CliGraph, BundleDrawsItsParts) {
  DefinitionsCopy copy;
  RunResult r = Tongban("graph " + Quote(copy.Path("bundles/startup.json")));
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out.rfind("flowchart LR\n", 0), 0u) << Describe(r);
  EXPECT_NE(r.out.find("p0 -->|\"when needs_seal == true\"| p1"), std::string::npos) << Describe(r);
  RunResult dot = Tongban("graph --format dot " + Quote(copy.Path("bundles/startup.json")));
  EXPECT_EQ(dot.exit_code, 0) << Describe(dot);
  EXPECT_NE(dot.out.find("p0 -> p1 [label=\"when needs_seal == true\"];"), std::string::npos)
      << Describe(dot);
  if (std::system("command -v dot >/dev/null 2>&1") != 0) GTEST_SKIP() << "no Graphviz 'dot'";
  std::string svg = TempPath(".svg");
  RunResult rendered =
      RunShell(Quote(kBinary) + " graph --format dot " + Quote(copy.Path("bundles/startup.json")) +
               " | dot -Tsvg -o " + Quote(svg));
  EXPECT_EQ(rendered.exit_code, 0) << Describe(rendered);
  EXPECT_NE(ReadFile(svg).find("<svg"), std::string::npos);
  std::remove(svg.c_str());
}

// Wrong usage, not a definition with errors (1): the argument is not something graph draws.
TEST(CliGraph, CalendarIsNotAnItem) {
  RunResult r = Tongban("graph definitions/calendars/cn-mainland.json");
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("is not an item or bundle definition"), std::string::npos) << Describe(r);
  // A folder holds many items; graph draws one, and does not pick one of them.
  r = Tongban("graph definitions/items");
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("definitions/items is a folder"), std::string::npos) << Describe(r);
  EXPECT_EQ(r.out, "") << Describe(r);
}

// --- bench http: the shape of its output, never its speed
// -----------------------------------------

// A fraction of a second per phase and a few clients: enough for every figure to be printed.
const char* kQuickHttpBench = "bench http --seconds 0.2 --connections 4";

TEST(CliBenchHttp, SqliteAloneIsOneConfigurationInJson) {
  RunResult r = Tongban(std::string(kQuickHttpBench) + " --format json");
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  nlohmann::json out = nlohmann::json::parse(r.out);
  EXPECT_EQ(out["benchmark"], "http");
  EXPECT_EQ(out["failed_requests"], 0);
  ASSERT_EQ(out["rounds"].size(), 1u) << r.out;
  ASSERT_EQ(out["rounds"][0]["configurations"].size(), 1u) << r.out;
  const nlohmann::json& sqlite = out["rounds"][0]["configurations"][0];
  EXPECT_EQ(sqlite["configuration"], "sqlite-1");
  EXPECT_EQ(sqlite["store"], "sqlite");
  EXPECT_EQ(sqlite["nodes"], 1);
  for (const char* figure :
       {"healthz_per_second", "transitions_per_second", "transition_p50_ms", "transition_p99_ms",
        "node_cpu_us_per_transition", "ratio_to_ceiling"}) {
    EXPECT_TRUE(sqlite[figure].is_number()) << figure << " in " << r.out;
  }
  EXPECT_TRUE(sqlite["database_cpu_us_per_transition"].is_null()) << r.out;
  EXPECT_EQ(sqlite["ratio_to_sqlite"], 1.0);
  EXPECT_EQ(out["rounds"][0]["load_average"].size(), 3u) << r.out;
}

TEST(CliBenchHttp, NodesWithoutPostgresAndABadDatabaseAreRefused) {
  RunResult nodes = Tongban(std::string(kQuickHttpBench) + " --nodes 2");
  EXPECT_EQ(nodes.exit_code, 2) << Describe(nodes);
  EXPECT_NE(nodes.err.find("--nodes needs --postgres"), std::string::npos) << Describe(nodes);
  RunResult rounds = Tongban(std::string(kQuickHttpBench) + " --rounds 0");
  EXPECT_EQ(rounds.exit_code, 2) << Describe(rounds);
  // No server listens there: the benchmark cannot run (3), and says so before measuring anything.
  RunResult away = Tongban(std::string(kQuickHttpBench) + " --postgres " +
                           Quote("postgresql:///none?host=" + TempPath("-no-socket")));
  EXPECT_EQ(away.exit_code, 3) << Describe(away);
  EXPECT_NE(away.err.find("--postgres: cannot make the scratch schema"), std::string::npos)
      << Describe(away);
  EXPECT_EQ(away.out, "") << Describe(away);
}

// With a PostgreSQL cluster (TONGBAN_TEST_POSTGRES; tools/test.sh starts one): the three
// configurations of one round, each with its ratio to the SQLite node, in text and JSON, and no
// scratch schema left behind.
TEST(CliBenchHttp, PostgresOneAndTwoNodesAgainstSqlite) {
  const char* postgres = std::getenv("TONGBAN_TEST_POSTGRES");
  if (postgres == nullptr || *postgres == '\0') {
    GTEST_SKIP() << "TONGBAN_TEST_POSTGRES is unset (tools/pg_cluster.sh start DIR prints one)";
  }
  RunResult r =
      Tongban(std::string(kQuickHttpBench) + " --postgres " + Quote(postgres) + " --format json");
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  nlohmann::json out = nlohmann::json::parse(r.out);
  EXPECT_EQ(out["synchronous_commit"], "on");
  const nlohmann::json& round = out["rounds"][0]["configurations"];
  ASSERT_EQ(round.size(), 3u) << r.out;
  EXPECT_EQ(round[0]["configuration"], "sqlite-1");
  EXPECT_EQ(round[1]["configuration"], "postgresql-1");
  EXPECT_EQ(round[2]["configuration"], "postgresql-2");
  EXPECT_EQ(round[2]["nodes"], 2);
  EXPECT_EQ(round[2]["store"], "postgresql");
  for (size_t i = 1; i < 3; ++i) {
    EXPECT_TRUE(round[i]["ratio_to_sqlite"].is_number()) << r.out;
    EXPECT_GT(round[i]["transitions_per_second"].get<double>(), 0) << r.out;
  }
  ASSERT_EQ(out["summary"].size(), 3u) << r.out;
  EXPECT_EQ(out["summary"][1]["configuration"], "postgresql-1");
  EXPECT_EQ(out["summary"][1]["goal"]["ratio_to_sqlite_at_least"], 0.5);
  EXPECT_TRUE(out["summary"][1]["goal"]["met"].is_boolean()) << r.out;

  RunResult text =
      Tongban(std::string(kQuickHttpBench) + " --postgres " + Quote(postgres) + " --nodes 3");
  ASSERT_EQ(text.exit_code, 0) << Describe(text);
  EXPECT_NE(text.out.find("PostgreSQL synchronous_commit=on"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("  postgresql-3 "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("ratio postgresql-1 / sqlite-1: median "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("ratio postgresql-3 / sqlite-1: median "), std::string::npos) << text.out;

  PGconn* conn = PQconnectdb(postgres);
  ASSERT_EQ(PQstatus(conn), CONNECTION_OK) << PQerrorMessage(conn);
  PGresult* left = PQexec(conn,
                          "SELECT count(*) FROM information_schema.schemata "
                          "WHERE schema_name LIKE 'tongban_bench_http_%'");
  EXPECT_STREQ(PQgetvalue(left, 0, 0), "0") << "scratch schemas left behind";
  PQclear(left);
  PQfinish(conn);
}

}  // namespace
