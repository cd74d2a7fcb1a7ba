#include "workflows/schema_reader.h"

#include <algorithm>
#include <chrono>

namespace tongban {

std::string JsonTypeName(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      return "an integer";
    case nlohmann::json::value_t::number_float:
      return "a number";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::array:
      return "an array";
    case nlohmann::json::value_t::object:
      return "an object";
    default:
      return "an unsupported value";
  }
}

bool IsSlug(const std::string& text) {
  if (text.empty() || text.size() > 64) return false;
  if (!(text[0] >= 'a' && text[0] <= 'z')) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
  });
}

bool IsIsoDate(const std::string& text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  int y = std::stoi(text.substr(0, 4));
  unsigned m = static_cast<unsigned>(std::stoi(text.substr(5, 2)));
  unsigned d = static_cast<unsigned>(std::stoi(text.substr(8, 2)));
  return std::chrono::year_month_day(std::chrono::year(y), std::chrono::month(m),
                                     std::chrono::day(d))
      .ok();
}

ObjectReader::ObjectReader(const nlohmann::json& value, std::string pointer, DiagnosticSink* sink,
                           std::vector<std::string> allowed_keys)
    : value_(value), pointer_(std::move(pointer)), sink_(sink) {
  if (!value_.is_object()) {
    sink_->Error(pointer_, "wrong-type", "expected an object here, found " + JsonTypeName(value_));
    return;
  }
  valid_ = true;
  for (const auto& [key, unused] : value_.items()) {
    if (std::find(allowed_keys.begin(), allowed_keys.end(), key) != allowed_keys.end()) continue;
    std::string message = "unknown key \"" + key + "\"";
    std::string suggestion = ClosestMatch(key, allowed_keys);
    if (!suggestion.empty()) message += "; did you mean \"" + suggestion + "\"?";
    sink_->Error(JoinJsonPointer(pointer_, key), "unknown-key", message);
  }
}

std::string ObjectReader::PointerOf(const std::string& key) const {
  return JoinJsonPointer(pointer_, key);
}

bool ObjectReader::Has(const std::string& key) const {
  return valid_ && value_.contains(key);
}

const nlohmann::json* ObjectReader::Get(const std::string& key) const {
  if (!Has(key)) return nullptr;
  return &value_.at(key);
}

const nlohmann::json* ObjectReader::Typed(const std::string& key, bool required,
                                          bool (*check)(const nlohmann::json&),
                                          const char* expected) {
  if (!valid_) return nullptr;
  auto it = value_.find(key);
  if (it == value_.end()) {
    if (required) {
      sink_->Error(pointer_, "missing-key", "missing required key \"" + key + "\"");
    }
    return nullptr;
  }
  if (!check(*it)) {
    sink_->Error(PointerOf(key), "wrong-type",
                 "\"" + key + "\" must be " + expected + ", found " + JsonTypeName(*it));
    return nullptr;
  }
  return &*it;
}

std::optional<std::string> ObjectReader::String(const std::string& key, bool required) {
  const nlohmann::json* v = Typed(
      key, required, [](const nlohmann::json& j) { return j.is_string(); }, "a string");
  if (v == nullptr) return std::nullopt;
  std::string s = v->get<std::string>();
  if (s.empty() && required) {
    sink_->Error(PointerOf(key), "empty-string", "\"" + key + "\" must not be empty");
  }
  return s;
}

std::optional<std::string> ObjectReader::Slug(const std::string& key, bool required) {
  std::optional<std::string> s = String(key, required);
  if (s && !IsSlug(*s)) {
    sink_->Error(PointerOf(key), "bad-id",
                 "\"" + *s +
                     "\" is not a valid id: use lower-case letters, digits, '-' and '_', "
                     "starting with a letter (at most 64 characters)");
  }
  return s;
}

std::optional<int64_t> ObjectReader::Integer(const std::string& key, bool required,
                                             int64_t min_value, int64_t max_value) {
  const nlohmann::json* v = Typed(
      key, required,
      [](const nlohmann::json& j) { return j.is_number_integer() || j.is_number_unsigned(); },
      "a whole number");
  if (v == nullptr) return std::nullopt;
  int64_t n = v->is_number_unsigned()
                  ? static_cast<int64_t>(std::min<uint64_t>(v->get<uint64_t>(), INT64_MAX))
                  : v->get<int64_t>();
  if (n < min_value || n > max_value) {
    sink_->Error(PointerOf(key), "out-of-range",
                 "\"" + key + "\" must be between " + std::to_string(min_value) + " and " +
                     std::to_string(max_value) + ", found " + std::to_string(n));
    return std::nullopt;
  }
  return n;
}

std::optional<double> ObjectReader::Number(const std::string& key, bool required) {
  const nlohmann::json* v = Typed(
      key, required, [](const nlohmann::json& j) { return j.is_number(); }, "a number");
  if (v == nullptr) return std::nullopt;
  return v->get<double>();
}

std::optional<bool> ObjectReader::Boolean(const std::string& key, bool required) {
  const nlohmann::json* v = Typed(
      key, required, [](const nlohmann::json& j) { return j.is_boolean(); }, "true or false");
  if (v == nullptr) return std::nullopt;
  return v->get<bool>();
}

std::optional<std::string> ObjectReader::Enum(const std::string& key, bool required,
                                              const std::vector<std::string>& values) {
  std::optional<std::string> s = String(key, required);
  if (!s) return std::nullopt;
  if (std::find(values.begin(), values.end(), *s) != values.end()) return s;
  std::string list;
  for (const std::string& v : values)
    list += (list.empty() ? "" : ", ") + v;
  std::string message = "\"" + key + "\" must be one of " + list + "; found \"" + *s + "\"";
  std::string suggestion = ClosestMatch(*s, values);
  if (!suggestion.empty()) message += " (did you mean \"" + suggestion + "\"?)";
  sink_->Error(PointerOf(key), "bad-enum", message);
  return std::nullopt;
}

const nlohmann::json* ObjectReader::Array(const std::string& key, bool required) {
  return Typed(
      key, required, [](const nlohmann::json& j) { return j.is_array(); }, "an array");
}

const nlohmann::json* ObjectReader::Object(const std::string& key, bool required) {
  return Typed(
      key, required, [](const nlohmann::json& j) { return j.is_object(); }, "an object");
}

}  // namespace tongban
