// Data-driven tests over the definition corpora in tests/definitions/.
//
// broken/   one file per kind of modelling mistake; each must fail validation with the diagnostics
//           listed for it in broken/expected.json.
// warnings/ valid definitions that must validate with warnings only, listed in
// warnings/expected.json.
//
// Every file is loaded on its own into a DefinitionSet, with the shipped calendars, items and
// delegation lists as context, exactly as `tongban validate --with definitions/calendars --with
// definitions/items --with definitions/delegations FILE` does (bundles and handling agreements
// refer to the shipped items). There is one test per file, named after it, so a failure says which
// mistake the validator stopped catching.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workflows/definition_set.h"
#include "workflows/diagnostics.h"
#include "workflows/json_document.h"

namespace tongban {
namespace {

namespace fs = std::filesystem;

const std::string kSourceDir = TONGBAN_SOURCE_DIR;
constexpr const char* kExpectedFile = "expected.json";

std::string CorpusDir(const std::string& corpus) {
  return kSourceDir + "/tests/definitions/" + corpus;
}

// The definition files of a corpus (every *.json except expected.json), sorted by name.
std::vector<std::string> CorpusFiles(const std::string& corpus) {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(CorpusDir(corpus), error)) {
    const fs::path& path = entry.path();
    if (entry.is_regular_file() && path.extension() == ".json" &&
        path.filename() != kExpectedFile) {
      names.push_back(path.filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Reads a corpus's expected.json with Tongban's own strict parser, so that a file listed twice (a
// duplicate key) is refused instead of silently keeping the last entry.
nlohmann::json LoadExpected(const std::string& corpus) {
  std::string path = CorpusDir(corpus) + "/" + kExpectedFile;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    return nlohmann::json::object();
  }
  std::ostringstream text;
  text << in.rdbuf();
  SourcePosition position;
  Result<JsonDocument> document = JsonDocument::Parse(text.str(), &position);
  if (!document.ok()) {
    ADD_FAILURE() << path << ":" << position.line << ":" << position.column << ": "
                  << document.status().message();
    return nlohmann::json::object();
  }
  if (!document.value().root().is_object()) {
    ADD_FAILURE() << path << ": expected an object of file name -> diagnostics";
    return nlohmann::json::object();
  }
  return document.value().root();
}

std::string SeverityName(Severity severity) {
  return severity == Severity::kError ? "error" : "warning";
}

std::string Describe(const Diagnostic& d) {
  return FormatDiagnostic(d) + " {code: " + d.code + "}";
}

std::string DescribeAll(const std::vector<Diagnostic>& diagnostics) {
  if (diagnostics.empty()) return "  (no diagnostics)\n";
  std::string out;
  for (const Diagnostic& d : diagnostics)
    out += "  " + Describe(d) + "\n";
  return out;
}

// Checks that an expectation has the fields the tests read, with the right types.
testing::AssertionResult WellFormed(const nlohmann::json& expectation) {
  if (!expectation.is_object()) return testing::AssertionFailure() << "not an object";
  static const std::set<std::string> known = {"code",   "pointer",          "line",
                                              "column", "message_contains", "severity"};
  for (const auto& [key, value] : expectation.items()) {
    if (known.count(key) == 0)
      return testing::AssertionFailure() << "unknown key \"" << key << "\"";
  }
  for (const char* key : {"code", "pointer", "message_contains"}) {
    if (!expectation.contains(key) || !expectation[key].is_string()) {
      return testing::AssertionFailure() << "\"" << key << "\" is required and must be a string";
    }
  }
  for (const char* key : {"line", "column"}) {
    if (expectation.contains(key) && !expectation[key].is_number_integer()) {
      return testing::AssertionFailure() << "\"" << key << "\" must be an integer";
    }
  }
  if (expectation.contains("column") && !expectation.contains("line")) {
    return testing::AssertionFailure() << "\"column\" is given without \"line\"";
  }
  if (expectation.contains("severity") && expectation["severity"] != "error" &&
      expectation["severity"] != "warning") {
    return testing::AssertionFailure() << "\"severity\" must be \"error\" or \"warning\"";
  }
  return testing::AssertionSuccess();
}

bool Matches(const nlohmann::json& expectation, const Diagnostic& d) {
  if (d.code != expectation["code"].get<std::string>()) return false;
  if (d.pointer != expectation["pointer"].get<std::string>()) return false;
  if (expectation.contains("line") && d.position.line != expectation["line"].get<int>())
    return false;
  if (expectation.contains("column") && d.position.column != expectation["column"].get<int>()) {
    return false;
  }
  if (expectation.contains("severity") &&
      SeverityName(d.severity) != expectation["severity"].get<std::string>()) {
    return false;
  }
  return d.message.find(expectation["message_contains"].get<std::string>()) != std::string::npos;
}

struct CorpusFile {
  std::string corpus;  // "broken" or "warnings"
  std::string name;    // file name inside the corpus folder
};

// How gtest prints a parameter in failure messages: "broken/01-json-syntax.json".
void PrintTo(const CorpusFile& file, std::ostream* os) {
  *os << file.corpus << "/" << file.name;
}

// Test names may hold letters, digits and '_' only: "01-json-syntax.json" becomes "01_json_syntax".
std::string TestName(const testing::TestParamInfo<CorpusFile>& info) {
  std::string name = fs::path(info.param.name).stem().string();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

std::vector<CorpusFile> Files(const std::string& corpus) {
  std::vector<CorpusFile> files;
  for (const std::string& name : CorpusFiles(corpus))
    files.push_back({corpus, name});
  return files;
}

class DefinitionCorpusTest : public testing::TestWithParam<CorpusFile> {};

TEST_P(DefinitionCorpusTest, ReportsExpectedDiagnostics) {
  const CorpusFile& file = GetParam();
  const bool broken = file.corpus == "broken";
  const std::string path = CorpusDir(file.corpus) + "/" + file.name;

  nlohmann::json expected_all = LoadExpected(file.corpus);
  ASSERT_TRUE(expected_all.contains(file.name))
      << file.name << " has no entry in tests/definitions/" << file.corpus << "/" << kExpectedFile;
  const nlohmann::json& expected = expected_all[file.name];
  ASSERT_TRUE(expected.is_array()) << "the entry of " << file.name << " must be an array";
  ASSERT_FALSE(expected.empty()) << "the entry of " << file.name << " lists no diagnostics";

  DefinitionSet set;
  set.AddPath(path, /*report=*/true);
  for (const char* context : {"calendars", "items", "delegations"})
    set.AddPath(kSourceDir + "/definitions/" + context, /*report=*/false);
  set.Compile();
  const std::vector<Diagnostic> diagnostics = set.Diagnostics();

  for (size_t i = 0; i < expected.size(); ++i) {
    const nlohmann::json& expectation = expected[i];
    ASSERT_TRUE(WellFormed(expectation)) << file.name << ": expectation " << i << " is malformed";
    bool found = std::any_of(diagnostics.begin(), diagnostics.end(),
                             [&](const Diagnostic& d) { return Matches(expectation, d); });
    EXPECT_TRUE(found) << "expected diagnostic not reported: " << expectation.dump() << "\n"
                       << "reported for " << file.name << ":\n"
                       << DescribeAll(diagnostics);
  }

  if (broken) {
    EXPECT_TRUE(set.HasErrors()) << file.name << " should not validate, but it does:\n"
                                 << DescribeAll(diagnostics);
  } else {
    EXPECT_FALSE(set.HasErrors()) << file.name << " should be valid (warnings only):\n"
                                  << DescribeAll(diagnostics);
    EXPECT_FALSE(diagnostics.empty()) << file.name << " should give at least one warning";
  }
}

INSTANTIATE_TEST_SUITE_P(Broken, DefinitionCorpusTest, testing::ValuesIn(Files("broken")),
                         TestName);
INSTANTIATE_TEST_SUITE_P(Warnings, DefinitionCorpusTest, testing::ValuesIn(Files("warnings")),
                         TestName);

// expected.json and the folder must agree: a file without expectations would test nothing, and an
// expectation without its file is a case that was renamed or lost.
void CheckCorpusMatchesExpected(const std::string& corpus) {
  ASSERT_TRUE(fs::is_directory(CorpusDir(corpus))) << CorpusDir(corpus) << " is missing";
  const std::vector<std::string> files = CorpusFiles(corpus);
  EXPECT_FALSE(files.empty()) << "no definitions in " << CorpusDir(corpus);
  const nlohmann::json expected = LoadExpected(corpus);
  for (const std::string& name : files) {
    EXPECT_TRUE(expected.contains(name))
        << name << " is in tests/definitions/" << corpus << "/ but not in " << kExpectedFile;
  }
  for (const auto& [name, unused] : expected.items()) {
    EXPECT_TRUE(std::find(files.begin(), files.end(), name) != files.end())
        << kExpectedFile << " lists " << name << ", which is not in tests/definitions/" << corpus
        << "/";
  }
}

TEST(DefinitionCorpus, BrokenFilesAndExpectationsAgree) {
  CheckCorpusMatchesExpected("broken");
}

TEST(DefinitionCorpus, WarningFilesAndExpectationsAgree) {
  CheckCorpusMatchesExpected("warnings");
}

// A broken case is only useful when its mistake is the one thing wrong with it, so that the
// diagnostics listed are the whole story. The JSON-level cases aside, every broken file must parse.
TEST(DefinitionCorpus, BrokenFilesAreStrictJsonUnlessThatIsTheMistake) {
  const nlohmann::json expected = LoadExpected("broken");
  for (const std::string& name : CorpusFiles("broken")) {
    if (!expected.contains(name) || !expected[name].is_array()) continue;
    bool syntax_case =
        std::any_of(expected[name].begin(), expected[name].end(), [](const nlohmann::json& e) {
          return e.is_object() && e.value("code", "") == "json-syntax";
        });
    std::ifstream in(CorpusDir("broken") + "/" + name, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    Result<JsonDocument> document = JsonDocument::Parse(text.str());
    EXPECT_EQ(document.ok(), !syntax_case)
        << name
        << (syntax_case ? " is listed as a JSON syntax case but parses"
                        : " does not parse, but its mistake is not listed as json-syntax");
  }
}

}  // namespace
}  // namespace tongban
