// Small helpers shared by the `tongban` subcommands: argument parsing, exit codes, terminal output.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tongban::cli {

// Exit codes every subcommand uses.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the work was done and found problems (invalid, broken)
inline constexpr int kExitUsage = 2;    // the command line itself was wrong
inline constexpr int kExitError = 3;    // the work could not be done (I/O, database)

// Parses "--name value", "--name=value" and "--flag"; everything else is positional.
// `flags` lists options without a value; `multi` lists options that may repeat.
class Args {
 public:
  Args(int argc, char** argv, int first, std::vector<std::string> flags,
       std::vector<std::string> with_value);

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  bool Has(const std::string& name) const { return values_.count(name) != 0; }
  std::optional<std::string> Get(const std::string& name) const;
  std::vector<std::string> GetAll(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::multimap<std::string, std::string> values_;
  std::vector<std::string> positional_;
  std::string error_;
};

// Prints "tongban SUBCOMMAND: message" and the hint to use --help; returns kExitUsage.
int UsageError(const std::string& subcommand, const std::string& message);

// For commands that print text for people or JSON for machines: the usage error (exit 2) of a
// --format other than text or json, or nullopt when --format is one of them or absent.
std::optional<int> TextOrJsonFormatError(const Args& args, const std::string& subcommand);
// Whether --format asks for JSON (absent means text).
bool WantsJson(const Args& args);

// `text` as a count from 1 to `max`, all digits; nullopt otherwise (no sign, no "12abc").
std::optional<long> ParseCount(const std::string& text, long max);

bool StderrIsTerminal();

// `value` as `--format json` prints it: indented by two, with a byte that is not UTF-8 (a file's
// name, text read from elsewhere) printed as U+FFFD instead of failing the whole output.
std::string PrettyJson(const nlohmann::json& value);

// A progress line on a terminal ("verifying 1200/5000 cases"), redrawn in place; silent otherwise.
class Progress {
 public:
  explicit Progress(std::string what) : what_(std::move(what)), enabled_(StderrIsTerminal()) {}
  ~Progress() { Done(); }
  void Update(long done, long total);
  void Done();

 private:
  std::string what_;
  bool enabled_;
  bool shown_ = false;
  long last_percent_ = -1;
};

}  // namespace tongban::cli
