#include "tests/fuzz/fuzz_support.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace tongban::fuzz {

namespace fs = std::filesystem;

const std::string& SourceDir() {
  static const std::string dir = TONGBAN_SOURCE_DIR;
  return dir;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::pair<std::string, std::string>> JsonFilesUnder(const std::string& relative_dir) {
  std::vector<std::pair<std::string, std::string>> files;
  const fs::path root = fs::path(SourceDir()) / relative_dir;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".json") continue;
    files.push_back({fs::relative(entry.path(), SourceDir()).string(), ReadFile(entry.path())});
  }
  std::sort(files.begin(), files.end());
  return files;
}

const std::vector<std::pair<std::string, std::string>>& ShippedDefinitions() {
  static const auto files = [] {
    std::vector<std::pair<std::string, std::string>> all;
    for (const char* dir : {"definitions/calendars", "definitions/items", "definitions/delegations",
                            "definitions/agreements", "definitions/bundles"}) {
      for (auto& file : JsonFilesUnder(dir))
        all.push_back(std::move(file));
    }
    return all;
  }();
  return files;
}

}  // namespace tongban::fuzz
