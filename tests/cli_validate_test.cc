// `tongban validate`, the real binary: exit codes, the compiler format, --format json.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/cli_runner.h"

namespace tongban::cli_test {
namespace {

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

TEST(CliValidate, JsonFormatOfValidDefinitions) {
  RunResult r = Tongban("validate --format json definitions/");
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  nlohmann::json out = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(out.is_discarded()) << "not JSON:\n" << Describe(r);
  EXPECT_EQ(out.value("valid", false), true);
  EXPECT_EQ(out.value("errors", -1), 0);
  EXPECT_GE(out.value("files", 0), 6);
}

// A path that is not there — to check, or to load with --with — is work that cannot be done
// (exit 3, naming it), never "1 file checked" nor a silent pass without the context it names.
TEST(CliValidate, APathThatIsNotThereIsNamedAndExitsThree) {
  RunResult r = Tongban("validate definitions/items/no-such-item.json");
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_NE(r.err.find("definitions/items/no-such-item.json: no such file or folder"),
            std::string::npos)
      << Describe(r);
  EXPECT_EQ(r.out, "") << Describe(r);
  r = Tongban("validate --with definitions/calendar definitions/items/construction-permit.json");
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_NE(r.err.find("definitions/calendar: no such file or folder"), std::string::npos)
      << Describe(r);
  r = Tongban("validate --with definitions/calendars definitions/items/construction-permit.json");
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
}

}  // namespace
}  // namespace tongban::cli_test
