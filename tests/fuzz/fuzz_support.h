// What the fuzz harnesses share: the repository's files, read once, so that a harness touches the
// disk only in its set-up, never per input.
//
// Thread safety: libFuzzer calls a harness from one thread; nothing here is thread-safe.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace tongban::fuzz {

// The repository root (TONGBAN_SOURCE_DIR, compiled in).
const std::string& SourceDir();

// The text of a file; empty when it cannot be read.
std::string ReadFile(const std::string& path);

// (path relative to the repository root, text) of every *.json file below `relative_dir`,
// sorted by path.
std::vector<std::pair<std::string, std::string>> JsonFilesUnder(const std::string& relative_dir);

// Every shipped definition but the principals (calendars, items, delegation lists, agreements,
// bundles), read once: the context a fuzzed definition or scenario is compiled beside.
const std::vector<std::pair<std::string, std::string>>& ShippedDefinitions();

}  // namespace tongban::fuzz
