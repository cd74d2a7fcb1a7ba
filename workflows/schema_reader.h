// ObjectReader: reads one JSON object of a definition against its expected keys and types.
//
// Every compiler in workflows/ reads its input through this class so that all of them report the
// same kinds of mistakes the same way: unknown keys (with "did you mean"), missing required keys,
// wrong types and values outside an enumeration. Reading never stops at the first mistake; each
// accessor reports into the sink and returns a fallback so the caller can keep checking the rest.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "workflows/diagnostics.h"

namespace tongban {

// The name of a JSON value's type as a modeller would say it ("a string", "an array", ...).
std::string JsonTypeName(const nlohmann::json& value);

class ObjectReader {
 public:
  // `allowed_keys` lists every key the object may have; any other key is reported.
  // If `value` is not an object, that is reported once and every accessor yields nothing.
  ObjectReader(const nlohmann::json& value, std::string pointer, DiagnosticSink* sink,
               std::vector<std::string> allowed_keys);

  bool valid() const { return valid_; }
  const std::string& pointer() const { return pointer_; }
  std::string PointerOf(const std::string& key) const;
  bool Has(const std::string& key) const;
  const nlohmann::json* Get(const std::string& key) const;

  std::optional<std::string> String(const std::string& key, bool required);
  // A string that is an identifier: lower-case letters, digits, '-' and '_', starting with a
  // letter.
  std::optional<std::string> Slug(const std::string& key, bool required);
  std::optional<int64_t> Integer(const std::string& key, bool required, int64_t min_value,
                                 int64_t max_value);
  std::optional<double> Number(const std::string& key, bool required);
  std::optional<bool> Boolean(const std::string& key, bool required);
  std::optional<std::string> Enum(const std::string& key, bool required,
                                  const std::vector<std::string>& values);
  // Returns the array (possibly empty) or nullptr when absent/wrong; reports a wrong type.
  const nlohmann::json* Array(const std::string& key, bool required);
  const nlohmann::json* Object(const std::string& key, bool required);

 private:
  const nlohmann::json* Typed(const std::string& key, bool required,
                              bool (*check)(const nlohmann::json&), const char* expected);

  const nlohmann::json& value_;
  std::string pointer_;
  DiagnosticSink* sink_;
  bool valid_ = false;
};

bool IsSlug(const std::string& text);

// Checks a string against "YYYY-MM-DD" and a real calendar date.
bool IsIsoDate(const std::string& text);

}  // namespace tongban
