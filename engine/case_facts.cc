#include "engine/case_facts.h"

#include <charconv>

namespace tongban {

std::string EncodeCounters(const std::map<std::string, int64_t>& counters) {
  std::string out;
  for (const auto& [name, value] : counters) {
    if (value == 0) continue;
    if (!out.empty()) out += ',';
    out += name;
    out += '=';
    out += std::to_string(value);
  }
  return out;
}

std::map<std::string, int64_t> DecodeCounters(std::string_view text) {
  std::map<std::string, int64_t> counters;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view pair = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const size_t equals = pair.find('=');
    if (equals == std::string_view::npos) continue;
    int64_t value = 0;
    std::string_view digits = pair.substr(equals + 1);
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (error != std::errc() || end != digits.data() + digits.size()) continue;
    counters[std::string(pair.substr(0, equals))] += value;
  }
  return counters;
}

}  // namespace tongban
