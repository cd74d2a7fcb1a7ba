#include "tools/cli.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <iostream>

namespace tongban::cli {

Args::Args(int argc, char** argv, int first, std::vector<std::string> flags,
           std::vector<std::string> with_value) {
  auto contains = [](const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  for (int i = first; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") {
      for (++i; i < argc; ++i)
        positional_.push_back(argv[i]);
      break;
    }
    if (arg.rfind("--", 0) != 0 || arg == "-") {
      positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::optional<std::string> value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (contains(flags, name)) {
      if (value) {
        error_ = "--" + name + " takes no value";
        return;
      }
      values_.emplace(name, "");
    } else if (contains(with_value, name)) {
      if (!value) {
        if (i + 1 >= argc) {
          error_ = "--" + name + " needs a value";
          return;
        }
        value = argv[++i];
      }
      values_.emplace(name, *value);
    } else {
      error_ = "unknown option --" + name;
      return;
    }
  }
}

std::optional<std::string> Args::Get(const std::string& name) const {
  auto range = values_.equal_range(name);
  if (range.first == range.second) return std::nullopt;
  return std::prev(range.second)->second;  // the last one wins
}

std::vector<std::string> Args::GetAll(const std::string& name) const {
  std::vector<std::string> out;
  auto range = values_.equal_range(name);
  for (auto it = range.first; it != range.second; ++it)
    out.push_back(it->second);
  return out;
}

int UsageError(const std::string& subcommand, const std::string& message) {
  std::cerr << "tongban " << subcommand << ": " << message << "\n"
            << "Try 'tongban " << subcommand << " --help'.\n";
  return kExitUsage;
}

std::optional<int> TextOrJsonFormatError(const Args& args, const std::string& subcommand) {
  const std::string format = args.Get("format").value_or("text");
  if (format == "text" || format == "json") return std::nullopt;
  return UsageError(subcommand, "--format must be text or json, not \"" + format + "\"");
}

bool WantsJson(const Args& args) {
  return args.Get("format").value_or("text") == "json";
}

std::optional<long> ParseCount(const std::string& text, long max) {
  if (text.empty() || text.size() > 18 || text.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  long value = std::stol(text);
  if (value < 1 || value > max) return std::nullopt;
  return value;
}

std::string PrettyJson(const nlohmann::json& value) {
  return value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool StderrIsTerminal() {
  return isatty(STDERR_FILENO) == 1;
}

void Progress::Update(long done, long total) {
  if (!enabled_) return;
  long percent = total > 0 ? done * 100 / total : 0;
  if (percent == last_percent_ && done != total) return;
  last_percent_ = percent;
  std::fprintf(stderr, "\r%s %ld/%ld (%ld%%)", what_.c_str(), done, total, percent);
  std::fflush(stderr);
  shown_ = true;
}

void Progress::Done() {
  if (shown_) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
    shown_ = false;
  }
}

}  // namespace tongban::cli
