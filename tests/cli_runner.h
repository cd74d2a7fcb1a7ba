// The `tongban` binary as the command-line tests run it: from the repository root, as a modeller
// or a CI job would, with its exit code, stdout and stderr captured; and the temporary files and
// definition folders those tests need. Shared by the cli_*_test.cc files of integration_test.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tongban::cli_test {

namespace fs = std::filesystem;

inline const std::string kBinary = TONGBAN_BINARY;
inline const std::string kSourceDir = TONGBAN_SOURCE_DIR;
// A definition with one error (an unknown step in a transition), at a known line and column.
inline constexpr const char* kBrokenStep = "tests/definitions/broken/11-unknown-step-in-to.json";

struct RunResult {
  int exit_code = -1;
  std::string out;  // standard output
  std::string err;  // standard error
};

// Single-quotes a word for /bin/sh.
std::string Quote(const std::string& word);
// A file name under the test's temporary directory, unique within this process.
std::string TempPath(const std::string& suffix);
std::string ReadFile(const std::string& path);
// Runs a shell command in the repository root; captures its exit code, stdout and stderr.
RunResult RunShell(const std::string& command);
// Runs `tongban ARGS` (ARGS already quoted where needed) in the repository root.
RunResult Tongban(const std::string& args);
// The result as a failure message shows it.
std::string Describe(const RunResult& r);
std::vector<std::string> Lines(const std::string& text);
bool HasLine(const std::string& text, const std::string& line);
// The *.json files of a folder of the repository (but expected.json), as relative paths, sorted.
std::vector<std::string> JsonFilesIn(const std::string& relative_dir);
// tests/definitions/CORPUS/expected.json.
nlohmann::json ReadExpected(const std::string& corpus);

// A copy of the shipped calendars, items and delegations, with a bundle and an agreements list in
// folders of their own beside them: the layout a bureau keeps its definitions in. Removed when
// destroyed.
class DefinitionsCopy {
 public:
  DefinitionsCopy();
  ~DefinitionsCopy();
  DefinitionsCopy(const DefinitionsCopy&) = delete;
  DefinitionsCopy& operator=(const DefinitionsCopy&) = delete;
  std::string Path(const std::string& relative) const { return (root_ / relative).string(); }

 private:
  fs::path root_;
};

}  // namespace tongban::cli_test
