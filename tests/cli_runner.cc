#include "tests/cli_runner.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace tongban::cli_test {

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

DefinitionsCopy::DefinitionsCopy() : root_(TempPath("-definitions")) {
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

DefinitionsCopy::~DefinitionsCopy() {
  std::error_code ignored;
  fs::remove_all(root_, ignored);
}

}  // namespace tongban::cli_test
